"""What the first release after 0.1.0 adds: the auditor portal (accounts, API tokens, sessions,
login attempts, access log), the hash-chained audit trail, Part 11 e-signatures and versioned
issued documents, EPCIS association and transaction records.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07

Every step is skipped where its result is already there: databases made by development builds
between 0.1.0 and this revision have some of these tables and columns already (created by
`create_all`, without a version stamp); they are stamped 0001 and brought here like a 0.1.0
database.

The two new NOT NULL columns of `issued_document` get server defaults equal to the model's
defaults (version 1, status DRAFT): the rows issued by 0.1.0 are first, unsigned versions, and a
0.1.0 process still running while the database is upgraded ahead of a deployment keeps issuing
documents (its INSERT names neither column).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_DOCUMENT_COLUMNS = ("file_path", "version", "supersedes", "status", "parameters")


def _absent(table: str) -> bool:
    return not sa.inspect(op.get_bind()).has_table(table)


def upgrade() -> None:
    if _absent("access_log"):
        op.create_table(
            "access_log",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("user_name", sa.String(), nullable=True),
            sa.Column("credential", sa.String(), nullable=True),
            sa.Column("method", sa.String(), nullable=False),
            sa.Column("route", sa.String(), nullable=True),
            sa.Column("path", sa.String(), nullable=False),
            sa.Column("parameters", sa.String(), nullable=False),
            sa.Column("status", sa.Integer(), nullable=False),
            sa.Column("result_bytes", sa.Integer(), nullable=False),
            sa.Column("result_rows", sa.Integer(), nullable=True),
            sa.Column("client", sa.String(), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(op.f("ix_access_log_at"), "access_log", ["at"], unique=False)
        op.create_index(op.f("ix_access_log_user_name"), "access_log", ["user_name"], unique=False)
    if _absent("api_token"):
        op.create_table(
            "api_token",
            sa.Column("token_sha256", sa.String(), nullable=False),
            sa.Column("prefix", sa.String(), nullable=False),
            sa.Column("user_name", sa.String(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("created_by", sa.String(), nullable=False),
            sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
            sa.PrimaryKeyConstraint("token_sha256"),
        )
        op.create_index(op.f("ix_api_token_user_name"), "api_token", ["user_name"], unique=False)
    if _absent("association_record"):
        op.create_table(
            "association_record",
            sa.Column("ref_doc_type", sa.String(), nullable=True),
            sa.Column("ref_doc_number", sa.String(), nullable=True),
            sa.Column("action", sa.String(), nullable=False),
            sa.Column("child_id", sa.String(), nullable=False),
            sa.Column("gtin", sa.String(), nullable=True),
            sa.Column("lot", sa.String(), nullable=True),
            sa.Column("serial", sa.String(), nullable=True),
            sa.Column("sscc", sa.String(), nullable=True),
            sa.Column("quantity", sa.Float(), nullable=True),
            sa.Column("uom", sa.String(), nullable=True),
            sa.Column("location_id", sa.String(), nullable=True),
            sa.Column("record_hash", sa.String(), nullable=False),
            sa.Column("line_key", sa.String(), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("correction_reason", sa.String(), nullable=True),
            sa.Column("source_sha256", sa.String(), nullable=False),
            sa.Column("source_file", sa.String(), nullable=False),
            sa.Column("source_row", sa.Integer(), nullable=False),
            sa.Column("load_id", sa.String(), nullable=False),
            sa.Column("association_id", sa.String(), nullable=False),
            sa.Column("associated_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("tz_offset", sa.String(), nullable=False),
            sa.Column("parent_id", sa.String(), nullable=False),
            sa.PrimaryKeyConstraint("record_hash"),
        )
        op.create_index(
            op.f("ix_association_record_association_id"),
            "association_record",
            ["association_id"],
            unique=False,
        )
        op.create_index(
            op.f("ix_association_record_child_id"), "association_record", ["child_id"], unique=False
        )
        op.create_index(
            op.f("ix_association_record_gtin"), "association_record", ["gtin"], unique=False
        )
        op.create_index(
            op.f("ix_association_record_line_key"), "association_record", ["line_key"], unique=True
        )
        op.create_index(
            op.f("ix_association_record_load_id"), "association_record", ["load_id"], unique=False
        )
        op.create_index(
            op.f("ix_association_record_lot"), "association_record", ["lot"], unique=False
        )
        op.create_index(
            op.f("ix_association_record_parent_id"),
            "association_record",
            ["parent_id"],
            unique=False,
        )
        op.create_index(
            op.f("ix_association_record_source_sha256"),
            "association_record",
            ["source_sha256"],
            unique=False,
        )
        op.create_index(
            op.f("ix_association_record_sscc"), "association_record", ["sscc"], unique=False
        )
    if _absent("audit_entry"):
        op.create_table(
            "audit_entry",
            sa.Column("table_name", sa.String(), nullable=False),
            sa.Column("seq", sa.Integer(), nullable=False),
            sa.Column("action", sa.String(), nullable=False),
            sa.Column("rows", sa.Integer(), nullable=False),
            sa.Column("digest", sa.String(), nullable=False),
            sa.Column("prev_hash", sa.String(), nullable=False),
            sa.Column("entry_hash", sa.String(), nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("actor", sa.String(), nullable=False),
            sa.PrimaryKeyConstraint("table_name", "seq"),
        )
    if _absent("audit_page"):
        op.create_table(
            "audit_page",
            sa.Column("table_name", sa.String(), nullable=False),
            sa.Column("seq", sa.Integer(), nullable=False),
            sa.Column("page", sa.Integer(), nullable=False),
            sa.Column("rows", sa.Integer(), nullable=False),
            sa.Column("rows_json", sa.String(), nullable=False),
            sa.PrimaryKeyConstraint("table_name", "seq", "page"),
        )
    if _absent("document_signature"):
        op.create_table(
            "document_signature",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("document_number", sa.String(), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("issued_as", sa.String(), nullable=False),
            sa.Column("printed_name", sa.String(), nullable=False),
            sa.Column("user_name", sa.String(), nullable=False),
            sa.Column("meaning", sa.String(), nullable=False),
            sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("signed_at_offset", sa.String(), nullable=False),
            sa.Column("document_sha256", sa.String(), nullable=False),
            sa.Column("reason", sa.String(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(
            op.f("ix_document_signature_document_number"),
            "document_signature",
            ["document_number"],
            unique=False,
        )
        op.create_index(
            op.f("ix_document_signature_issued_as"),
            "document_signature",
            ["issued_as"],
            unique=False,
        )
        op.create_index(
            op.f("ix_document_signature_user_name"),
            "document_signature",
            ["user_name"],
            unique=False,
        )
    if _absent("login_attempt"):
        op.create_table(
            "login_attempt",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("user_name", sa.String(), nullable=False),
            sa.Column("client", sa.String(), nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("succeeded", sa.Boolean(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(op.f("ix_login_attempt_at"), "login_attempt", ["at"], unique=False)
        op.create_index(op.f("ix_login_attempt_client"), "login_attempt", ["client"], unique=False)
        op.create_index(
            op.f("ix_login_attempt_user_name"), "login_attempt", ["user_name"], unique=False
        )
    if _absent("portal_session"):
        op.create_table(
            "portal_session",
            sa.Column("session_sha256", sa.String(), nullable=False),
            sa.Column("user_name", sa.String(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("csrf_token", sa.String(), nullable=False),
            sa.PrimaryKeyConstraint("session_sha256"),
        )
        op.create_index(
            op.f("ix_portal_session_expires_at"), "portal_session", ["expires_at"], unique=False
        )
        op.create_index(
            op.f("ix_portal_session_user_name"), "portal_session", ["user_name"], unique=False
        )
    if _absent("portal_user"):
        op.create_table(
            "portal_user",
            sa.Column("name", sa.String(), nullable=False),
            sa.Column("role", sa.String(), nullable=False),
            sa.Column("full_name", sa.String(), nullable=True),
            sa.Column("password_hash", sa.String(), nullable=False),
            sa.Column("disabled", sa.Boolean(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("created_by", sa.String(), nullable=False),
            sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("changed_by", sa.String(), nullable=False),
            sa.PrimaryKeyConstraint("name"),
        )
    if _absent("transaction_record"):
        op.create_table(
            "transaction_record",
            sa.Column("action", sa.String(), nullable=False),
            sa.Column("parent_id", sa.String(), nullable=True),
            sa.Column("child_id", sa.String(), nullable=False),
            sa.Column("gtin", sa.String(), nullable=True),
            sa.Column("lot", sa.String(), nullable=True),
            sa.Column("serial", sa.String(), nullable=True),
            sa.Column("sscc", sa.String(), nullable=True),
            sa.Column("quantity", sa.Float(), nullable=True),
            sa.Column("uom", sa.String(), nullable=True),
            sa.Column("location_id", sa.String(), nullable=True),
            sa.Column("record_hash", sa.String(), nullable=False),
            sa.Column("line_key", sa.String(), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("correction_reason", sa.String(), nullable=True),
            sa.Column("source_sha256", sa.String(), nullable=False),
            sa.Column("source_file", sa.String(), nullable=False),
            sa.Column("source_row", sa.Integer(), nullable=False),
            sa.Column("load_id", sa.String(), nullable=False),
            sa.Column("transaction_id", sa.String(), nullable=False),
            sa.Column("transacted_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("tz_offset", sa.String(), nullable=False),
            sa.Column("transaction_type", sa.String(), nullable=False),
            sa.Column("transaction_number", sa.String(), nullable=False),
            sa.PrimaryKeyConstraint("record_hash"),
        )
        op.create_index(
            op.f("ix_transaction_record_child_id"), "transaction_record", ["child_id"], unique=False
        )
        op.create_index(
            op.f("ix_transaction_record_gtin"), "transaction_record", ["gtin"], unique=False
        )
        op.create_index(
            op.f("ix_transaction_record_line_key"), "transaction_record", ["line_key"], unique=True
        )
        op.create_index(
            op.f("ix_transaction_record_load_id"), "transaction_record", ["load_id"], unique=False
        )
        op.create_index(
            op.f("ix_transaction_record_lot"), "transaction_record", ["lot"], unique=False
        )
        op.create_index(
            op.f("ix_transaction_record_parent_id"),
            "transaction_record",
            ["parent_id"],
            unique=False,
        )
        op.create_index(
            op.f("ix_transaction_record_source_sha256"),
            "transaction_record",
            ["source_sha256"],
            unique=False,
        )
        op.create_index(
            op.f("ix_transaction_record_sscc"), "transaction_record", ["sscc"], unique=False
        )
        op.create_index(
            op.f("ix_transaction_record_transaction_id"),
            "transaction_record",
            ["transaction_id"],
            unique=False,
        )
        op.create_index(
            op.f("ix_transaction_record_transaction_number"),
            "transaction_record",
            ["transaction_number"],
            unique=False,
        )
    _version_issued_documents()


def _version_issued_documents() -> None:
    """Issued documents become versioned: a signed version supersedes the one signed, and only
    one version may supersede a document (the unique index refuses a second signer racing the
    first). Batch mode: on SQLite the columns are added with ALTER TABLE ADD COLUMN."""
    inspector = sa.inspect(op.get_bind())
    present = {c["name"] for c in inspector.get_columns("issued_document")}
    indexes = {i["name"] for i in inspector.get_indexes("issued_document")}
    columns = {
        "file_path": sa.Column("file_path", sa.String(), nullable=True),
        "version": sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1")),
        "supersedes": sa.Column("supersedes", sa.String(), nullable=True),
        "status": sa.Column("status", sa.String(), nullable=False, server_default="DRAFT"),
        "parameters": sa.Column("parameters", sa.String(), nullable=True),
    }
    with op.batch_alter_table("issued_document") as batch:
        for name, column in columns.items():
            if name not in present:
                batch.add_column(column)
        if "ix_issued_document_supersedes" not in indexes:
            batch.create_index("ix_issued_document_supersedes", ["supersedes"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("issued_document") as batch:
        batch.drop_index("ix_issued_document_supersedes")
        for name in reversed(NEW_DOCUMENT_COLUMNS):
            batch.drop_column(name)
    op.drop_index(op.f("ix_transaction_record_transaction_number"), table_name="transaction_record")
    op.drop_index(op.f("ix_transaction_record_transaction_id"), table_name="transaction_record")
    op.drop_index(op.f("ix_transaction_record_sscc"), table_name="transaction_record")
    op.drop_index(op.f("ix_transaction_record_source_sha256"), table_name="transaction_record")
    op.drop_index(op.f("ix_transaction_record_parent_id"), table_name="transaction_record")
    op.drop_index(op.f("ix_transaction_record_lot"), table_name="transaction_record")
    op.drop_index(op.f("ix_transaction_record_load_id"), table_name="transaction_record")
    op.drop_index(op.f("ix_transaction_record_line_key"), table_name="transaction_record")
    op.drop_index(op.f("ix_transaction_record_gtin"), table_name="transaction_record")
    op.drop_index(op.f("ix_transaction_record_child_id"), table_name="transaction_record")
    op.drop_table("transaction_record")
    op.drop_table("portal_user")
    op.drop_index(op.f("ix_portal_session_user_name"), table_name="portal_session")
    op.drop_index(op.f("ix_portal_session_expires_at"), table_name="portal_session")
    op.drop_table("portal_session")
    op.drop_index(op.f("ix_login_attempt_user_name"), table_name="login_attempt")
    op.drop_index(op.f("ix_login_attempt_client"), table_name="login_attempt")
    op.drop_index(op.f("ix_login_attempt_at"), table_name="login_attempt")
    op.drop_table("login_attempt")
    op.drop_index(op.f("ix_document_signature_user_name"), table_name="document_signature")
    op.drop_index(op.f("ix_document_signature_issued_as"), table_name="document_signature")
    op.drop_index(op.f("ix_document_signature_document_number"), table_name="document_signature")
    op.drop_table("document_signature")
    op.drop_table("audit_page")
    op.drop_table("audit_entry")
    op.drop_index(op.f("ix_association_record_sscc"), table_name="association_record")
    op.drop_index(op.f("ix_association_record_source_sha256"), table_name="association_record")
    op.drop_index(op.f("ix_association_record_parent_id"), table_name="association_record")
    op.drop_index(op.f("ix_association_record_lot"), table_name="association_record")
    op.drop_index(op.f("ix_association_record_load_id"), table_name="association_record")
    op.drop_index(op.f("ix_association_record_line_key"), table_name="association_record")
    op.drop_index(op.f("ix_association_record_gtin"), table_name="association_record")
    op.drop_index(op.f("ix_association_record_child_id"), table_name="association_record")
    op.drop_index(op.f("ix_association_record_association_id"), table_name="association_record")
    op.drop_table("association_record")
    op.drop_index(op.f("ix_api_token_user_name"), table_name="api_token")
    op.drop_table("api_token")
    op.drop_index(op.f("ix_access_log_user_name"), table_name="access_log")
    op.drop_index(op.f("ix_access_log_at"), table_name="access_log")
    op.drop_table("access_log")

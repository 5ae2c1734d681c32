"""The tamper-evident audit trail: a hash chain per audited table (see `lotline.audit.chain`).

Append-only. An entry says which rows one transaction of lotline wrote (or deleted) in one table,
with the SHA-256 of each row as stored (its pages); each entry's hash covers the hash of the entry
before it in the same table's chain.
"""

from datetime import datetime

from sqlmodel import Field, SQLModel

from models._columns import utc_timestamp


class AuditEntry(SQLModel, table=True):
    """One link of a table's chain: the rows one lotline transaction wrote or deleted there."""

    __tablename__ = "audit_entry"
    table_name: str = Field(primary_key=True, description="the audited table (one chain each)")
    seq: int = Field(primary_key=True, description="1, 2, … within the table's chain")
    action: str = Field(description="write (insert or update by lotline) | delete")
    rows: int = Field(description="rows of this entry (in its audit_page pages)")
    digest: str = Field(description="SHA-256 over the entry's (row key, row hash) in key order")
    prev_hash: str = Field(description="entry_hash of entry seq − 1; 64 zeros for the first")
    entry_hash: str = Field(description="SHA-256 of table, seq, action, rows, digest, prev, at")
    at: datetime = utc_timestamp()
    actor: str = Field(description="who wrote: lotline, a load id, a portal user")


class AuditPage(SQLModel, table=True):
    """The rows of an entry, up to `PAGE_ROWS` per page, as JSON: ``[[row_key, row_hash], …]``
    in row_key order, row_hash null for a deleted row.

    A page, not a database row per audited row: an entry of a million rows is ten INSERTs
    instead of a million (a load's seal would otherwise cost as much as writing the records
    again). JSON, not a binary format: a one-row entry (an access-log line) stays ~150 bytes,
    and any tool reads it (SQLite's own `json_each`, PostgreSQL's `json_array_elements`)."""

    __tablename__ = "audit_page"
    table_name: str = Field(primary_key=True)
    seq: int = Field(primary_key=True)
    page: int = Field(primary_key=True, description="0, 1, … within the entry, in row_key order")
    rows: int
    rows_json: str = Field(description="[[row_key, row_hash or null], …]")

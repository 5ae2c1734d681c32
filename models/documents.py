"""The register of issued documents: a document number is taken here once and never again.

A signed version is a document of its own (new number, `supersedes` the one signed, `version`
one higher), so an issued file is never rewritten and its hash stays the register's."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from models._columns import utc_timestamp


class IssuedDocument(SQLModel, table=True):
    """One rendered report. The primary key makes a number unusable a second time in this
    database, whatever process renders; the PDF's hash says which file is the issued one."""

    __tablename__ = "issued_document"
    document_number: str = Field(primary_key=True)
    kind: str = Field(index=True, description="recall | expiry | mock_recall")
    title: str
    generated_at: datetime = utc_timestamp(index=True)
    snapshot_id: str | None = None
    pipeline_run_id: str | None = None
    request_reference: str | None = None
    file_name: str | None = Field(default=None, description="set once the PDF is written")
    pdf_sha256: str | None = None
    pdf_bytes: int | None = None
    file_path: str | None = Field(default=None, description="absolute path the PDF was written to")
    version: int = Field(default=1, description="1 for a rendering, +1 for each signed version")
    supersedes: str | None = Field(
        default=None,
        unique=True,  # two officers signing one version at once: the second is refused
        index=True,
        description="the document number this version replaces",
    )
    status: str = Field(default="DRAFT", description="DRAFT | APPROVED")
    parameters: str | None = Field(
        default=None, description="JSON of the renderer's arguments, to render a new version"
    )

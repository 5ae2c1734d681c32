"""What was loaded, what was rejected and which data snapshot the lineage tables describe."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from models._columns import utc_timestamp


class SourceFile(SQLModel, table=True):
    """One input file, by content: the same bytes under any name are loaded once."""

    __tablename__ = "source_file"
    sha256: str = Field(primary_key=True)
    file_name: str
    record_type: str
    load_id: str = Field(index=True)
    loaded_at: datetime = utc_timestamp()
    rows_read: int
    rows_loaded: int
    rows_unchanged: int
    rows_rejected: int


class RejectedRecord(SQLModel, table=True):
    """A row that failed a rule: kept with the reason, never silently dropped."""

    __tablename__ = "rejected_record"
    id: int | None = Field(default=None, primary_key=True)
    source_sha256: str = Field(index=True)
    source_file: str
    record_type: str
    row_number: int = Field(description="spreadsheet row number: the header is row 1")
    column: str
    rule: str
    value: str | None = None
    message: str
    record: str = Field(description="the whole original row as JSON")
    load_id: str = Field(index=True)


class Snapshot(SQLModel, table=True):
    """A state of the stored records; lineage tables carry the id of the snapshot they describe."""

    snapshot_id: str = Field(primary_key=True, description="hash of the input files' contents")
    created_at: datetime = utc_timestamp()
    load_id: str
    input_sha256: str = Field(description="sorted content hashes of every loaded file, JSON")
    record_count: int


class RecordFinding(SQLModel, table=True):
    """A warning on a row that loaded: suspicious but traceable, so kept with what was found."""

    __tablename__ = "record_finding"
    id: int | None = Field(default=None, primary_key=True)
    record_hash: str | None = Field(
        default=None, index=True, description="the record as loaded (its content hash)"
    )
    record_type: str
    gtin: str | None = Field(default=None, index=True)
    lot: str | None = Field(default=None, index=True)
    source_sha256: str = Field(index=True)
    source_file: str
    row_number: int | None = Field(default=None, description="spreadsheet row; header = row 1")
    column: str
    rule: str
    severity: str = Field(default="warning")
    value: str | None = None
    message: str
    load_id: str = Field(index=True)


class LoadLock(SQLModel, table=True):
    """One row that every load updates first: SQLite's write lock then serialises loads (on
    PostgreSQL an advisory lock does), so each commit sees every record committed before it."""

    __tablename__ = "load_lock"
    id: int = Field(default=1, primary_key=True)
    load_id: str | None = None
    locked_at: datetime | None = utc_timestamp(default=None, nullable=True)

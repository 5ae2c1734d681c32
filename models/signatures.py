"""Part 11 electronic signatures on issued documents (21 CFR 11.50, 11.70, 11.200)."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from models._columns import utc_timestamp

MEANINGS = ("prepared", "reviewed", "approved")


class DocumentSignature(SQLModel, table=True):
    """One e-signature: who (account and printed name), when, what it means, and the SHA-256 of
    the exact PDF version signed, so the signature stays linked to that record (11.70). The
    version that shows the signature is `issued_as`; the signed version is never altered."""

    __tablename__ = "document_signature"
    id: int | None = Field(default=None, primary_key=True)
    document_number: str = Field(index=True, description="the version signed")
    version: int = Field(description="version number of the document signed")
    issued_as: str = Field(index=True, description="the new version that shows the signature")
    printed_name: str
    user_name: str = Field(index=True)
    meaning: str = Field(description="prepared | reviewed | approved")
    signed_at: datetime = utc_timestamp()
    signed_at_offset: str = Field(description="the signer's UTC offset, e.g. +01:00")
    document_sha256: str = Field(description="SHA-256 of the PDF version signed")
    reason: str

"""Master data: products and locations, the FSMA 204 product and location descriptions."""

from sqlmodel import Field, SQLModel


class Product(SQLModel, table=True):
    gtin: str = Field(primary_key=True, max_length=14, description="GTIN-14")
    name: str
    brand: str | None = None
    commodity: str | None = None
    variety: str | None = None
    pack_size: float | None = None
    pack_uom: str | None = None
    pack_style: str | None = None
    tracking: str = Field(description="lot | serial")
    shelf_life_days: int | None = None
    uom: str = Field(description="UN/CEFACT Rec 20 unit every quantity is recorded in")
    expiry_kind: str | None = Field(
        default="use_by",
        description="use_by | best_before: what expiry_date means",
        sa_column_kwargs={"server_default": "use_by"},
    )
    record_hash: str


class Location(SQLModel, table=True):
    location_id: str = Field(primary_key=True)
    kind: str = Field(description="supplier | site | warehouse | customer")
    business_name: str
    gln: str | None = None
    phone: str | None = None
    street: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    record_hash: str

"""Mock recall drills: each practice trace kept as a record, so drill performance has a history."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from models._columns import utc_timestamp


class MockRecall(SQLModel, table=True):
    """One mock recall drill: what was asked, when, by whom, from which snapshot, and how
    completely and quickly the scope was answered (the evidence a recall plan audit asks for)."""

    __tablename__ = "mock_recall"
    drill_id: str = Field(primary_key=True, description="DRL-<UTC yyyymmddHHMMSS>-<6 hex>")
    started_at: datetime = utc_timestamp(index=True)
    finished_at: datetime = utc_timestamp()
    seconds_to_answer: float = Field(description="finished_at − started_at")
    gtin: str = Field(index=True)
    lot: str
    direction: str = Field(description="backward | forward | both")
    run_by: str
    snapshot_id: str | None = None
    lots_reached: int = Field(description="lots in scope, the subject lot included")
    shipments: int = Field(description="distinct shipments of the scope")
    consignees: int = Field(description="distinct direct accounts of the scope")
    quantity_inflow: float | None = Field(
        default=None, description="scope inflow; null when the scope mixes units"
    )
    quantity_accounted: float | None = Field(
        default=None, description="scope accounted; null when the scope mixes units"
    )
    percent_accounted: float | None = Field(
        default=None,
        description="accounted / inflow × 100; across units: the unit furthest from 100 %",
    )
    status: str = Field(description="scope mass balance: pass | fail")
    document_number: str | None = Field(default=None, description="evidence PDF, once rendered")
    pdf_path: str | None = None

"""Loads file by file: rows read, loaded, rejected and warned, over two loads."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from lotline import api
from lotline.intake.ingest import load_folder
from lotline.load_history import LOAD_COLUMNS

# a shipment with a wrong SSCC check digit (rejected) and two scraps naming a destination
# (loaded with the warning scrap_without_destination)
BAD_SHIPMENT = (
    "shipment_id,shipped_at,from_location_id,to_location_id,gtin,lot,serial,sscc,quantity,uom,"
    "ref_doc_type,ref_doc_number\n"
    "SH9,2026-09-13T07:00:00-05:00,WH-1,CUST-A,00614141000043,C1,,306141410000000014,5,CS,"
    "bol,BOL-509\n"
)
SCRAPS = (
    "move_id,moved_at,gtin,lot,serial,quantity,uom,from_location_id,to_location_id,reason\n"
    "M9,2026-09-09T09:00:00-05:00,00614141000050,T1,T1-0002,1,EA,SITE-1,WH-1,scrap\n"
    "M10,2026-09-09T10:00:00-05:00,00614141000036,D4,,5,KGM,SITE-1,SUP-SUGAR,scrap\n"
)


def test_loads_count_rejected_and_warned_rows_per_load(
    small_engine: sa.Engine, tmp_path: Path
) -> None:
    first = api.loads(small_engine)
    assert first.columns == LOAD_COLUMNS
    assert first["load_id"].n_unique() == 1
    assert (first["rows_read"] == first["rows_loaded"]).all()
    assert first["rows_rejected"].sum() == first["rows_warned"].sum() == 0

    later = tmp_path / "later"
    later.mkdir()
    (later / "shipments_bad.csv").write_text(BAD_SHIPMENT)
    (later / "moves_late.csv").write_text(SCRAPS)
    load_folder(small_engine, later)

    every = api.loads(small_engine)
    assert every["load_id"].n_unique() == 2
    assert (
        every["load_id"].head(first.height).to_list() == first["load_id"].to_list()
    )  # oldest first
    second = {row["file_name"]: row for row in every.tail(2).iter_rows(named=True)}
    assert second["shipments_bad.csv"]["rows_rejected"] == 1
    assert second["shipments_bad.csv"]["rows_loaded"] == 0
    assert second["moves_late.csv"]["rows_warned"] == 2
    assert second["moves_late.csv"]["warnings"] == len(api.record_findings(small_engine))
    assert second["moves_late.csv"]["rows_rejected"] == 0

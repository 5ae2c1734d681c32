"""The streamed trace JSON (`lotline.trace_json`) against the form it replaces, and `--limit`.

The comparison is byte for byte with `json.dumps(result.as_dict(), indent=2, default=str)`:
scripts and the portal's `/api/trace` consumers have been reading that exact text, and a
`json.loads`-equal check would let spacing, key order or float spelling drift unseen.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from lotline import api, store, trace_json
from lotline.cli import main
from lotline.intake.ingest import load_folder
from lotline.trace import TraceResult

PACKING = Path(__file__).parents[1] / "data" / "packing"
FLOUR, SUGAR, COOKIES, TOOLS = (
    "00614141000012",
    "00614141000029",
    "00614141000043",
    "00614141000050",
)


def old_form(result: TraceResult) -> str:
    return json.dumps(result.as_dict(), indent=2, default=str)


@pytest.fixture
def packed(small_drop: Path, sqlite_url: str) -> sa.Engine:
    """The small chain with its pallets and cases, so SSCC traces have contents."""
    for source in PACKING.glob("*.csv"):
        shutil.copy(source, small_drop / source.name)
    engine = store.make_engine(sqlite_url)
    assert load_folder(engine, small_drop).rejected.is_empty()
    return engine


def test_streamed_json_is_the_old_json_byte_for_byte(packed: sa.Engine) -> None:
    traces = {
        "backward": api.trace_lot(packed, COOKIES, "C1", "backward"),
        "forward": api.trace_lot(packed, FLOUR, "F1", "forward"),
        "both": api.trace_lot(packed, SUGAR, "S1", "both"),
        "min_exposure": api.trace_lot(packed, FLOUR, "F1", "forward", min_exposure=0.5),
        "serial": api.trace_serial(packed, TOOLS, "T1-0001", "both"),
        "sscc": api.trace_sscc(packed, "306141410000010012", None, "both"),
    }
    assert traces["min_exposure"].notes  # the note list is written too
    assert not traces["serial"].serials.is_empty() or not traces["sscc"].serials.is_empty()
    for name, result in traces.items():
        assert not result.lots.is_empty(), name
        assert trace_json.dumps(result) == old_form(result), name


def test_awkward_values_are_spelled_as_python_json_spells_them() -> None:
    """Non-ASCII, quotes, control characters, tiny and huge floats, NaN, dates, aware times."""
    texts = ["plain", 'say "hi"', "back\\slash", "tab\there", "Zürich", "雪", "😀", None]
    n = len(texts)
    floats = [1e-05, 0.1, 1e16, 1.5e17, -0.0, float("nan"), float("inf"), None]
    shipments = pl.DataFrame(
        {
            "shipment_id": texts,
            "shipped_at": [datetime(2026, 9, 10, 7, 0, i, i * 1000, tzinfo=UTC) for i in range(n)],
            "from_location_id": ["WH-1"] * n,
            "to_location_id": texts[::-1],
            "gtin": [COOKIES] * n,
            "lot": ["C1"] * n,
            "serial": [None] * n,
            "sscc": [None] * n,
            "quantity": floats,
            "uom": ["CS"] * n,
        }
    )
    lots = pl.DataFrame(
        {
            "gtin": [COOKIES] * n,
            "lot": texts,
            "depth": list(range(n)),
            "direction": ["forward"] * n,
            "exposure": [2.5e-07, 0.999, 1.0, None, 3.0, 0.25, 1e-4, 123456.789],
            "expiry_date": [date(2027, 1, i + 1) for i in range(n - 1)] + [None],
            "quantity_on_hand": [True, False, None, True, True, False, True, False],
        }
    )
    empty = pl.DataFrame()
    result = TraceResult(
        subject={"gtin": COOKIES, "lot": "Zürich", "serial": None},
        direction="forward",
        lots=lots,
        edges=empty,
        receipts=shipments.clear()
        .rename({"shipment_id": "receipt_id", "shipped_at": "received_at"})
        .drop("sscc"),
        shipments=shipments,
        serials=pl.DataFrame(schema={"gtin": pl.String, "serial": pl.String, "lot": pl.String}),
        consignees=shipments.group_by("to_location_id").agg(pl.len()).sort("to_location_id"),
        snapshot_id="s1",
        notes=["ünïcode note"],
    )
    assert trace_json.dumps(result) == old_form(result)


def test_large_lists_are_written_in_batches(
    packed: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trace_json, "BATCH_ROWS", 2)
    result = api.trace_lot(packed, FLOUR, "F1", "both")
    assert result.lots.height > 2 and result.shipments.height > 2
    assert trace_json.dumps(result) == old_form(result)


def trace_cli(capsys: pytest.CaptureFixture[str], url: str, *args: str) -> str:
    code = main(["trace", "--database-url", url, *args])
    out = capsys.readouterr().out
    assert code == 0
    return out


def test_limit_cuts_every_list_and_reports_totals(
    packed: sa.Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    url = packed.url.render_as_string(hide_password=False)
    whole = json.loads(trace_cli(capsys, url, "--gtin", FLOUR, "--lot", "F1", "--format", "json"))
    assert "page" not in whole
    assert len(whole["lots"]) > 2 and len(whole["shipments"]) > 2
    first = json.loads(
        trace_cli(capsys, url, "--gtin", FLOUR, "--lot", "F1", "--format", "json", "--limit", "2")
    )
    assert first["page"]["offset"] == 0 and first["page"]["limit"] == 2
    for key in ("lots", "transformations", "shipments", "consignees"):
        assert first[key] == whole[key][:2], key
        assert first["page"]["totals"][key] == len(whole[key]), key
    assert "next page: --offset 2" in first["notes"][-1]
    second = json.loads(
        trace_cli(
            capsys,
            url,
            "--gtin",
            FLOUR,
            "--lot",
            "F1",
            "--format",
            "json",
            "--limit",
            "2",
            "--offset",
            "2",
        )
    )
    assert second["lots"] == whole["lots"][2:4]
    assert second["shipments"] == whole["shipments"][2:4]
    table = trace_cli(capsys, url, "--gtin", FLOUR, "--lot", "F1", "--limit", "2")
    assert f"Lots ({2})" in table
    assert f"lots {len(whole['lots']):,}" in table and "next page: --offset 2" in table
    csv = trace_cli(capsys, url, "--gtin", FLOUR, "--lot", "F1", "--format", "csv", "--limit", "1")
    sections = [line.split(",")[0] for line in csv.splitlines()[1:]]
    assert sections.count("lot") == 1 and sections.count("shipment") == 1


def test_a_negative_offset_is_refused(
    packed: sa.Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    url = packed.url.render_as_string(hide_password=False)
    code = main(["trace", "--database-url", url, "--gtin", FLOUR, "--lot", "F1", "--offset", "-1"])
    assert code != 0
    assert "--offset" in capsys.readouterr().err


def test_arrow_reads_equal_the_db_api_reads(
    packed: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ADBC path of `lineage_of` (SQLite files) gives the frames, types included, that the
    DB-API path gives: every lot of the small chain, so every table has rows."""
    import adbc_driver_sqlite  # noqa: F401  (installed, so the first read below takes ADBC)

    from lotline import trace_query

    with packed.connect() as conn:
        keys = [int(k) for k in conn.execute(sa.text("SELECT lot_key FROM lot")).scalars()]
        fast = trace_query.lineage_of(conn, keys, trace_query.TRACE_SERIAL_COLUMNS)
        monkeypatch.setattr(trace_query, "_sqlite_arrow", lambda *_: None)
        slow = trace_query.lineage_of(conn, keys, trace_query.TRACE_SERIAL_COLUMNS)
    for name in ("lots", "edges", "serials", "shipments", "receipts", "on_hand"):
        a, b = getattr(fast, name), getattr(slow, name)
        assert not b.is_empty(), name
        assert a.schema == b.schema, name
        assert a.sort(a.columns).equals(b.sort(b.columns)), name

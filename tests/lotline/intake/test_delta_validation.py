"""A daily load validates against stored data without reading it whole, with the same verdict.

`ingest.references` given the rows to validate looks stored production ids, serials and packing
events up by the keys those rows name (`ingest._stored_for`) instead of reading every stored
record; `validation.validate(confirm_flag_warnings=False)` takes a warning over a Polars flag
(a time in the future) from Polars without importing GX. Both must leave every outcome,
finding, quarantined row and valid row as before. Here the fixtures are loaded, then sent again
with a bad copy of a row per column and value — re-sent serials are already commissioned,
re-sent packs pack what is already packed — on SQLite and PostgreSQL.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from lotline import store
from lotline.intake import ingest, validation
from lotline.intake.contract import RECORD_TYPES
from lotline.intake.reading import SOURCE_ROW, read_source, scan

DATA = Path(__file__).parents[2] / "data"
FOLDERS = (DATA / "small", DATA / "packing", DATA / "evidence")
BAD_VALUES = (None, "", "x", "0", "1.5", "C\u200b1", "2999-01-01T00:00:00Z", "306141410000000014")


def _resent(record_type: str) -> pl.DataFrame:
    """The fixture rows of `record_type` again, every other one with its GTIN written short (a
    GTIN-12 without its leading zeros is the same product), plus a bad copy of the first row
    per column and value."""
    sources = [s for d in FOLDERS for s in scan(d).files if s.record_type == record_type]
    rows = pl.concat([read_source(s).rows for s in sources], how="vertical_relaxed")
    if "gtin" in rows.columns:
        short = pl.col("gtin").str.strip_chars_start("0")
        rows = rows.with_columns(
            pl.when(pl.int_range(pl.len()) % 2 == 1).then(short).otherwise("gtin").alias("gtin")
        )
    first = rows.head(1)
    copies = [
        first.with_columns(pl.lit(value, dtype=pl.String).alias(column))
        for column in RECORD_TYPES[record_type].columns
        for value in BAD_VALUES
    ]
    return _batch(pl.concat([rows, *copies], how="vertical_relaxed"))


def _batch(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.with_columns(
        pl.lit("resent.csv").alias(validation.SOURCE_FILE),
        pl.lit("0" * 64).alias(validation.SOURCE_SHA256),
        pl.int_range(pl.len()).cast(pl.String).alias(validation.RECORD_HASH),
        pl.int_range(1, pl.len() + 1).alias(SOURCE_ROW),
    )


def _later(record_type: str, rows: list[dict[str, str]]) -> pl.DataFrame:
    """Rows that are right only given the stored history (the batch does not repeat it)."""
    columns = RECORD_TYPES[record_type].columns
    return _batch(pl.DataFrame(rows, schema=dict.fromkeys(columns, pl.String)))


LATER = {
    # after the fixtures: each child is unpacked from where the stored events put it
    "packing": [
        {"packing_id": "K7", "action": "unpack", "parent_sscc": parent, **child}
        | {"packed_at": "2026-09-09T15:00:00-05:00", "location_id": "SITE-1"}
        for parent, child in [
            ("306141410000010029", {"child_sscc": "306141410000020028"}),
            ("306141410000020011", {"gtin": "614141000050", "serial": "T1-0001"}),
            (
                "306141410000010012",
                {"gtin": "614141000043", "lot": "C2", "quantity": "5", "uom": "CS"},
            ),
        ]
    ],
    # whole pallets and cases shipped by their SSCC alone (the last one was never packed)
    "shipments": [
        {
            "shipment_id": f"SH{sscc[-3:]}",
            "shipped_at": "2026-09-12T07:00:00-05:00",
            "from_location_id": "WH-1",
            "to_location_id": "CUST-A",
            "sscc": sscc,
        }
        for sscc in ("306141410000010012", "306141410000099994")
    ],
}


@pytest.fixture(params=["sqlite", "postgresql"])
def loaded(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "sqlite":
        url = store.sqlite_url(tmp_path / "lotline.sqlite")
    else:
        url = request.getfixturevalue("postgres_url")
    engine = store.make_engine(url)
    for folder in FOLDERS[:2]:
        ingest.load_folder(engine, folder)
    yield engine
    engine.dispose()


def _generated_checks(_name: str, prepared: pl.DataFrame, rules: list) -> list[list[int]]:
    """GX's verdict, as the generated checks give it (`test_generated_checks` holds them equal):
    only the references differ here, and GX would double the test's time."""
    rid = validation._RID
    return [sorted(prepared.filter(r.expectation.failing())[rid]) for r in rules]


def test_references_looked_up_by_key_give_the_same_verdict(loaded, monkeypatch) -> None:
    monkeypatch.setattr(validation, "_run_suite", _generated_checks)
    verdicts = {}
    batches = [
        *((t, _resent(t)) for t in ("receipts", "production", "consumption", "packing", "status")),
        *((t, _later(t, rows)) for t, rows in LATER.items()),
    ]
    for record_type, raw in batches:
        whole = ingest.references(loaded, record_type, {})
        with monkeypatch.context() as patch:
            patch.setattr(ingest, "_stored_whole", lambda *_: pytest.fail("read whole"))
            by_key = ingest.references(loaded, record_type, {}, raw)
        a = validation.validate(record_type, raw, whole)
        b = validation.validate(record_type, raw, by_key)
        assert a.outcomes == b.outcomes, record_type
        assert_frame_equal(a.valid, b.valid)
        assert_frame_equal(a.rejected, b.rejected)
        assert_frame_equal(a.findings, b.findings)
        verdicts[record_type] = {o.rule: o.failed_rows for o in a.outcomes if not o.passed}
    # the rules that compare with stored data decided something: the test can tell
    assert "serial_not_already_commissioned" in verdicts["production"]
    assert "known_production" in verdicts["consumption"]
    assert "serial_known" in verdicts["status"]
    assert verdicts["packing"] == {}  # every later unpack undoes a stored pack
    assert verdicts["shipments"] == {"known_sscc": 1}  # only the SSCC never packed


def test_a_flag_warning_needs_no_great_expectations(loaded, monkeypatch) -> None:
    raw = _resent("production").filter(pl.col("completed_at") == "2999-01-01T00:00:00Z")
    refs = ingest.references(loaded, "production", {}, raw)
    confirmed = validation.validate("production", raw, refs)
    assert confirmed.gx_rows == raw.height  # GX confirmed the warning: the reference verdict

    def no_gx(*_args, **_kwargs):
        raise AssertionError("GX ran for a warning over a flag")

    monkeypatch.setattr(validation, "_run_suite", no_gx)
    polars_only = validation.validate("production", raw, refs, confirm_flag_warnings=False)
    assert polars_only.gx_rows == 0
    assert set(polars_only.findings["rule"]) == {"time_in_future"}
    assert polars_only.outcomes == confirmed.outcomes
    assert_frame_equal(polars_only.findings, confirmed.findings)
    assert_frame_equal(polars_only.valid, confirmed.valid)
    with pytest.raises(AssertionError, match="GX ran"):  # an error is still GX's to confirm
        validation.validate("production", raw, refs, strict=True, confirm_flag_warnings=False)


def test_great_expectations_imports_without_building_the_iri_parser() -> None:
    """jsonschema's IRI check (pulled in by GX) gets its parser at first use, same answers."""
    script = textwrap.dedent(
        """
        import sys
        from lotline.intake import validation
        validation._defer_iri_parser()
        import jsonschema
        assert not hasattr(sys.modules["rfc3987_syntax"], "__file__"), "parser built at import"
        check = jsonschema.Draft7Validator.FORMAT_CHECKER
        assert check.conforms("https://example.com/caf\\u00e9?q=1", "iri")
        assert not check.conforms("not an iri", "iri")
        assert check.conforms("../relative", "iri-reference")
        assert hasattr(sys.modules["rfc3987_syntax"], "__file__")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr

"""The EPCIS document a recall report embeds, built in a second process (`start_written`) or in
this one: the same bytes; errors come back; a cancelled build leaves no process or file behind.
And the SGTINs made for a whole frame at once equal `serial_uri`'s, one by one."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from lotline import api, store
from lotline.gs1 import epcis_export

COOKIES = "00614141000043"


@pytest.fixture(scope="module")
def engine(small_database: str) -> sa.Engine:
    return store.make_engine(small_database)


@pytest.fixture(scope="module")
def traced(engine: sa.Engine):  # type: ignore[no-untyped-def]
    return [api.trace_lot(engine, COOKIES, "C1", "both")]


def worker_folders(tmp: Path) -> set[Path]:
    return set(tmp.glob("lotline-epcis-*"))


@pytest.fixture
def in_worker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Every trace large enough for the second process; its folder under `tmp_path`."""
    monkeypatch.setattr(epcis_export, "WORKER_LINES", 0)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # TMPDIR read again
    return tmp_path


def test_second_process_writes_the_same_bytes(engine, traced, in_worker: Path):
    pending = epcis_export.start_written(engine, traced)
    assert len(worker_folders(in_worker)) == 1  # a process was started, with its folder
    done = pending.result()
    inline = epcis_export.written(engine, traced)
    assert done.data == inline.data
    assert done.events == inline.events > 0
    assert worker_folders(in_worker) == set()


def test_small_trace_or_memory_database_stays_in_this_process(
    engine, traced, monkeypatch: pytest.MonkeyPatch
):
    pending = epcis_export.start_written(engine, traced)  # 20,000 lines needed: far fewer here
    assert pending._stop is None  # nothing to stop: no second process
    assert pending.result() == epcis_export.written(engine, traced)
    monkeypatch.setattr(epcis_export, "WORKER_LINES", 0)
    memory = store.make_engine("sqlite://")  # another process would see another database
    assert epcis_export.start_written(memory, traced)._stop is None


def test_an_error_in_the_second_process_is_raised_here(
    engine, traced, in_worker: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("LOTLINE_DIGITAL_LINK_BASE", "http://id.example.com")  # not https
    pending = epcis_export.start_written(engine, traced)
    with pytest.raises(ValueError, match="LOTLINE_DIGITAL_LINK_BASE"):
        pending.result()
    assert worker_folders(in_worker) == set()


def test_cancel_stops_the_second_process(engine, traced, in_worker: Path):
    pending = epcis_export.start_written(engine, traced)
    pending.cancel()
    assert worker_folders(in_worker) == set()
    pending.cancel()  # twice is harmless


SERIALS = ["7", "10", "A-1.b_~", "a b", "ä", "x/y", "", "%41", "'()*+,;=:@!$&"]
GTINS = ["00614141000012", "614141000012", "0061414100001X", ""]


@pytest.mark.parametrize("base", [None, "https://id.example.com/"])
def test_sgtins_of_a_frame_equal_serial_uri(base: str | None, monkeypatch: pytest.MonkeyPatch):
    if base:
        monkeypatch.setenv("LOTLINE_DIGITAL_LINK_BASE", base)
    pairs = [(g, s) for g in GTINS if g for s in SERIALS]
    frame = pl.DataFrame(
        {
            "gtin": [g for g, _ in pairs] + ["00614141000012"],
            "lot": ["L1"] * (len(pairs) + 1),
            "serial": [s for _, s in pairs] + [None],
            "uom": ["EA"] * (len(pairs) + 1),
            "quantity": [1.0] * (len(pairs) + 1),
        }
    )
    sgtins = [line[2] for line in epcis_export._lines(frame)]
    assert sgtins == [epcis_export.serial_uri(g, s) for g, s in pairs] + [None]


def test_a_serial_without_gtin_fails_as_before():
    frame = pl.DataFrame(
        {"gtin": [""], "lot": [None], "serial": ["7"], "uom": ["EA"], "quantity": [1.0]}
    )
    with pytest.raises(ValueError, match="needs a GTIN"):
        epcis_export._lines(frame)


def test_second_process_tracing_the_lot_itself_writes_the_same_bytes(
    engine, traced, in_worker: Path, monkeypatch: pytest.MonkeyPatch
):
    """The recall report starts it before its own trace (`start_written_for_lot`)."""
    monkeypatch.setattr(epcis_export, "WORKER_LOTS", 1)
    assert epcis_export.start_written_for_lot(engine, COOKIES, "NO-SUCH-LOT", "both") is None
    pending = epcis_export.start_written_for_lot(engine, COOKIES.lstrip("0"), "C1", "both")
    assert pending is not None and len(worker_folders(in_worker)) == 1
    assert pending.result() == epcis_export.written(engine, traced)
    monkeypatch.setattr(epcis_export, "WORKER_LOTS", 10_000)  # the small chain has a few lots
    assert epcis_export.start_written_for_lot(engine, COOKIES, "C1", "both") is None

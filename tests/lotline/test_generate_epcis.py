"""`lotline generate --format epcis`: the sample supply chain as master-data CSV + EPCIS 2.0
JSON-LD, which loads into an empty database and traces exactly like the CSV sample."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest
from sqlalchemy.engine import Engine

from lotline import api, store
from lotline.cli import main
from lotline.generate import generate_epcis
from lotline.intake.ingest import LoadReport, load_folder
from lotline.lineage import Lineage

SCALE = "0.2"  # the smallest scale with every planted feature (rework cycle, serials, returns)
SCHEMA = Path(__file__).parents[2] / "lotline" / "gs1" / "epcis-json-schema.json"


@dataclass
class Loaded:
    folder: Path
    report: LoadReport
    engine: Engine
    lineage: Lineage


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Loaded]]:
    """The seed-7 sample written by the CLI in both formats, each loaded into its own SQLite."""
    root = tmp_path_factory.mktemp("samples")
    out: dict[str, Loaded] = {}
    for fmt in ("csv", "epcis"):
        folder = root / fmt
        assert main(["generate", "--out", str(folder), "--scale", SCALE, "--format", fmt]) == 0
        engine = store.make_engine(store.sqlite_url(root / f"{fmt}.sqlite"))
        report = load_folder(engine, folder)
        out[fmt] = Loaded(folder, report, engine, api.load_lineage(engine))
    yield out
    for loaded in out.values():
        loaded.engine.dispose()


def lots(loaded: Loaded) -> set[tuple[str, str]]:
    return set(loaded.lineage.lots.select("gtin", "lot").iter_rows())


def test_epcis_sample_is_master_data_csv_and_one_valid_document(samples) -> None:
    epcis, csv = samples["epcis"].folder, samples["csv"].folder
    assert sorted(p.name for p in epcis.iterdir()) == [
        "events.jsonld",
        "locations.csv",
        "products.csv",
    ]
    for name in ("products.csv", "locations.csv"):
        assert (epcis / name).read_bytes() == (csv / name).read_bytes()
    doc = json.loads((epcis / "events.jsonld").read_text(encoding="utf-8"))
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(doc)]
    assert errors == []
    assert doc["type"] == "EPCISDocument"
    kinds = {e["type"] for e in doc["epcisBody"]["eventList"]}
    assert kinds == {"ObjectEvent", "AggregationEvent", "TransformationEvent"}
    assert all(e["eventID"].startswith("ni:///sha-256;") for e in doc["epcisBody"]["eventList"])


def test_same_seed_same_bytes(samples, tmp_path: Path) -> None:
    again = generate_epcis(tmp_path, seed=7, scale=float(SCALE))
    for path in again.values():
        assert path.read_bytes() == (samples["epcis"].folder / path.name).read_bytes(), path.name


def test_epcis_sample_loads_whole_into_an_empty_database(samples) -> None:
    for fmt, loaded in samples.items():
        assert loaded.report.snapshot_id is not None, fmt
        assert loaded.report.rejected.is_empty(), (fmt, loaded.report.summary())
        assert loaded.report.skipped == [], fmt
    assert lots(samples["epcis"]) == lots(samples["csv"])


def test_every_lot_traces_alike_in_both_directions(samples) -> None:
    """Same lots reached and same consignee locations, for every lot backward and forward."""
    csv, epcis = samples["csv"], samples["epcis"]
    differing, consignee_rows, deep = [], 0, 0
    for gtin, lot in sorted(lots(csv)):
        for direction in ("backward", "forward"):
            result = {
                name: api.trace_lot(s.engine, gtin, lot, direction, lineage=s.lineage)
                for name, s in (("csv", csv), ("epcis", epcis))
            }
            reached = {k: set(r.lots.select("gtin", "lot").iter_rows()) for k, r in result.items()}
            consignees = {k: set(r.consignees["to_location_id"]) for k, r in result.items()}
            if reached["csv"] != reached["epcis"] or consignees["csv"] != consignees["epcis"]:
                differing.append((gtin, lot, direction))
            consignee_rows += result["csv"].consignees.height
            deep += len(reached["csv"]) > 2
    assert differing == []
    # the comparison is not vacuous: shipments reached customers, genealogy has several levels
    assert consignee_rows > 100
    assert deep > 20


def test_vocabulary_is_for_csv_only(tmp_path: Path, capsys) -> None:
    argv = ["generate", "--out", str(tmp_path), "--format", "epcis", "--vocabulary", "erp"]
    assert main(argv) == 2
    assert "--vocabulary applies to --format csv only" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []

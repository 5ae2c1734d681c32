"""The sample supply chain as a partner's EPCIS repository would hand it over.

Why: capture (`lotline.gs1.capture`) needs a whole, consistent supply chain in EPCIS 2.0 to be
demonstrated and tested on, and the way to make one that agrees with the CSV sample by
construction is to take the CSV sample through lotline itself: the contract files are loaded into
a throw-away SQLite database and the period they cover is exported with
`lotline.api.epcis_period`. What the export leaves out (moves between own sites, status
decisions; see `lotline.gs1.epcis_export`) is therefore not in the EPCIS sample either.

Written: `products.csv` and `locations.csv` (the master data, as in the CSV sample) and the
events as one EPCIS 2.0 JSON-LD `EPCISDocument`, `events.jsonld` (about 1.7 MB at scale 1, so
one document, not one per month). `creationDate` is the anchor at midnight UTC, so the same
seed, scale and anchor give the same bytes.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date, timedelta
from pathlib import Path

from lotline.generate.scenario import DEFAULT_ANCHOR, HORIZON_DAYS

MASTER_FILES = ("products", "locations")
"""Record types written as CSV beside the EPCIS documents."""


def generate_epcis(
    out_dir: Path,
    seed: int = 7,
    scale: float = 1.0,
    anchor: date = DEFAULT_ANCHOR,
) -> dict[str, Path]:
    """Write the sample's master data as CSV and its events as EPCIS 2.0 JSON-LD into `out_dir`;
    keys: `products`, `locations`, `events`."""
    from lotline import api, store
    from lotline.generate import generate
    from lotline.gs1 import epcis_export
    from lotline.intake.ingest import load_folder

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # every event is dated within the horizon (local dates); a day of margin on either side
    start, end = anchor - timedelta(days=HORIZON_DAYS + 1), anchor + timedelta(days=1)
    paths: dict[str, Path] = {}
    with tempfile.TemporaryDirectory(prefix="lotline-sample-") as tmp:
        drop = Path(tmp) / "drop"
        csv_paths = generate(drop, seed=seed, scale=scale, anchor=anchor)
        engine = store.make_engine(store.sqlite_url(Path(tmp) / "sample.sqlite"))
        try:
            report = load_folder(engine, drop)
            if report.snapshot_id is None or report.rejected.height:
                # the generator's own files always load whole: anything else is a bug
                raise RuntimeError(f"the CSV sample did not load whole: {report.summary()}")
            for name in MASTER_FILES:
                paths[name] = Path(shutil.copyfile(csv_paths[name], out_dir / f"{name}.csv"))
            doc = api.epcis_period(engine, start, end)
            doc["creationDate"] = f"{anchor.isoformat()}T00:00:00Z"
            paths["events"] = out_dir / "events.jsonld"
            paths["events"].write_bytes(epcis_export.serialise(doc, "jsonld"))
        finally:
            engine.dispose()
    return paths

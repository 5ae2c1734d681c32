"""Deterministic sample data in the input contract, shaped like a real multi-level supply chain.

Why: demos, notebooks, benchmarks and tests need input files that exercise everything lotline
does (multi-level genealogy, merges and splits, co-products, serialised units, a rework loop,
transfers, returns, write-offs, expired stock and shipments made at or after expiry) without
shipping real company data. The generator is a small day-by-day simulation of one confectionery
company, so every row is consistent with every other row: stock is only consumed, moved or
shipped where and when it is on hand, a lot keeps one production and expiry date, and all
identifiers carry valid GS1 check digits. Same `seed`, `scale` and `anchor` give byte-identical
files (no clock, no hash-order dependence, no network).

The world (`anchor` is "today"; every event happens in the `HORIZON_DAYS` days before it):

- Hearthstone Confectionery runs a bakery in Chicago (SITE-CHI, US Central time) and a chocolate
  works in Breda (SITE-BRD, Central European time), each with a distribution centre (WH-JOL,
  WH-VNL). Six suppliers in the US, Ecuador, Germany, Italy and the Netherlands deliver raw
  materials (kg); 5-30 customers (more with `scale`) in North America, Europe and Japan buy.
- Levels: raw → dough → cookie cases and tins; raw → chocolate mass → praline filling → praline
  cases and serialised gift boxes; gift box (by serial) + tin → serialised holiday hamper. Dough
  is mixed in several batches per bake (merges); a chocolate-mass tank feeds many runs (splits).
- Dates: chocolate pralines and bars carry a best-before date (a quality date, EU 1169/2011),
  everything else a use-by / expiration date (`products.expiry_kind`).
- Co-products share the run's lot code: butter-cookie runs also fill 400 g tins (in season) and
  chocolate-chip runs yield bulk cookie crumb.
- Planted on purpose (functions and comments marked PLANTED), present from scale 0.2 on:
  - rework loop: mis-wrapped pralines are melted back into the praline-filling lot they were
    made from (production ids `BRD-RW-*`; output gtin+lot = an ancestor): a lot-graph cycle;
  - the first crumb lot goes on QA hold and is shipped from SITE-CHI to CUST-CREAMERY on its
    expiry day and six days later; a second held crumb lot is still on hand, expired, at the
    anchor (short-lived dough and eggs also expire, are scrapped weekly, and some are left);
  - supplier lot codes shared by two GTINs (Great Lakes Dairy codes butter and egg by packing
    day), and co-product lot codes shared by two GTINs;
  - a FEFO slip: once from day `_FEFO_SLIP_FROM`, Joliet picks one butter-cookie order line
    from a newer lot while an older, usable lot is on hand (21 CFR 211.150);
  - returns from customers into quarantine at the distribution centres, then destroyed or put
    back; count adjustments in both directions; damage scrap; season-launch orders so that
    serialised goods are shipped at every scale.

All values are written as text exactly as they appear in the CSV files: quantities as decimals
("250", "907.185"), dates as YYYY-MM-DD and timestamps as ISO 8601 with the local UTC offset of
the location where the event was recorded (US and EU daylight-saving rules applied).

`vocabulary="erp"` writes the same world as a typical ERP export would (`_erp_records`): the
vocabulary columns in upper- or mixed-case synonyms with stray spaces (`ASN`, `Purchase Order`,
` Transfer`, `SCRAP`, `CUSTOMER`, `Serial`, `kg`, `PACK`, `Hold`, `Use By`, ...), every second
scrap move naming a scrap area of its location as destination (listed in locations), and every
second serialised transfer written as one lot-level line (no serial) with the number of units.
The lots, transformations and shipments are the contract variant's.

Layout: `scenario` (the world's parameters), `identifiers`, `local_time`, master data in
`products` and `locations`, the simulation in `world` with its jobs in `receipts`, `production`
(genealogy), `moves` and `shipments`, stock in `stock`, `packing` derived from the shipped
pallets, `erp` for the ERP spelling, `epcis` for the EPCIS 2.0 variant of the same world.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

import polars as pl

from lotline.generate.epcis import generate_epcis
from lotline.generate.erp import _erp_records
from lotline.generate.packing import _palletise
from lotline.generate.scenario import DEFAULT_ANCHOR, HORIZON_DAYS
from lotline.generate.world import _World
from lotline.intake import contract

__all__ = [
    "DEFAULT_ANCHOR",
    "HORIZON_DAYS",
    "Vocabulary",
    "generate",
    "generate_epcis",
    "generate_records",
]

Vocabulary = Literal["contract", "erp"]
"""How vocabulary columns are spelled: as the contract spells them, or as an ERP export would."""


GENERATED = tuple(n for n in contract.RECORD_TYPES if n not in ("associations", "transactions"))
"""Record types the sample supply chain fills: master data and what the lineage is built from."""


def generate_records(
    seed: int = 7,
    scale: float = 1.0,
    anchor: date = DEFAULT_ANCHOR,
    vocabulary: Vocabulary = "contract",
) -> dict[str, pl.DataFrame]:
    """Sample records of each record type the world simulates, as text exactly as they would
    appear in CSV files.

    `scale` multiplies demand (and so lots and rows: scale 1 gives a few hundred lots and a few
    thousand rows); every planted feature is present from scale 0.2 on. Keys are `GENERATED`
    (the EPCIS evidence types, associations and transactions, are not simulated), columns are
    the contract columns in order, all `pl.String`, with null for an empty optional value.
    `vocabulary="erp"`: the same world spelled as an ERP export would (see the module docstring).
    """
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    if vocabulary not in ("contract", "erp"):
        raise ValueError(f"vocabulary must be 'contract' or 'erp', got {vocabulary!r}")
    world = _World(seed, scale, anchor)
    world.master_rows()
    world.run()
    frames = {}
    for name in GENERATED:
        rt = contract.RECORD_TYPES[name]
        rows = world.rows[name]
        columns = rt.columns
        # the world writes the leading contract columns; optional ones added later stay empty
        written = columns[: len(rows[0])] if rows else []
        data = (
            {c: list(values) for c, values in zip(written, zip(*rows, strict=True), strict=True)}
            if rows
            else {}
        )
        frames[name] = pl.DataFrame(
            {c: data.get(c, [None] * len(rows)) for c in columns},
            schema={c: pl.String for c in columns},
        )
    serialised = frames["products"].filter(pl.col("tracking") == "serial")["gtin"]
    packing, frames["shipments"] = _palletise(frames["shipments"], frames["moves"], serialised)
    # the contract columns the simulation does not write (corrections) stay empty
    frames["packing"] = packing.with_columns(
        pl.lit(None, pl.String).alias(c)
        for c in contract.PACKING.columns
        if c not in packing.columns
    ).select(contract.PACKING.columns)
    return _erp_records(frames) if vocabulary == "erp" else frames


def generate(
    out_dir: Path,
    seed: int = 7,
    scale: float = 1.0,
    anchor: date = DEFAULT_ANCHOR,
    vocabulary: Vocabulary = "contract",
) -> dict[str, Path]:
    """Write one CSV per record type (`<record type>.csv`, UTF-8, header row) into `out_dir`;
    `vocabulary="erp"` spells the same records as an ERP export would."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, frame in generate_records(seed, scale, anchor, vocabulary).items():
        path = out_dir / f"{name}.csv"
        frame.write_csv(path)
        paths[name] = path
    return paths

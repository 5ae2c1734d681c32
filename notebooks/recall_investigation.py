# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Recall investigation
#
# A supplier tells us one of its lots is contaminated. Within the hour we need to know:
# which of our lots contain it, who received them, how much is still on our shelves, and what
# the lot itself was made from. This notebook answers with the same Python API the CLI and the
# PDF reports use (`lotline.api`), over the lineage tables in the database.
#
# Set `LOTLINE_DATABASE_URL` to work on your own database; without it the notebook builds a
# demo database from generated sample data.

# %% tags=["parameters"]
import os
import tempfile
from pathlib import Path

database_url = os.environ.get("LOTLINE_DATABASE_URL", "")
suspect_gtin = ""  # empty: pick the supplier lot that reached the most customers
suspect_lot = ""

# %%
import polars as pl

from lotline import api, store, trace

if not database_url:
    from lotline.generate import generate
    from lotline.intake.ingest import load_folder

    workdir = Path(tempfile.mkdtemp(prefix="lotline-notebook-"))
    generate(workdir / "drop", seed=7, scale=0.3)
    database_url = store.sqlite_url(workdir / "lotline.sqlite")
    load_folder(store.make_engine(database_url), workdir / "drop")

engine = api.connect(database_url)
lineage = api.load_lineage(engine)
print(api.current_snapshot(engine))
lineage.lots.group_by("origin").len()

# %% [markdown]
# ## Choose the suspect lot
# Without a lot given, take the received (supplier) lot whose forward trace reaches the most
# consignees: the worst case worth rehearsing.

# %%
if not suspect_lot:
    reach = []
    for key, gtin, lot in (
        lineage.lots.filter(pl.col("origin") == "received")
        .select("lot_key", "gtin", "lot")
        .iter_rows()
    ):
        downstream = trace.reachable(lineage.edges, [key], "forward")["lot_key"]
        customers = lineage.shipments.filter(pl.col("lot_key").is_in(downstream.implode()))[
            "to_location_id"
        ].n_unique()
        reach.append((gtin, lot, customers))
    suspect_gtin, suspect_lot, _ = max(reach, key=lambda r: r[2])
print(suspect_gtin, suspect_lot)

# %% [markdown]
# ## Forward: where did it go?

# %%
forward = api.trace_lot(engine, suspect_gtin, suspect_lot, "forward", lineage=lineage)
downstream = forward.lots.filter(pl.col("direction") == "forward")
print(
    f"{downstream.height} downstream lots over {downstream['depth'].max()} levels, "
    f"{forward.shipments.height} shipment lines to {forward.consignees.height} "
    "consignee/unit rows"
)
forward.consignees.select(
    "to_location_id", "business_name", "city", "country", "shipments", "quantity", "uom"
)

# %% [markdown]
# Downstream lots by product and level, with what is still on hand (to put on hold now).

# %%
downstream.group_by("depth", "product_name").agg(
    pl.len().alias("lots"), pl.col("quantity_on_hand").sum().alias("on_hand")
).sort("depth", "product_name")

# %%
on_hand = (
    lineage.on_hand.join(forward.lots.select("lot_key", "gtin", "lot"), on="lot_key")
    .join(api.locations(engine).select("location_id", "business_name"), on="location_id")
    .filter(pl.col("quantity") > 0)
    .sort("location_id", "gtin", "lot")
)
on_hand.group_by("business_name", "uom").agg(pl.col("quantity").sum()).sort("business_name")

# %% [markdown]
# ## Backward: what was the suspect lot made from, and who supplied it?

# %%
backward = api.trace_lot(engine, suspect_gtin, suspect_lot, "backward", lineage=lineage)
backward.receipts.select(
    "receipt_id",
    "received_at",
    "from_location_id",
    "gtin",
    "lot",
    "quantity",
    "uom",
    "tlc_source_reference",
)

# %% [markdown]
# ## How much of the suspect lot is in each product?
# From the database (the closure table), every downstream lot carries its *exposure*: the share
# of its material that came from the suspect lot, through every level. A recall can be scoped
# to the lots above a threshold; the mass balance of the scope says whether every kilogram is
# accounted for, and the completeness findings say where the records have gaps.

# %%
exposed = api.trace_lot(engine, suspect_gtin, suspect_lot, "forward")
by_exposure = (
    exposed.lots.filter(pl.col("direction") == "forward")
    .select("gtin", "lot", "product_name", "depth", "exposure", "quantity_on_hand", "status")
    .sort("exposure", descending=True)
)
print(by_exposure.head(10))
threshold = 0.01
scoped = api.trace_lot(engine, suspect_gtin, suspect_lot, "forward", min_exposure=threshold)
print(scoped.notes[0])
api.scope_balance(engine, scoped)

# %%
findings = api.trace_exceptions(engine)
in_scope = findings.join(exposed.lots.select("gtin", "lot"), on=["gtin", "lot"], how="semi")
in_scope.group_by("check", "severity").len().sort("severity", "check")

# %% [markdown]
# ## Checks an investigator makes before signing
# Every shipment found must be of a lot in the trace, and every customer row must add up to the
# shipment lines.

# %%
assert forward.shipments["lot_key"].is_in(forward.lots["lot_key"].implode()).all()
assert abs(forward.consignees["quantity"].sum() - forward.shipments["quantity"].sum()) < 1e-6
assert not downstream.is_empty(), "the suspect lot should feed at least one product"
assert by_exposure["exposure"].is_between(0, 1).all()
assert scoped.lots.height <= exposed.lots.height
print("trace is consistent; snapshot", forward.snapshot_id)

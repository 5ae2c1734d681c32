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
# It works on the database named by `LOTLINE_DATABASE_URL`; without it, on the demo database
# in the project's `lotline-demo/` folder (the one `lotline demo` fills), built there on first
# use. The first output says which.

# %% tags=["parameters"]
from pathlib import Path

demo_dir = Path("..") / "lotline-demo"  # used when LOTLINE_DATABASE_URL is not set
suspect_gtin = ""  # empty: the received lot whose forward trace reaches the most consignees
suspect_lot = ""

# %%
import math

import matplotlib.pyplot as plt
import polars as pl
from IPython.display import SVG, display

from lotline import api, notebook

notebook.show_frames()
engine = notebook.open_database(demo_dir)
snapshot = api.current_snapshot(engine)
print("snapshot:", snapshot["snapshot_id"] if snapshot else "none: load data first")

# %% [markdown]
# ## Choose the suspect lot
# Without a lot given, take the received (supplier) lot whose forward trace reaches the most
# consignees: the worst case worth rehearsing. `api.widest_reach` ranks every received lot from
# the closure table.

# %%
reach = api.widest_reach(engine, n=10)
if not suspect_lot:
    suspect_gtin, suspect_lot = reach["gtin"][0], reach["lot"][0]
print(f"suspect lot: GTIN {suspect_gtin}, lot {suspect_lot}")
display(reach)

# %% [markdown]
# ## The lineage at a glance
# Supplier receipts on the left, the suspect lot, the lots made from it, and the consignees on
# the right. Large scopes collapse into summarised nodes (lots of one product at one depth).

# %%
display(SVG(api.lineage_diagram(engine, suspect_gtin, suspect_lot, "both", max_nodes=40)))

# %% [markdown]
# ## The one-minute answer
# What page 1 of the recall report says (`api.recall_summary`): quantities per scope and unit,
# and the numbered actions that follow from the data.

# %%
summary = api.recall_summary(engine, suspect_gtin, suspect_lot)
print(
    f"{summary.lots_backward} lots backward, {summary.lots_forward} lots forward, "
    f"{summary.consignee_count} consignees; mass balance: {summary.balance.get('status')}"
)
for number, action in enumerate(summary.actions, 1):
    print(f"{number}. {action.text}")
display(summary.quantities)

# %% [markdown]
# ## Forward: where did it go?

# %%
forward = api.trace_lot(engine, suspect_gtin, suspect_lot, "forward")
downstream = forward.lots.filter(pl.col("direction") == "forward")
print(
    f"{downstream.height} downstream lots over {downstream['depth'].max()} levels, "
    f"{forward.shipments.height} shipment lines to "
    f"{forward.consignees['to_location_id'].n_unique()} consignees"
)
forward.consignees.select(
    "to_location_id", "business_name", "city", "country", "shipments", "quantity", "uom"
).sort("quantity", descending=True)

# %% [markdown]
# How much of the suspect lot is in each downstream lot (its *exposure*: the share of the lot's
# material that came from the suspect lot, through every level), and how much of it is still on
# our shelves. Statuses read `released` where no hold, quarantine or recall is in force.

# %%
by_exposure = downstream.sort("exposure", descending=True).select(
    "gtin",
    "lot",
    "product_name",
    "depth",
    "exposure",
    "quantity_on_hand",
    "uom",
    notebook.status_label("status"),
)
top = by_exposure.head(15).reverse()
fig, ax = plt.subplots(figsize=(9, 0.32 * top.height + 1.2))
ax.barh(
    [f"{name} · {lot}" for name, lot in top.select("product_name", "lot").iter_rows()],
    top["exposure"],
    color=["#c55a11" if q > 0 else "#1f4e79" for q in top["quantity_on_hand"]],
)
ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
ax.set_xlabel("share of the suspect lot's material (exposure)")
ax.set_title(f"Downstream lots most exposed to {suspect_lot} (orange: still on hand)", loc="left")
ax.spines[["top", "right"]].set_visible(False)
plt.tight_layout()
plt.show()
by_exposure.head(15)

# %% [markdown]
# Shipments of the suspect lot and everything made from it, week by week and per unit (cases
# and each units are never added together): when did the material leave?

# %%
weekly = (
    forward.shipments.sort("shipped_at")
    .group_by_dynamic("shipped_at", every="1w", group_by="uom")
    .agg(pl.col("quantity").sum(), pl.col("to_location_id").n_unique().alias("consignees"))
    .sort("uom", "shipped_at")
)
units = weekly["uom"].unique().sort().to_list()
fig, axes = plt.subplots(len(units), 1, figsize=(9, 2.2 * len(units)), sharex=True, squeeze=False)
for ax, unit in zip(axes[:, 0], units, strict=True):
    rows = weekly.filter(pl.col("uom") == unit)
    ax.bar(rows["shipped_at"], rows["quantity"], width=5, color="#1f4e79")
    ax.set_ylabel(unit)
    ax.spines[["top", "right"]].set_visible(False)
axes[0, 0].set_title(f"Weekly quantity shipped downstream of {suspect_lot}", loc="left")
fig.autofmt_xdate()
plt.tight_layout()
plt.show()

# %% [markdown]
# Where the consignees are (from the locations' latitude and longitude; no map tiles, nothing is
# fetched): marker size is the number of shipment lines received, the number is the consignee's
# rank in the table below, grey squares are our own sites and warehouses. Locations more than
# 30° of longitude apart (another continent) get a panel of their own.

# %%
places = api.locations(engine).filter(pl.col("latitude").is_not_null())
ranked = (
    forward.shipments.group_by(pl.col("to_location_id").alias("location_id"))
    .agg(pl.len().alias("lines"), pl.col("lot").n_unique().alias("lots"))
    .sort("lines", "location_id", descending=[True, False])
    .with_row_index("rank", offset=1)
)
points = (
    places.join(ranked, on="location_id", how="left")
    .filter(pl.col("lines").is_not_null() | pl.col("kind").is_in(["site", "warehouse"]))
    .sort("longitude")
    .with_columns(region=(pl.col("longitude").diff() > 30).fill_null(False).cum_sum())
)
if points["lines"].is_null().all():
    print("no consignee with coordinates")
else:
    regions = points.partition_by("region", maintain_order=True)
    fig, axes = plt.subplots(1, len(regions), figsize=(5.5 * len(regions), 5), squeeze=False)
    for ax, region in zip(axes[0], regions, strict=True):
        own = region.filter(pl.col("lines").is_null())
        got = region.filter(pl.col("lines").is_not_null())
        ax.scatter(own["longitude"], own["latitude"], marker="s", color="#7f7f7f", zorder=3)
        ax.scatter(
            got["longitude"], got["latitude"], s=15 + 4 * got["lines"], color="#c55a11", alpha=0.6
        )
        for rank, lon, lat in got.select("rank", "longitude", "latitude").iter_rows():
            ax.annotate(str(rank), (lon, lat), xytext=(6, 3), textcoords="offset points")
        ax.set_xlim(region["longitude"].min() - 3, region["longitude"].max() + 3)
        ax.set_ylim(region["latitude"].min() - 2, region["latitude"].max() + 2)
        ax.set_aspect(1 / math.cos(math.radians(region["latitude"].mean())), adjustable="box")
        ax.grid(color="#e0e0e0", linewidth=0.5)
        ax.set_xlabel("longitude")
    axes[0, 0].set_ylabel("latitude")
    fig.suptitle(f"Consignees of {suspect_lot} and of the lots made from it", x=0.01, ha="left")
    plt.tight_layout()
    plt.show()
ranked.join(places.select("location_id", "business_name", "city", "country"), on="location_id")

# %% [markdown]
# What is still on hand at our own locations, to put on hold now.

# %%
on_hand = (
    api.on_hand(engine, downstream["lot_key"].to_list())
    .filter(pl.col("quantity") > 0)
    .join(forward.lots.select("lot_key", "gtin", "lot", "product_name"), on="lot_key")
    .join(api.locations(engine).select("location_id", "business_name"), on="location_id")
)
if on_hand.is_empty():
    print("none of the downstream lots is on hand at our own sites and warehouses")
on_hand.group_by("business_name", "product_name", "uom").agg(
    pl.len().alias("lots"), pl.col("quantity").sum()
).sort("business_name", "product_name")

# %% [markdown]
# ## Backward: what was the suspect lot made from, and who supplied it?

# %%
backward = api.trace_lot(engine, suspect_gtin, suspect_lot, "backward")
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
# ## Scope the recall
# A recall can be limited to the lots holding at least a share of the suspect material; the mass
# balance of the scope says whether every unit is accounted for, and the completeness findings
# say where the records have gaps.

# %%
threshold = 0.01
scoped = api.trace_lot(engine, suspect_gtin, suspect_lot, "forward", min_exposure=threshold)
print(scoped.notes[0])
api.scope_balance(engine, scoped)

# %%
findings = api.trace_exceptions(engine)
in_scope = findings.join(forward.lots.select("gtin", "lot"), on=["gtin", "lot"], how="semi")
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
assert by_exposure["status"].is_not_null().all()
assert scoped.lots.height <= forward.lots.height
print("trace is consistent; snapshot", forward.snapshot_id)

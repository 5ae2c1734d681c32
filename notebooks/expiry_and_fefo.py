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
# # Expiry and FEFO
#
# Which stock expires where and when, which shipments broke *first expired, first out*, and
# which customers hold stock that is expired or about to be. The tables are the expiry report's
# own (`reports.expiry.build_expiry`, from the date rules in `lotline.expiry` and the FEFO rule
# in `lotline.fefo`); the charts show where to act first.
#
# It works on the database named by `LOTLINE_DATABASE_URL`; without it, on the demo database
# in the project's `lotline-demo/` folder (the one `lotline demo` fills), built there on first
# use. The first output says which.

# %% tags=["parameters"]
from pathlib import Path

demo_dir = Path("..") / "lotline-demo"  # used when LOTLINE_DATABASE_URL is not set
as_of = ""  # YYYY-MM-DD; empty: the day of the last shipment in the data
within_days = 180  # expiring = expiry within this many days of the as-of date

# %%
from datetime import date

import matplotlib.pyplot as plt
import polars as pl
from IPython.display import display

from lotline import api, expiry, notebook
from lotline.fefo import shipment_lines
from reports.expiry import build_expiry

notebook.show_frames()
engine = notebook.open_database(demo_dir)
lineage = api.load_lineage(engine)
last_shipment = lineage.shipments["shipped_at"].max()
as_of_date = date.fromisoformat(as_of) if as_of else last_shipment.date()
print(f"as of {as_of_date}, window {within_days} days")
report = build_expiry(engine, as_of_date, within_days)

# %% [markdown]
# ## Stock by days-to-expiry bucket
# Stock on hand at our own sites and warehouses that is expired or expires within the window,
# per location and bucket; quantities are added per unit of measure, never across units.
# `hold` is the hold, quarantine or recall in force (`released`: none).

# %%
colours = dict(
    zip(
        expiry.BUCKETS,
        ["#8b1a1a", "#a0522d", "#e07b39", "#f2c14e", "#9fb7cf", "#d5dbe1"],
        strict=True,
    )
)
units = report.summary["uom"].unique().sort().to_list()
if not units:
    print("no stock expires within the window")
else:
    rows = report.summary["location_id"].n_unique()
    fig, axes = plt.subplots(
        1, len(units), figsize=(4.5 * len(units), 0.5 * rows + 1.6), sharey=True, squeeze=False
    )
    locations = report.summary["location_id"].unique().sort(descending=True).to_list()
    for ax, unit in zip(axes[0], units, strict=True):
        stock = report.summary.filter(pl.col("uom") == unit)
        left = dict.fromkeys(locations, 0.0)
        for bucket in expiry.BUCKETS:
            part = stock.filter(pl.col("bucket") == bucket)
            if part.is_empty():
                continue
            ids = part["location_id"].to_list()
            ax.barh(
                [locations.index(i) for i in ids],
                part["quantity"],
                left=[left[i] for i in ids],
                color=colours[bucket],
            )
            for i, q in zip(ids, part["quantity"], strict=True):
                left[i] += q
        ax.set_yticks(range(len(locations)), locations)
        ax.set_title(unit, loc="left")
        ax.spines[["top", "right"]].set_visible(False)
    present = [b for b in expiry.BUCKETS if b in set(report.summary["bucket"])]
    fig.legend(
        [plt.Rectangle((0, 0), 1, 1, color=colours[b]) for b in present],
        present,
        loc="upper right",
        ncols=len(present),
        frameon=False,
    )
    fig.suptitle(f"Stock expiring within {within_days} days, as of {as_of_date}", x=0.01, ha="left")
    plt.tight_layout(rect=(0, 0, 1, 0.9))
    plt.show()
display(report.summary)

# %%
report.positions.select(
    "location_name",
    "product_name",
    "lot",
    "expiry_date",
    "days_to_expiry",
    "bucket",
    "quantity",
    "uom",
    notebook.status_label("hold_status").alias("hold"),
)

# %% [markdown]
# ## FEFO violations
# A shipment line of a lot leaving one of our sites while a lot of the same product with an
# earlier expiry was on hand there, approved and not expired (21 CFR 211.150(a)). Each leaves
# older stock behind that will expire unsold.

# %%
fefo = report.fefo
outbound = shipment_lines(lineage.shipments, api.locations(engine))
print(f"{fefo.height} FEFO violations in {outbound.height} shipment lines from our own sites")
weekly = (
    outbound.select("ship_date", violation=pl.lit(0))
    .vstack(fefo.select("ship_date", violation=pl.lit(1)))
    .sort("ship_date")
    .group_by_dynamic("ship_date", every="1w")
    .agg(lines=(pl.col("violation") == 0).sum(), violations=pl.col("violation").sum())
)
fig, ax = plt.subplots(figsize=(9, 3))
ax.bar(weekly["ship_date"], weekly["lines"], width=5, color="#9fb7cf", label="shipment lines")
ax.bar(weekly["ship_date"], weekly["violations"], width=5, color="#c00000", label="FEFO violations")
for day, n in weekly.filter(pl.col("violations") > 0).select("ship_date", "violations").iter_rows():
    ax.annotate(
        f"{n}", (day, n), xytext=(0, 3), textcoords="offset points", ha="center", color="#c00000"
    )
ax.set_title("Outbound shipment lines per week and FEFO violations among them", loc="left")
ax.legend(frameon=False, fontsize=8)
ax.spines[["top", "right"]].set_visible(False)
fig.autofmt_xdate()
plt.tight_layout()
plt.show()
fefo.select(
    "ship_date",
    "from_location_name",
    "consignee_name",
    "product_name",
    "lot",
    "expiry_date",
    "quantity",
    "uom",
    "days_earlier",
    "earlier_lots",
)

# %% [markdown]
# ## Customers holding short-dated stock
# Consignees that received lots which are now expired or expire soon: who a stock-rotation call
# or a withdrawal reaches first. The chart looks 90 days ahead with `lotline.expiry` directly
# (best-before lots count as a quality warning, never as expired); the table is the report's,
# 30 days ahead, where `quantity_net` is what they received less what they sent back.

# %%
horizon_days = 90
horizon = expiry.short_dated_at_customers(
    lineage.lots,
    lineage.shipments,
    api.locations(engine),
    as_of_date,
    horizon_days,
    products=api.products(engine),
)
statuses = {
    expiry.EXPIRED: "#8b1a1a",
    expiry.PAST_BEST_BEFORE: "#a0522d",
    expiry.EXPIRING: "#e07b39",
    expiry.BEST_BEFORE_SOON: "#f2c14e",
}
per_customer = (
    horizon.group_by("consignee_name", "status")
    .agg(pl.len().alias("lots"))
    .pivot("status", index="consignee_name", values="lots")
    .fill_null(0)
    .sort("consignee_name", descending=True)
)
if horizon.is_empty():
    print(f"no customer holds stock expiring within {horizon_days} days")
else:
    fig, ax = plt.subplots(figsize=(9, 0.4 * per_customer.height + 1.4))
    left = [0] * per_customer.height
    for status, colour in statuses.items():
        if status in per_customer.columns:
            counts = per_customer[status]
            ax.barh(per_customer["consignee_name"], counts, left=left, label=status, color=colour)
            left = [a + b for a, b in zip(left, counts, strict=True)]
    ax.set_xlabel("lots received")
    ax.set_title(
        f"Lots at customers expired or expiring within {horizon_days} days of {as_of_date}",
        loc="left",
    )
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    ax.spines[["top", "right"]].set_visible(False)
    plt.tight_layout()
    plt.show()

# %%
short = report.short_dated
assert short.height <= horizon.height  # a longer horizon never finds fewer
short.select(
    "consignee_name",
    "consignee_phone",
    "product_name",
    "lot",
    "expiry_date",
    "days_to_expiry",
    "status",
    "quantity_net",
    "uom",
).sort("days_to_expiry")

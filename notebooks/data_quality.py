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
# # Data quality
#
# Before a trace is trusted, the records behind it must be: which rows did each load reject or
# load with a warning, how complete is each lot's chain of records, and which lots do not
# balance (more went out than came in, or material is missing)? Everything here is stored by
# each load (`lotline.api`: `loads`, `rejected_records`, `record_findings`, `completeness`,
# `trace_exceptions`, `lot_balance`), so the notebook only reads.
#
# It works on the database named by `LOTLINE_DATABASE_URL`; without it, on the demo database
# in the project's `lotline-demo/` folder (the one `lotline demo` fills), built there on first
# use. The first output says which.

# %% tags=["parameters"]
from pathlib import Path

demo_dir = Path("..") / "lotline-demo"  # used when LOTLINE_DATABASE_URL is not set

# %%
import matplotlib.pyplot as plt
import polars as pl
from IPython.display import display

from lotline import api, mass_balance, notebook

notebook.show_frames()
engine = notebook.open_database(demo_dir)
loads = api.loads(engine)
print(f"{loads['load_id'].n_unique()} loads of {loads.height} files")

# %% [markdown]
# ## Rejections and warnings over loads
# Per load and file: rows loaded, unchanged (already stored), rejected (quarantined in
# `rejected_record` with the rule that failed) and loaded with a warning (`record_finding`).

# %%
outcomes = {
    "rows_loaded": "#548235",
    "rows_unchanged": "#9fb7cf",
    "rows_rejected": "#c00000",
    "rows_warned": "#f2c14e",
}
per_load = (
    loads.group_by("load_id")
    .agg(pl.col("loaded_at").min(), *(pl.col(c).sum() for c in outcomes))
    .sort("loaded_at")
    .with_row_index("load", offset=1)
)
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 0.3 * loads["file_name"].n_unique() + 2.5))
width = 0.8 / len(outcomes)
for i, (column, colour) in enumerate(outcomes.items()):
    x = [n + (i - 1.5) * width for n in per_load["load"]]
    bars = left.bar(x, per_load[column], width=width, color=colour, label=column[5:])
    left.bar_label(bars, fontsize=7)
left.set_xticks(per_load["load"].to_list())
left.set_xlabel("load (oldest first)")
left.set_title("Rows per load (warned rows loaded too)", loc="left")
left.legend(frameon=False, fontsize=8)
files = (
    loads.group_by("file_name")
    .agg(pl.col("rows_read", "rows_rejected", "rows_warned").sum())
    .sort("file_name", descending=True)
)
right.barh(files["file_name"], files["rows_read"], color="#9fb7cf")
for name, read, rejected, warned in files.iter_rows():
    bad = rejected or warned
    right.annotate(
        f" {rejected} rejected, {warned} warned",
        (read, name),
        va="center",
        fontsize=7,
        color="#c00000" if bad else "#555555",
    )
right.set_xlim(0, files["rows_read"].max() * 1.5)
right.set_title("Rows read per file, all loads", loc="left")
for ax in (left, right):
    ax.spines[["top", "right"]].set_visible(False)
plt.tight_layout()
plt.show()
display(loads)

# %% [markdown]
# The rules behind them: every rejected row names its file, row, column, rule and value; every
# warning the same for a row that loaded.

# %%
rejected = api.rejected_records(engine)
warnings = api.record_findings(engine)
by_rule = pl.concat(
    [
        rejected.select("source_file", "column", "rule", "value", kind=pl.lit("rejected")),
        warnings.select("source_file", "column", "rule", "value", kind=pl.lit("warning")),
    ]
)
if by_rule.is_empty():
    print("no row was rejected and none loaded with a warning")
by_rule.group_by("kind", "source_file", "column", "rule").agg(
    pl.len().alias("rows"), pl.col("value").drop_nulls().mode().first().alias("most_frequent")
).sort("rows", descending=True)

# %% [markdown]
# ## Completeness of the lineage
# Each load checks the chain of records (`lotline.completeness`): broken chains, orphan lots,
# negative stock, shipments of expired or held lots, outputs outliving their inputs, serials
# shipped twice, duplicate lot codes, unresolved SSCCs. A lot's score is the share of the checks
# that apply to it that it passes.

# %%
scores = api.completeness(engine)
findings = api.trace_exceptions(engine)
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 3.5))
left.hist(scores["score"], bins=[i / 20 for i in range(21)], color="#1f4e79")
left.set_xlabel("completeness score (share of applicable checks passed)")
left.set_ylabel("lots")
left.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
left.set_title(f"{scores.height} lots, {(scores['score'] < 1).sum()} below 100 %", loc="left")
counts = findings.group_by("check", "severity").len().sort("len")
severity_colour = {"error": "#c00000", "warning": "#f2c14e", "info": "#9fb7cf"}
right.barh(
    counts["check"],
    counts["len"],
    color=[severity_colour.get(s, "#7f7f7f") for s in counts["severity"]],
)
right.set_title("Findings by check", loc="left")
right.legend(
    [plt.Rectangle((0, 0), 1, 1, color=c) for c in severity_colour.values()],
    list(severity_colour),
    frameon=False,
    fontsize=8,
    loc="lower right",
)
for ax in (left, right):
    ax.spines[["top", "right"]].set_visible(False)
plt.tight_layout()
plt.show()
scores.filter(pl.col("score") < 1).sort("score", "gtin", "lot").head(20)

# %% [markdown]
# ## Mass-balance outliers
# Per lot, in the product's unit: what came in (received, produced, returned, adjusted in)
# against what is accounted for (consumed, shipped, destroyed, adjusted out, on hand). Inside
# 99.5–101.5 % a lot passes; outside it, material is missing or more left than arrived.

# %%
balance = api.lot_balance(engine).filter(pl.col("balance_ratio").is_not_null())
low, high = mass_balance.TOLERANCE
outside = balance.filter(~pl.col("balance_ratio").is_between(low, high))
fig, ax = plt.subplots(figsize=(10, 4))
ax.axhspan(low, high, color="#e2efda", label="tolerance")
inside = balance.filter(pl.col("balance_ratio").is_between(low, high))
ax.scatter(inside["inflow"], inside["balance_ratio"], s=10, color="#1f4e79", label="passes")
ax.scatter(outside["inflow"], outside["balance_ratio"], s=30, color="#c00000", label="outside")
for lot, x, y in outside.select("lot", "inflow", "balance_ratio").head(15).iter_rows():
    ax.annotate(lot, (x, y), xytext=(4, 4), textcoords="offset points", fontsize=7)
ax.set_xscale("log")
ax.yaxis.set_major_formatter(lambda v, _: f"{v:.1%}")
ax.set_xlabel("inflow in the product's unit (log scale)")
ax.set_ylabel("accounted / inflow")
ax.set_title(
    f"Mass balance of {balance.height} lots: {outside.height} outside tolerance", loc="left"
)
ax.legend(frameon=False, fontsize=8)
ax.spines[["top", "right"]].set_visible(False)
plt.tight_layout()
plt.show()
outside.select(
    "gtin",
    "lot",
    "product_name",
    "uom",
    "inflow",
    "accounted",
    "difference",
    "balance_ratio",
    "status",
).sort(pl.col("difference").abs(), descending=True)

# %%
assert loads["rows_read"].sum() >= loads["rows_loaded"].sum() + loads["rows_rejected"].sum()
assert loads["rows_rejected"].sum() == rejected.height
assert scores["score"].is_between(0, 1).all()
assert outside.filter(pl.col("status") == mass_balance.PASS).is_empty()
print("data-quality views are consistent")

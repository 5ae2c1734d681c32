"""The one-minute answer of a recall: what is affected, how much, where it went, what is still
on hand, and the numbered actions that follow from it.

Why a module of its own: the recall report prints it on page 1, and a notebook or the CLI asks
the same question (`lotline.api.recall_summary`); both must give the same figures, so the
figures and the actions are one pure function over the trace's frames. Actions are derived from
the data only — which consignees to notify, which stock is on hand and not yet held, what to
retrieve, which findings to resolve — never from a template of advice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from lotline import mass_balance
from lotline.lineage import STOCK_KINDS
from lotline.lineage_diagram import quantity_text
from lotline.status import RESTRICTING

TOP_CONSIGNEES = 5
QUALITY_RULES_LISTED = 3


@dataclass(frozen=True)
class Action:
    """One numbered action: a sentence and the items it applies to (consignees, lots, rules)."""

    kind: str  # notify | hold | retrieve | resolve
    text: str
    items: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RecallSummary:
    """The figures of the first page; frames keep every row, the page prints the head."""

    subject: dict[str, object]
    lots_backward: int
    lots_forward: int
    products_forward: int
    quantities: pl.DataFrame
    """scope (subject lot | lots made from it | inputs), uom, lots, produced (received +
    produced), shipped, returned, on_hand, unaccounted (the sum over lots of inflow − accounted
    where that is positive: material nobody can say where it went)."""
    consignees: pl.DataFrame
    """External consignees, largest first: to_location_id, name, phone, email, lots, shipped,
    returned, outstanding (texts per unit), quantity (for the ranking)."""
    holds: pl.DataFrame
    """Traced lots whose status in force restricts them: gtin, lot, product_name, status,
    status_at."""
    to_hold: pl.DataFrame
    """Stock on hand of traced lots not under a restricting status: location_id,
    location_name, gtin, lot, product_name, quantity, uom, direction (an input of the subject
    lot is marked: holding it is for the investigation, not for the recall itself)."""
    balance: dict[str, object]
    quality: pl.DataFrame
    """Data-quality findings touching the trace: source (completeness | rejected | warning),
    rule, findings; largest first."""
    actions: list[Action]

    @property
    def consignee_count(self) -> int:
        return self.consignees.height

    @property
    def top_consignees(self) -> pl.DataFrame:
        return self.consignees.head(TOP_CONSIGNEES)

    @property
    def quality_count(self) -> int:
        return int(self.quality["findings"].sum() or 0)

    def as_dict(self) -> dict[str, object]:
        """Plain values, for JSON and for comparing with what a PDF prints."""
        return {
            "subject": self.subject,
            "lots_backward": self.lots_backward,
            "lots_forward": self.lots_forward,
            "quantities": self.quantities.to_dicts(),
            "consignee_count": self.consignee_count,
            "top_consignees": self.top_consignees.to_dicts(),
            "holds": self.holds.to_dicts(),
            "to_hold": self.to_hold.to_dicts(),
            "balance": self.balance,
            "quality_count": self.quality_count,
            "quality": self.quality.to_dicts(),
            "actions": [{"kind": a.kind, "text": a.text, "items": a.items} for a in self.actions],
        }


def per_unit_text(frame: pl.DataFrame, keys: list[str], value: str, alias: str) -> pl.DataFrame:
    """'50 CS; 1 EA' per `keys`: quantities of different units are listed, never added."""
    return (
        frame.group_by(*keys, "uom")
        .agg(pl.col(value).sum())
        .filter(pl.col(value).abs() > 1e-9)
        .sort(*keys, "uom")
        .group_by(keys, maintain_order=True)
        .agg(quantity_text(pl.col(value), pl.col("uom")).str.join("; ").alias(alias))
    )


def summarise(
    subject: dict[str, object],
    lots: pl.DataFrame,
    lot_balance: pl.DataFrame,
    shipments: pl.DataFrame,
    returns: pl.DataFrame,
    inventory: pl.DataFrame,
    locations: pl.DataFrame,
    exceptions: pl.DataFrame,
    warnings: pl.DataFrame,
    rejected: pl.DataFrame,
) -> RecallSummary:
    """The summary of one trace.

    `lots`: the traced lots (lot_key, gtin, lot, product_name, direction, status, status_at);
    `lot_balance`: their stored mass balance (lot_key, uom, quantities, difference, status);
    `shipments`: the shipment lines (to_location_id, gtin, lot, quantity, uom); `returns`: return
    moves of the traced lots (from_location_id, gtin, lot, quantity, uom); `inventory`: stock on
    hand with the status in force (location_id, location_name, gtin, lot, product_name,
    quantity, uom, status); `locations`: master data (location_id, kind, business_name, phone,
    optional email); `exceptions` (check), `warnings` (rule), `rejected` (rule): the findings
    that name traced lots.
    """
    direction = pl.col("direction")
    backward = lots.filter(direction == "backward")
    forward = lots.filter(direction == "forward")
    consignees = _consignees(shipments, returns, locations)
    holds = (
        lots.filter(pl.col("status").is_in(list(RESTRICTING)))
        .select("gtin", "lot", "product_name", "direction", "status", "status_at")
        .sort("direction", "gtin", "lot")
    )
    to_hold = (
        inventory.filter(
            (pl.col("quantity") > 1e-9)
            & ~pl.col("status").is_in(list(RESTRICTING)).fill_null(False)
        )
        .join(lots.select("gtin", "lot", "direction").unique(["gtin", "lot"]), on=["gtin", "lot"])
        .select(
            "location_id",
            "location_name",
            "gtin",
            "lot",
            "product_name",
            "quantity",
            "uom",
            "direction",
        )
        .sort("location_id", "gtin", "lot")
    )
    quality = _quality(exceptions, warnings, rejected)
    balance = _balance(subject, lot_balance)
    quantities = _quantities(lots, lot_balance)
    return RecallSummary(
        subject={
            k: subject.get(k)
            for k in ("gtin", "lot", "product_name", "uom", "origin", "expiry_date")
        },
        lots_backward=backward.height,
        lots_forward=forward.height,
        products_forward=forward["gtin"].n_unique(),
        quantities=quantities,
        consignees=consignees,
        holds=holds,
        to_hold=to_hold,
        balance=balance,
        quality=quality,
        actions=_actions(consignees, to_hold, quality, balance),
    )


def _quantities(lots: pl.DataFrame, lot_balance: pl.DataFrame) -> pl.DataFrame:
    """Per scope and unit, from the stored balance (every quantity in the product's unit)."""
    scope = (
        pl.when(pl.col("direction") == "subject")
        .then(pl.lit("subject lot"))
        .when(pl.col("direction") == "forward")
        .then(pl.lit("lots made from it"))
        .otherwise(pl.lit("its inputs"))
    )
    order = {"subject lot": 0, "lots made from it": 1, "its inputs": 2}
    joined = lot_balance.drop("gtin", "lot", "product_name", strict=False).join(
        lots.select("lot_key", "direction"), on="lot_key"
    )
    return (
        joined.with_columns(scope.alias("scope"))
        .group_by("scope", "uom")
        .agg(
            pl.len().alias("lots"),
            (pl.col("quantity_received") + pl.col("quantity_produced")).sum().alias("produced"),
            pl.col("quantity_shipped").sum().alias("shipped"),
            pl.col("quantity_returned").sum().alias("returned"),
            pl.col("quantity_on_hand").sum().alias("on_hand"),
            # missing material per lot; a lot over-accounted (ratio > 1) does not hide another's
            # loss, it fails the balance on its own
            (-pl.col("difference")).clip(lower_bound=0).sum().round(6).abs().alias("unaccounted"),
        )
        .sort(pl.col("scope").replace_strict(order, return_dtype=pl.Int8), "uom")
    )


def _consignees(
    shipments: pl.DataFrame, returns: pl.DataFrame, locations: pl.DataFrame
) -> pl.DataFrame:
    """External consignees (not the company's own sites and warehouses), largest first."""
    master = locations.select(
        pl.col("location_id").alias("to_location_id"),
        "kind",
        pl.col("business_name").alias("name"),
        pl.col("phone") if "phone" in locations.columns else pl.lit(None, pl.String).alias("phone"),
        pl.col("email") if "email" in locations.columns else pl.lit(None, pl.String).alias("email"),
    )
    lines = shipments.select("to_location_id", "gtin", "lot", "quantity", "uom").join(
        master.select("to_location_id", "kind"), on="to_location_id", how="left"
    )
    lines = lines.filter(~pl.col("kind").is_in(list(STOCK_KINDS)).fill_null(False))
    back = returns.select(
        pl.col("from_location_id").alias("to_location_id"), "gtin", "lot", "quantity", "uom"
    ).join(lines.select("to_location_id").unique(), on="to_location_id", how="semi")
    net = pl.concat(
        [
            lines.select("to_location_id", "quantity", "uom"),
            back.select("to_location_id", (-pl.col("quantity")).alias("quantity"), "uom"),
        ]
    )
    keys = ["to_location_id"]
    summary = lines.group_by(keys).agg(
        pl.struct("gtin", "lot").n_unique().alias("lots"), pl.col("quantity").sum()
    )
    return (
        summary.join(master, on=keys, how="left")
        .join(per_unit_text(lines, keys, "quantity", "shipped"), on=keys, how="left")
        .join(per_unit_text(back, keys, "quantity", "returned"), on=keys, how="left")
        .join(per_unit_text(net, keys, "quantity", "outstanding"), on=keys, how="left")
        .select(
            "to_location_id",
            pl.col("name").fill_null(pl.col("to_location_id")),
            "phone",
            "email",
            "lots",
            "shipped",
            "returned",
            "outstanding",
            "quantity",
        )
        .sort("quantity", "name", "to_location_id", descending=[True, False, False])
    )


def _quality(
    exceptions: pl.DataFrame, warnings: pl.DataFrame, rejected: pl.DataFrame
) -> pl.DataFrame:
    parts = [
        exceptions.group_by(pl.col("check").alias("rule"))
        .agg(pl.len().alias("findings"))
        .with_columns(pl.lit("completeness").alias("source")),
        rejected.group_by("rule")
        .agg(pl.len().alias("findings"))
        .with_columns(pl.lit("rejected row").alias("source")),
        warnings.group_by("rule")
        .agg(pl.len().alias("findings"))
        .with_columns(pl.lit("validation warning").alias("source")),
    ]
    schema = {"source": pl.String, "rule": pl.String, "findings": pl.Int64}
    return pl.concat([p.select("source", "rule", "findings").cast(schema) for p in parts]).sort(
        "findings", "source", "rule", descending=[True, False, False]
    )


def _balance(subject: dict[str, object], lot_balance: pl.DataFrame) -> dict[str, object]:
    own = lot_balance.filter(pl.col("lot_key") == subject.get("lot_key"))
    row = own.row(0, named=True) if own.height else {}
    failing = lot_balance.filter(
        pl.col("status").is_in([mass_balance.FAIL, mass_balance.UNCONVERTIBLE])
    )
    low, high = mass_balance.TOLERANCE
    return {
        "status": row.get("status"),
        "ratio": row.get("balance_ratio"),
        "unaccounted": -row["difference"] if row.get("difference") is not None else None,
        "failing_lots": failing.height,
        "lots": lot_balance.height,
        "tolerance": (low, high),
    }


def _actions(
    consignees: pl.DataFrame,
    to_hold: pl.DataFrame,
    quality: pl.DataFrame,
    balance: dict[str, object],
) -> list[Action]:
    actions: list[Action] = []
    if consignees.height:
        names = consignees["name"].to_list()
        actions.append(
            Action(
                "notify",
                f"Notify {consignees.height} consignee{_s(consignees.height)} of the recall.",
                names,
            )
        )
    if to_hold.height:
        sites = to_hold.group_by("location_id", maintain_order=True).agg(
            pl.col("location_name").first(), pl.len().alias("lots")
        )
        items = [
            f"{r['location_name'] or r['location_id']} ({r['location_id']}): "
            f"{r['gtin']} lot {r['lot']}, {_fmt(r['quantity'])} {r['uom'] or ''}".rstrip()
            + (" (an input)" if r["direction"] == "backward" else "")
            for r in to_hold.iter_rows(named=True)
        ]
        where = ", ".join(
            f"{r['location_name'] or r['location_id']} ({r['lots']} lot{_s(r['lots'])})"
            for r in sites.iter_rows(named=True)
        )
        actions.append(
            Action(
                "hold",
                f"Place a hold on {to_hold.height} lot position{_s(to_hold.height)} still on "
                f"hand and not yet held, at {where}.",
                items,
            )
        )
    outstanding = consignees.filter(pl.col("outstanding").is_not_null())
    if outstanding.height:
        items = [
            f"{r['name']}: {r['outstanding']}"
            + (f" (shipped {r['shipped']}, returned {r['returned']})" if r["returned"] else "")
            for r in outstanding.iter_rows(named=True)
        ]
        actions.append(
            Action(
                "retrieve",
                f"Retrieve the quantities shipped and not returned from {outstanding.height} "
                f"consignee{_s(outstanding.height)}.",
                items,
            )
        )
    failing = int(balance.get("failing_lots") or 0)  # type: ignore[call-overload]
    if quality.height or failing:
        total = int(quality["findings"].sum() or 0)
        items = [
            f"{r['rule']} ({r['source']}): {r['findings']}" for r in quality.iter_rows(named=True)
        ]
        if failing:
            items.append(f"mass balance outside the tolerance: {failing} lot{_s(failing)}")
        parts = [f"{total} data-quality finding{_s(total)}"] if total else []
        if failing:
            parts.append(f"{failing} lot{_s(failing)} out of balance")
        actions.append(
            Action("resolve", f"Resolve {' and '.join(parts)} on the traced lots.", items)
        )
    return actions


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _fmt(value: float | None) -> str:
    if value is None:
        return "—"
    if float(value) == int(value):
        return f"{int(value):,}"
    return f"{value:,.3f}".rstrip("0").rstrip(".")

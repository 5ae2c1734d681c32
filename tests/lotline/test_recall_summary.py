"""The recall summary as a pure function: figures and actions from hand-made frames."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from lotline.recall_summary import summarise

AT = datetime(2026, 9, 20, 15, tzinfo=UTC)


def frames(**overrides: pl.DataFrame) -> dict[str, object]:
    lots = pl.DataFrame(
        {
            "lot_key": [1, 2, 3],
            "gtin": ["G1", "G0", "G2"],
            "lot": ["A", "RAW", "B"],
            "product_name": ["Cookies", "Flour", "Tin"],
            "direction": ["subject", "backward", "forward"],
            "status": [None, "hold", None],
            "status_at": [None, AT, None],
        }
    )
    balance = pl.DataFrame(
        {
            "lot_key": [1, 2, 3],
            "uom": ["CS", "KGM", "EA"],
            "quantity_received": [0.0, 500.0, 0.0],
            "quantity_produced": [100.0, 0.0, 3.0],
            "quantity_shipped": [80.0, 0.0, 1.0],
            "quantity_returned": [5.0, 0.0, 0.0],
            "quantity_on_hand": [20.0, 100.0, 2.0],
            "difference": [-5.0, 0.0, 0.0],
            "balance_ratio": [0.95, 1.0, 1.0],
            "status": ["fail", "pass", "pass"],
        }
    )
    shipments = pl.DataFrame(
        {
            "to_location_id": ["CUST-A", "CUST-B", "CUST-B", "WH-2"],
            "gtin": ["G1", "G1", "G2", "G1"],
            "lot": ["A", "A", "B", "A"],
            "quantity": [50.0, 30.0, 1.0, 7.0],
            "uom": ["CS", "CS", "EA", "CS"],
        }
    )
    returns = pl.DataFrame(
        {
            "from_location_id": ["CUST-A"],
            "gtin": ["G1"],
            "lot": ["A"],
            "quantity": [5.0],
            "uom": ["CS"],
        }
    )
    inventory = pl.DataFrame(
        {
            "location_id": ["WH-1", "WH-1", "WH-2"],
            "location_name": ["Warehouse 1", "Warehouse 1", "Warehouse 2"],
            "gtin": ["G1", "G0", "G2"],
            "lot": ["A", "RAW", "B"],
            "product_name": ["Cookies", "Flour", "Tin"],
            "quantity": [20.0, 100.0, 2.0],
            "uom": ["CS", "KGM", "EA"],
            "status": [None, "hold", "release"],
        }
    )
    locations = pl.DataFrame(
        {
            "location_id": ["CUST-A", "CUST-B", "WH-1", "WH-2"],
            "kind": ["customer", "customer", "warehouse", "warehouse"],
            "business_name": ["Corner Grocer", "MegaMart", "Warehouse 1", "Warehouse 2"],
            "phone": ["+1 555 0104", None, None, None],
        }
    )
    values: dict[str, object] = {
        "subject": {"lot_key": 1, "gtin": "G1", "lot": "A", "product_name": "Cookies"},
        "lots": lots,
        "lot_balance": balance,
        "shipments": shipments,
        "returns": returns,
        "inventory": inventory,
        "locations": locations,
        "exceptions": pl.DataFrame({"check": ["orphan_lot", "orphan_lot", "negative_stock"]}),
        "warnings": pl.DataFrame({"rule": ["future_time"]}),
        "rejected": pl.DataFrame({"rule": []}, schema={"rule": pl.String}),
    }
    values.update(overrides)
    return values


def test_figures_per_scope_and_unit():
    summary = summarise(**frames())
    assert (summary.lots_backward, summary.lots_forward, summary.products_forward) == (1, 1, 1)
    assert summary.quantities.select(
        "scope", "uom", "produced", "shipped", "returned", "on_hand", "unaccounted"
    ).rows() == [
        ("subject lot", "CS", 100.0, 80.0, 5.0, 20.0, 5.0),
        ("lots made from it", "EA", 3.0, 1.0, 0.0, 2.0, 0.0),
        ("its inputs", "KGM", 500.0, 0.0, 0.0, 100.0, 0.0),
    ]
    assert summary.balance["status"] == "fail" and summary.balance["failing_lots"] == 1
    assert summary.holds.select("lot", "status").rows() == [("RAW", "hold")]


def test_consignees_are_external_largest_first_with_contact_and_returns():
    summary = summarise(**frames())
    assert summary.consignee_count == 2  # WH-2 is an own warehouse: a transfer, not a consignee
    assert summary.consignees.select(
        "name", "phone", "shipped", "returned", "outstanding"
    ).rows() == [
        ("Corner Grocer", "+1 555 0104", "50 CS", "5 CS", "45 CS"),
        ("MegaMart", None, "30 CS; 1 EA", None, "30 CS; 1 EA"),
    ]


def test_actions_follow_from_the_data():
    notify, hold, retrieve, resolve = summarise(**frames()).actions
    assert notify.text == "Notify 2 consignees of the recall."
    assert notify.items == ["Corner Grocer", "MegaMart"]
    # the held flour lot is left out; a released lot is on hand and gets the hold
    assert hold.items == [
        "Warehouse 1 (WH-1): G1 lot A, 20 CS",
        "Warehouse 2 (WH-2): G2 lot B, 2 EA",
    ]
    assert "at Warehouse 1 (1 lot), Warehouse 2 (1 lot)" in hold.text
    assert retrieve.items == [
        "Corner Grocer: 45 CS (shipped 50 CS, returned 5 CS)",
        "MegaMart: 30 CS; 1 EA",
    ]
    assert (
        resolve.text
        == "Resolve 4 data-quality findings and 1 lot out of balance on the traced lots."
    )
    assert resolve.items[0] == "orphan_lot (completeness): 2"


def test_nothing_to_do_gives_no_actions():
    empty_shipments = frames()["shipments"].clear()  # type: ignore[union-attr]
    summary = summarise(
        **frames(
            shipments=empty_shipments,
            inventory=frames()["inventory"].clear(),  # type: ignore[union-attr]
            exceptions=pl.DataFrame({"check": []}, schema={"check": pl.String}),
            warnings=pl.DataFrame({"rule": []}, schema={"rule": pl.String}),
            lot_balance=frames()["lot_balance"].with_columns(pl.lit("pass").alias("status")),  # type: ignore[union-attr]
        )
    )
    assert summary.actions == [] and summary.consignee_count == 0 and summary.quality_count == 0


def test_an_unheld_input_on_hand_is_marked_in_the_hold_action():
    values = frames()
    values["inventory"] = values["inventory"].with_columns(pl.lit(None, pl.String).alias("status"))  # type: ignore[union-attr]
    hold = summarise(**values).actions[1]
    assert "Warehouse 1 (WH-1): G0 lot RAW, 100 KGM (an input)" in hold.items
    assert len(hold.items) == 3

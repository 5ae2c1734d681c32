"""Vocabulary columns as other systems spell them load as the contract's words."""

from __future__ import annotations

import polars as pl
import pytest

from lotline.intake import vocabulary
from lotline.intake.contract import RECORD_TYPES


@pytest.mark.parametrize(
    ("record_type", "column", "written", "meant"),
    [
        ("receipts", "ref_doc_type", "ASN", "desadv"),
        ("receipts", "ref_doc_type", " Despatch Advice ", "desadv"),
        ("receipts", "ref_doc_type", "desadv", "desadv"),
        ("shipments", "ref_doc_type", "BOL", "bol"),
        ("shipments", "ref_doc_type", "Bill of Lading", "bol"),
        ("shipments", "ref_doc_type", "INV", "inv"),
        ("shipments", "ref_doc_type", "Invoice", "inv"),
        ("receipts", "ref_doc_type", "PO", "po"),
        ("receipts", "ref_doc_type", "purchase-order", "po"),
        ("production", "ref_doc_type", "Batch_Record", "batch_record"),
        ("moves", "reason", " Transfer", "transfer"),
        ("moves", "reason", "SCRAP", "scrap"),
        ("moves", "reason", "Adjustment ", "adjustment"),
        ("locations", "kind", "Vendor", "supplier"),
        ("locations", "kind", "CUSTOMER", "customer"),
        ("locations", "kind", "DC", "warehouse"),
        ("products", "tracking", "LOT", "lot"),
        ("products", "tracking", "Serial", "serial"),
        ("products", "tracking", "By Unique Serial Number", "serial"),
        ("products", "expiry_kind", "Use By", "use_by"),
        ("products", "expiry_kind", "best before", "best_before"),
        ("products", "uom", "kg", "KGM"),
        ("products", "uom", "Units", "EA"),
        ("receipts", "uom", "Nos", "EA"),
        ("receipts", "uom", "ltr", "LTR"),
        ("packing", "action", "PACK", "pack"),
        ("packing", "action", "Delete", "unpack"),
        ("status", "status", "Hold", "hold"),
        ("status", "status", "RELEASE", "release"),
    ],
)
def test_synonyms_and_case_become_the_contract_value(record_type, column, written, meant) -> None:
    rt = RECORD_TYPES[record_type]
    raw = pl.DataFrame({c: [None] for c in rt.columns}, schema={c: pl.String for c in rt.columns})
    raw = raw.with_columns(pl.lit(written).alias(column))
    assert vocabulary.canonical(rt, raw)[column].to_list() == [meant]


def test_an_unknown_value_is_kept_verbatim() -> None:
    rt = RECORD_TYPES["receipts"]
    raw = pl.DataFrame({"ref_doc_type": ["Fax ", None, "asn"], "uom": ["furlong", "KGM", "kgs"]})
    out = vocabulary.canonical(rt, raw)
    assert out["ref_doc_type"].to_list() == ["Fax ", None, "desadv"]
    assert out["uom"].to_list() == ["furlong", "KGM", "KGM"]


def test_strict_columns_are_the_ones_that_place_a_row() -> None:
    assert vocabulary.is_strict("products", "tracking")
    assert vocabulary.is_strict("locations", "kind")
    assert not vocabulary.is_strict("receipts", "ref_doc_type")
    assert not vocabulary.is_strict("moves", "reason")

"""EPCIS 2.0 export: a trace or a date range as one `EPCISDocument` (JSON-LD, or the XML binding),
each event named by its CBV 2.0 event hash, so a partner's repository and lotline agree on ids.

The events are the Critical Tracking Events `lotline.fsma204` selects, one EPCIS event each:

- receipt lines of one `receipt_id`: ObjectEvent OBSERVE, bizStep receiving, in_progress;
- shipment lines of one `shipment_id`: ObjectEvent OBSERVE, bizStep shipping, in_transit;
- one output lot of a production with the input lots used for it: TransformationEvent
  (inputQuantityList with the quantity of each input used), bizStep commissioning, active;
- a produced lot with no recorded input at all: ObjectEvent ADD, bizStep commissioning, active;
- packing lines of one `packing_id`: AggregationEvent ADD (pack) or DELETE (unpack) under the
  SSCC, bizStep packing or unpacking.

Identifiers are GS1 Digital Link URIs (`lotline.gs1.uri.digital_link`): a lot quantity is the
LGTIN class `https://id.gs1.org/01/<gtin>/10/<lot>` with its quantity and UN/ECE unit code in
`quantityList`; a serial is the SGTIN `…/01/<gtin>/21/<serial>` in `epcList`; a pallet the SSCC
`…/00/<sscc>`; a location with a GLN the SGLN `…/414/<gln>`, one without a GLN
`urn:lotline:location:<location_id>` (percent-encoded). `readPoint` and `bizLocation` are where the
event happened (the receiving site, the ship-from site, the plant); `sourceList` and
`destinationList` name the supplier and the consignee, typed `location`. A shipping event lists
the SSCCs its lines travelled in beside the lot quantities. A reference document becomes a
`bizTransactionList` entry: its type is the CBV 2.0 business transaction type (`po`, `desadv`,
`inv`, `bol`, `prodorder`, `recadv`, `rma`; other types `urn:lotline:btt:<type>`), its value
`urn:lotline:bt:<number>` (percent-encoded), or the number itself when it is already a URI
(`urn:`, `http(s)://`: what capture stores from a partner's document). A produced lot's master
data travels in the `ilmd` of the event that produced it: `cbvmda:lotNumber`,
`cbvmda:productionDate` and `cbvmda:itemExpirationDate` (use-by products) or
`cbvmda:bestBeforeDate` (best-before products).

Times: `eventTime` in UTC, `eventTimeZoneOffset` the offset recorded with the event.
`creationDate` is the creation time of the data snapshot the export reads, so exporting the
same data twice gives the same bytes. The products and locations the events name are in
`epcisHeader.epcisMasterData` (EPCClass and BusinessLocation vocabularies).

Received lots carry no `ilmd`: EPCIS allows it only where objects come into being (action ADD),
which is the supplier's commissioning event, not our receipt. Moves between our own sites and
status decisions are not exported (like the FSMA 204 sheets).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Engine

import models
from lotline import store
from lotline.fsma204 import local_date_between
from lotline.gs1.event_hash import EPCIS_CONTEXT, with_event_ids
from lotline.gs1.json_text import dumps_indent2
from lotline.gs1.uri import digital_link, resolver_base
from lotline.trace import TraceResult

SCHEMA_VERSION = "2.0"
XML_NAMESPACE = "urn:epcglobal:epcis:xsd:2"
CBVMDA_XML_NAMESPACE = "urn:epcglobal:cbv:mda"
LOCATION_URN = "urn:lotline:location:"
BT_URN = "urn:lotline:bt:"
BTT_URN = "urn:lotline:btt:"
URI_PREFIXES = ("urn:", "http://", "https://")
"""A reference number that is already a URI (one captured from EPCIS) is exported as it is."""
MDA = "urn:epcglobal:cbv:mda#"
LOTLINE_MDA = "urn:lotline:mda#"
CBV_BTT = ("bol", "desadv", "inv", "po", "prodorder", "recadv", "rma")
"""Reference document types of the data contract that are CBV 2.0 business transaction types."""

VTYPE_PRODUCT = "urn:epcglobal:epcis:vtype:EPCClass"
VTYPE_LOCATION = "urn:epcglobal:epcis:vtype:BusinessLocation"

PRODUCTION_COLUMNS = [
    "production_id",
    "completed_at",
    "tz_offset",
    "location_id",
    "gtin",
    "lot",
    "serial",
    "quantity",
    "uom",
    "production_date",
    "expiry_date",
    "ref_doc_type",
    "ref_doc_number",
]
PACKING_COLUMNS = [
    "packing_id",
    "packed_at",
    "tz_offset",
    "action",
    "parent_sscc",
    "child_sscc",
    "gtin",
    "lot",
    "serial",
    "quantity",
    "uom",
    "location_id",
    "ref_doc_type",
    "ref_doc_number",
]


@dataclass(frozen=True)
class Selection:
    """The event rows of an export, as lineage and record frames."""

    receipts: pl.DataFrame
    """lineage `lot_receipt` rows"""
    shipments: pl.DataFrame
    """lineage `lot_shipment` rows"""
    edges: pl.DataFrame
    """`edges_with_lots` rows (input/output gtin and lot per production)"""
    production: pl.DataFrame
    """production record lines of the output lots exported (`PRODUCTION_COLUMNS`)"""
    commissioned: pl.DataFrame
    """production record lines of produced lots without any input (`PRODUCTION_COLUMNS`)"""
    packing: pl.DataFrame
    """packing record lines (`PACKING_COLUMNS`)"""


@dataclass(frozen=True)
class Master:
    products: pl.DataFrame
    locations: pl.DataFrame
    production_offsets: pl.DataFrame
    """`production_id`, `tz_offset`, `ref_doc_type`, `ref_doc_number` per production"""


# --- identifiers --------------------------------------------------------------------------------


def location_uri(location_id: str, gln: str | None) -> str:
    """SGLN Digital Link when the location has a GLN, else lotline's location URN."""
    if gln:
        return digital_link(gln=gln)
    return LOCATION_URN + quote(location_id, safe="")


def lot_class(gtin: str, lot: str) -> str:
    return digital_link(gtin=gtin, lot=lot)


def serial_uri(gtin: str, serial: str) -> str:
    return digital_link(gtin=gtin, serial=serial)


def biz_transaction(doc_type: str | None, number: str | None) -> list[dict[str, str]]:
    """The reference document as a `bizTransactionList` (empty without a number)."""
    if not number:
        return []
    entry = {"type": doc_type if doc_type in CBV_BTT else BTT_URN + quote(doc_type or "", safe="")}
    if not doc_type:
        entry = {}
    value = number if number.startswith(URI_PREFIXES) else BT_URN + quote(number, safe="")
    return [{**entry, "bizTransaction": value}]


def event_time(at: datetime) -> str:
    """UTC, `Z`, milliseconds only when there are any."""
    at = at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
    text = at.strftime("%Y-%m-%dT%H:%M:%S")
    if at.microsecond:
        text += f".{at.microsecond // 1000:03d}"
    return text + "Z"


def _number(value: float) -> float | int:
    """50.0 → 50: quantities as people write them (the hash canonicalises both alike)."""
    return int(value) if float(value).is_integer() and math.isfinite(value) else value


# --- events -------------------------------------------------------------------------------------


def events(selection: Selection, master: Master) -> list[dict[str, Any]]:
    """Every EPCIS event of the selection, by event time then kind, without eventIDs.

    Each frame is grouped once by Polars and read once as Python columns, and every identifier
    is made once per distinct value: a hub's 77k events had been one Polars query each and
    1.1M Digital Link calls."""
    names = _Names(master.locations)
    expiry_kinds = dict(master.products.select("gtin", "expiry_kind").iter_rows())
    keyed: list[tuple[tuple[str, int, str], dict[str, Any]]] = []
    keyed += [((e["eventTime"], 0, k), e) for k, e in _receiving(selection.receipts, names)]
    keyed += [((e["eventTime"], 1, k), e) for k, e in _packing(selection.packing, names)]
    keyed += [((e["eventTime"], 2, k), e) for k, e in _shipping(selection.shipments, names)]
    keyed += [
        ((e["eventTime"], 3, k), e)
        for k, e in _transformation(selection, master.production_offsets, names, expiry_kinds)
    ]
    keyed += [
        ((e["eventTime"], 3, k), e)
        for k, e in _commissioning(selection.commissioned, names, expiry_kinds)
    ]
    return [e for _, e in sorted(keyed, key=lambda pair: pair[0])]


class _Names:
    """The identifiers and times of one export, each made once (a hub's events name ~30k lots
    in 1.1M places)."""

    def __init__(self, locations: pl.DataFrame | None = None) -> None:
        self.glns = (
            {} if locations is None else dict(locations.select("location_id", "gln").iter_rows())
        )
        self.places: dict[str, str] = {}
        self.lots: dict[tuple[str, str], str] = {}
        self.ssccs: dict[str, str] = {}
        self.times: dict[datetime, str] = {}

    def where(self, location_id: str) -> str:
        uri = self.places.get(location_id)
        if uri is None:
            uri = self.places[location_id] = location_uri(location_id, self.glns.get(location_id))
        return uri

    def lot_class(self, gtin: str, lot: str) -> str:
        uri = self.lots.get((gtin, lot))
        if uri is None:
            uri = self.lots[gtin, lot] = lot_class(gtin, lot)
        return uri

    def sscc(self, sscc: str) -> str:
        uri = self.ssccs.get(sscc)
        if uri is None:
            uri = self.ssccs[sscc] = digital_link(sscc=sscc)
        return uri

    def header(self, kind: str, at: datetime, offset: str | None) -> dict[str, Any]:
        text = self.times.get(at)
        if text is None:
            text = self.times[at] = event_time(at)
        return {"type": kind, "eventTime": text, "eventTimeZoneOffset": offset or "+00:00"}

    def quantity(self, gtin: str, lot: str, quantity: float, uom: str | None) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "epcClass": self.lot_class(gtin, lot),
            "quantity": _number(quantity),
        }
        if uom:
            entry["uom"] = uom
        return entry


def _quantity(gtin: str, lot: str, quantity: float, uom: str | None) -> dict[str, Any]:
    """One `quantityList` entry: the LGTIN class, the quantity and its unit."""
    return _Names().quantity(gtin, lot, quantity, uom)


SERIAL_AS_IS = r"^[A-Za-z0-9_.~!$&'()*+,;=:@-]+$"
"""A serial `digital_link` writes as it is: no character of it is percent-encoded."""


def _lines(frame: pl.DataFrame, extra: Sequence[str] = ()) -> list[tuple[Any, ...]]:
    """Every line of `frame` as (gtin, lot, SGTIN or None, uom, quantity, *extra).

    The SGTINs of a whole frame are made by one Polars expression (a hub ships 10⁵ serials);
    `serial_uri` makes those whose GTIN is not all digits or whose serial needs encoding."""
    base = resolver_base().rstrip("/")
    gtin, serial = pl.col("gtin"), pl.col("serial")
    as_is = gtin.str.contains(r"^[0-9]{1,14}$") & serial.str.contains(SERIAL_AS_IS)
    sgtin = pl.when(as_is).then(
        pl.concat_str(pl.lit(base + "/01/"), gtin.str.zfill(14), pl.lit("/21/"), serial)
    )
    columns = frame.select(
        gtin, "lot", sgtin.alias("sgtin"), "uom", "quantity", *extra
    ).get_columns()
    values = [column.to_list() for column in columns]
    sgtins = values[2]
    for i in frame.select((serial.is_not_null() & ~as_is.fill_null(False)).arg_true()).to_series():
        sgtins[i] = serial_uri(values[0][i], frame["serial"][i])
    return list(zip(*values, strict=True))


def _what(lines: pl.DataFrame) -> dict[str, list[Any]]:
    """Serial lines as SGTINs (`epcList`), lot lines as LGTIN quantities (`quantityList`)."""
    return _what_rows(_lines(lines), lambda: lines, _Names())


def _what_rows(
    rows: Sequence[tuple[Any, ...]], lines: Callable[[], pl.DataFrame], names: _Names
) -> dict[str, list[Any]]:
    """`_what` of an event's lines as `_lines` gives them.

    Python rows (one event has a few lines: Polars' per-call cost dominated a hub's export);
    lines of the same lot and unit are summed by Polars as before, on the event's frame
    (`lines()`, made only then), so every float stays the same."""
    serials = sorted({line[2] for line in rows if line[2] is not None})
    lot_lines = [
        (line[0], line[1], line[3], line[4])
        for line in rows
        if line[2] is None and line[1] is not None
    ]
    single = _single_lines(lot_lines)
    if single is not None:
        return {"epcList": serials, "quantityList": [names.quantity(*line) for line in single]}
    quantities = (
        lines()
        .filter(pl.col("serial").is_null() & pl.col("lot").is_not_null())
        .group_by("gtin", "lot", "uom")
        .agg(pl.col("quantity").sum())
        .sort("gtin", "lot", "uom")
    )
    return {
        "epcList": serials,
        "quantityList": [
            names.quantity(g, lo, q, u)
            for g, lo, u, q in quantities.select("gtin", "lot", "uom", "quantity").iter_rows()
        ],
    }


def _rows(frame: pl.DataFrame, columns: list[str]) -> list[tuple[Any, ...]]:
    """Rows of some columns, without a Polars query per call."""
    return list(zip(*(frame.get_column(c).to_list() for c in columns), strict=True))


def _single_lines(
    lines: list[tuple[Any, Any, Any, Any]],
) -> list[tuple[Any, Any, Any, Any]] | None:
    """(gtin, lot, quantity, uom) per (gtin, lot, uom) as Polars' group_by-sum-sort gives them,
    when each key has one line (nothing to add up, so no float can differ); else None."""
    if len({line[:3] for line in lines}) != len(lines):
        return None
    if all(None not in line[:3] for line in lines):
        ordered = sorted(lines, key=lambda line: line[:3])
    else:
        ordered = sorted(lines, key=lambda line: tuple((v is not None, v) for v in line[:3]))
    return [(g, lo, 0 if q is None else q, u) for g, lo, u, q in ordered]  # nulls sum to 0


def _place(read_point: str) -> dict[str, Any]:
    return {"readPoint": {"id": read_point}, "bizLocation": {"id": read_point}}


def _nonempty(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if v not in ([], {}, None)}


def _groups(frame: pl.DataFrame, keys: list[str]) -> list[tuple[tuple[Any, ...], list[int]]]:
    """Each distinct `keys` with its row numbers (in frame order), ordered by the text of the
    key, first seen first among equal texts: one Polars group_by for the whole frame."""
    if frame.is_empty():
        return []
    grouped = (
        frame.select(keys)
        .with_row_index("_row")
        .group_by(keys, maintain_order=True)
        .agg(pl.col("_row").sort())
    )
    found = [(tuple(row[:-1]), row[-1]) for row in grouped.iter_rows()]
    return sorted(found, key=lambda g: tuple("" if v is None else str(v) for v in g[0]))


def _partitions(frame: pl.DataFrame, keys: list[str]) -> dict[tuple[Any, ...], list[int]]:
    """The row numbers of each key (in frame order), looked up instead of filtering the whole
    frame per event (quadratic: 100 s for a hub's 26k transformations). A null key matches
    nothing, as `==` in a filter."""
    return {key: rows for key, rows in _groups(frame, keys) if None not in key}


def _gather(frame: pl.DataFrame, rows: list[int]) -> Callable[[], pl.DataFrame]:
    """The frame of an event's rows, made when asked for (the rare event whose lines add up)."""
    return lambda: frame.select(pl.all().gather(rows))


def _receiving(receipts: pl.DataFrame, names: _Names) -> Iterable[tuple[str, dict[str, Any]]]:
    keys = ["receipt_id", "received_at", "tz_offset", "from_location_id", "to_location_id"]
    keys += ["ref_doc_type", "ref_doc_number"]
    groups = _groups(receipts, keys)
    lines = _lines(receipts) if groups else []
    for (rid, at, offset, src, dst, doc, number), rows in groups:
        what = _what_rows([lines[i] for i in rows], _gather(receipts, rows), names)
        yield (
            str(rid),
            _nonempty(
                {
                    **names.header("ObjectEvent", at, offset),
                    "epcList": what["epcList"],
                    "action": "OBSERVE",
                    "bizStep": "receiving",
                    "disposition": "in_progress",
                    **_place(names.where(dst)),
                    "bizTransactionList": biz_transaction(doc, number),
                    "quantityList": what["quantityList"],
                    "sourceList": [{"type": "location", "source": names.where(src)}],
                    "destinationList": [{"type": "location", "destination": names.where(dst)}],
                }
            ),
        )


def _shipping(shipments: pl.DataFrame, names: _Names) -> Iterable[tuple[str, dict[str, Any]]]:
    keys = ["shipment_id", "shipped_at", "tz_offset", "from_location_id", "to_location_id"]
    keys += ["ref_doc_type", "ref_doc_number"]
    groups = _groups(shipments, keys)
    lines = _lines(shipments) if groups else []
    ssccs = shipments.get_column("sscc").to_list() if groups else []
    for (sid, at, offset, src, dst, doc, number), rows in groups:
        what = _what_rows([lines[i] for i in rows], _gather(shipments, rows), names)
        pallets = sorted({names.sscc(ssccs[i]) for i in rows if ssccs[i] is not None})
        yield (
            str(sid),
            _nonempty(
                {
                    **names.header("ObjectEvent", at, offset),
                    "epcList": pallets + what["epcList"],
                    "action": "OBSERVE",
                    "bizStep": "shipping",
                    "disposition": "in_transit",
                    **_place(names.where(src)),
                    "bizTransactionList": biz_transaction(doc, number),
                    "quantityList": what["quantityList"],
                    "sourceList": [{"type": "location", "source": names.where(src)}],
                    "destinationList": [{"type": "location", "destination": names.where(dst)}],
                }
            ),
        )


DATES = ("production_date", "expiry_date")
"""The columns of a production line `_ilmd` reads (after those of `_lines`)."""


def _ilmd(lot: str, lines: Sequence[tuple[Any, ...]], expiry_kind: str | None) -> dict[str, str]:
    """Lot master data of a produced lot (its lines with `DATES`): lot number, production and
    expiry dates."""
    ilmd = {"cbvmda:lotNumber": lot}
    produced = [line[5] for line in lines if line[5] is not None]
    expires = [line[6] for line in lines if line[6] is not None]
    if produced:
        ilmd["cbvmda:productionDate"] = min(produced).isoformat()
    if expires:
        key = "bestBeforeDate" if expiry_kind == "best_before" else "itemExpirationDate"
        ilmd[f"cbvmda:{key}"] = min(expires).isoformat()
    return ilmd


def _transformation(
    selection: Selection,
    offsets: pl.DataFrame,
    names: _Names,
    expiry_kinds: dict[str, str | None],
) -> Iterable[tuple[str, dict[str, Any]]]:
    """One TransformationEvent per production and output lot: its ilmd names one lot."""
    info = {row[0]: row[1:] for row in offsets.iter_rows()}
    keys = ["production_id", "output_gtin", "output_lot", "completed_at", "location_id"]
    edges, production = selection.edges, selection.production
    groups = _groups(edges, keys)
    if not groups:
        return
    used_lines = _rows(edges, ["input_gtin", "input_lot", "input_uom", "input_quantity"])
    made_by_edge = _rows(edges, ["output_quantity", "output_uom"])
    outputs_of = _partitions(production, ["production_id", "gtin", "lot"])
    produced = _lines(production, DATES) if outputs_of else []
    for (pid, gtin, lot, at, location), rows in groups:
        offset, doc, number = info.get(pid, (None, None, None))
        output_rows = outputs_of.get((pid, gtin, lot))
        if output_rows:
            outputs = [produced[i] for i in output_rows]
            output_frame = _gather(production, output_rows)
        else:  # no record line (should not happen): the edge's quantity
            quantity, uom = made_by_edge[rows[0]]
            outputs = [(gtin, lot, None, uom, quantity, None, None)]
            output_frame = _gather(production, [])  # one line: never summed
        used = _single_lines([used_lines[i] for i in rows])
        if used is None:
            used = [
                (g, lo, q, u)
                for g, lo, u, q in _gather(edges, rows)()
                .group_by("input_gtin", "input_lot", "input_uom")
                .agg(pl.col("input_quantity").sum())
                .sort("input_gtin", "input_lot", "input_uom")
                .iter_rows()
            ]
        made = _what_rows(outputs, output_frame, names)
        yield (
            f"{pid}\x00{gtin}\x00{lot}",
            _nonempty(
                {
                    **names.header("TransformationEvent", at, offset),
                    "inputQuantityList": [names.quantity(*line) for line in used],
                    "outputEPCList": made["epcList"],
                    "outputQuantityList": made["quantityList"],
                    "bizStep": "commissioning",
                    "disposition": "active",
                    **_place(names.where(location)),
                    "bizTransactionList": biz_transaction(doc, number),
                    "ilmd": _ilmd(lot, outputs, expiry_kinds.get(gtin)),
                }
            ),
        )


def _commissioning(
    production: pl.DataFrame, names: _Names, expiry_kinds: dict[str, str | None]
) -> Iterable[tuple[str, dict[str, Any]]]:
    """Lots produced from nothing recorded: ObjectEvent ADD with their lot master data."""
    keys = ["production_id", "gtin", "lot", "completed_at", "tz_offset", "location_id"]
    keys += ["ref_doc_type", "ref_doc_number"]
    groups = _groups(production, keys)
    produced = _lines(production, DATES) if groups else []
    for (pid, gtin, lot, at, offset, location, doc, number), rows in groups:
        lines = [produced[i] for i in rows]
        what = _what_rows(lines, _gather(production, rows), names)
        yield (
            f"{pid}\x00{gtin}\x00{lot}",
            _nonempty(
                {
                    **names.header("ObjectEvent", at, offset),
                    "epcList": what["epcList"],
                    "action": "ADD",
                    "bizStep": "commissioning",
                    "disposition": "active",
                    **_place(names.where(location)),
                    "bizTransactionList": biz_transaction(doc, number),
                    "quantityList": what["quantityList"],
                    "ilmd": _ilmd(lot, lines, expiry_kinds.get(gtin)),
                }
            ),
        )


def _packing(packing: pl.DataFrame, names: _Names) -> Iterable[tuple[str, dict[str, Any]]]:
    keys = ["packing_id", "packed_at", "tz_offset", "action", "parent_sscc", "location_id"]
    keys += ["ref_doc_type", "ref_doc_number"]
    groups = _groups(packing, keys)
    # a line without a GTIN is a case (child SSCC): its serial, if any, is no SGTIN
    unpacked = packing.with_columns(pl.when(pl.col("gtin").is_not_null()).then(pl.col("serial")))
    lines = _lines(unpacked) if groups else []
    cases_of = packing.get_column("child_sscc").to_list() if groups else []
    for (pid, at, offset, action, parent, location, doc, number), rows in groups:
        items = [i for i in rows if lines[i][0] is not None]
        what = _what_rows([lines[i] for i in items], _gather(packing, items), names)
        cases = sorted({names.sscc(cases_of[i]) for i in rows if cases_of[i] is not None})
        yield (
            f"{pid}\x00{action}\x00{parent}",
            _nonempty(
                {
                    **names.header("AggregationEvent", at, offset),
                    "parentID": digital_link(sscc=parent),
                    "childEPCs": cases + what["epcList"],
                    "action": "ADD" if action == "pack" else "DELETE",
                    "bizStep": "packing" if action == "pack" else "unpacking",
                    **_place(names.where(location)),
                    "bizTransactionList": biz_transaction(doc, number),
                    "childQuantityList": what["quantityList"],
                }
            ),
        )


# --- the document -------------------------------------------------------------------------------


def document(
    event_list: Sequence[dict[str, Any]], master: Master, created_at: datetime
) -> dict[str, Any]:
    """One `EPCISDocument`: the events with their hash as eventID, and the master data of the
    products and locations they name."""
    identified = with_event_ids(event_list, [EPCIS_CONTEXT])
    body: dict[str, Any] = {
        "@context": [EPCIS_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": SCHEMA_VERSION,
        "creationDate": event_time(created_at),
    }
    vocabularies = master_data(identified, master)
    if vocabularies:
        body["epcisHeader"] = {"epcisMasterData": {"vocabularyList": vocabularies}}
    body["epcisBody"] = {"eventList": identified}
    return body


def master_data(event_list: Sequence[dict[str, Any]], master: Master) -> list[dict[str, Any]]:
    """EPCClass (products) and BusinessLocation vocabularies of what the events name."""
    text = repr(event_list)
    products = master.products.filter(
        pl.col("gtin").map_elements(lambda g: f"/01/{g}/" in text, return_dtype=pl.Boolean)
    ).sort("gtin")
    locations = master.locations.filter(
        pl.struct("location_id", "gln").map_elements(
            lambda r: location_uri(r["location_id"], r["gln"]) + "'" in text,
            return_dtype=pl.Boolean,
        )
    ).sort("location_id")
    out = []
    if not products.is_empty():
        out.append(
            {
                "type": VTYPE_PRODUCT,
                "vocabularyElementList": [
                    {"id": digital_link(gtin=row["gtin"]), "attributes": _product_attributes(row)}
                    for row in products.iter_rows(named=True)
                ],
            }
        )
    if not locations.is_empty():
        out.append(
            {
                "type": VTYPE_LOCATION,
                "vocabularyElementList": [
                    {
                        "id": location_uri(row["location_id"], row["gln"]),
                        "attributes": _location_attributes(row),
                    }
                    for row in locations.iter_rows(named=True)
                ],
            }
        )
    return out


def _attributes(row: dict[str, Any], names: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    out = []
    for column, attribute in names:
        value = row.get(column)
        if value is None:
            continue
        if isinstance(value, float):
            value = _number(value)
        out.append({"id": attribute, "attribute": value})
    return out


def _product_attributes(row: dict[str, Any]) -> list[dict[str, Any]]:
    return _attributes(
        row,
        [
            ("name", MDA + "descriptionShort"),
            ("brand", LOTLINE_MDA + "brand"),
            ("commodity", LOTLINE_MDA + "commodity"),
            ("variety", LOTLINE_MDA + "variety"),
            ("pack_size", LOTLINE_MDA + "packSize"),
            ("pack_uom", LOTLINE_MDA + "packUom"),
            ("pack_style", LOTLINE_MDA + "packStyle"),
            ("tracking", LOTLINE_MDA + "tracking"),
            ("shelf_life_days", LOTLINE_MDA + "shelfLifeDays"),
            ("uom", LOTLINE_MDA + "uom"),
            ("expiry_kind", LOTLINE_MDA + "expiryKind"),
        ],
    )


def _location_attributes(row: dict[str, Any]) -> list[dict[str, Any]]:
    return _attributes(
        row,
        [
            ("business_name", MDA + "name"),
            ("street", MDA + "streetAddressOne"),
            ("city", MDA + "city"),
            ("region", MDA + "state"),
            ("postal_code", MDA + "postalCode"),
            ("country", MDA + "countryCode"),
            ("latitude", MDA + "latitude"),
            ("longitude", MDA + "longitude"),
            ("location_id", LOTLINE_MDA + "locationId"),
            ("kind", LOTLINE_MDA + "kind"),
            ("phone", LOTLINE_MDA + "phone"),
        ],
    )


# --- XML binding --------------------------------------------------------------------------------

_CBV_URN = {
    "bizStep": "urn:epcglobal:cbv:bizstep:",
    "disposition": "urn:epcglobal:cbv:disp:",
}


def to_xml(doc: dict[str, Any]) -> bytes:
    """The EPCIS 2.0 XML binding of a document `document` built: root in the EPCIS namespace,
    children unqualified, CBV words as URNs, ilmd attributes in the CBV master data namespace."""
    from lxml import etree

    nsmap = {"epcis": XML_NAMESPACE, "cbvmda": CBVMDA_XML_NAMESPACE}
    root = etree.Element(
        f"{{{XML_NAMESPACE}}}EPCISDocument",
        nsmap=nsmap,
        schemaVersion=doc["schemaVersion"],
        creationDate=doc["creationDate"],
    )
    vocabularies = doc.get("epcisHeader", {}).get("epcisMasterData", {}).get("vocabularyList")
    if vocabularies:
        header = etree.SubElement(root, "EPCISHeader")
        listing = etree.SubElement(
            etree.SubElement(etree.SubElement(header, "extension"), "EPCISMasterData"),
            "VocabularyList",
        )
        for vocabulary in vocabularies:
            v = etree.SubElement(listing, "Vocabulary", type=vocabulary["type"])
            elements = etree.SubElement(v, "VocabularyElementList")
            for element in vocabulary["vocabularyElementList"]:
                e = etree.SubElement(elements, "VocabularyElement", id=element["id"])
                for attribute in element.get("attributes", []):
                    a = etree.SubElement(e, "attribute", id=attribute["id"])
                    a.text = str(attribute["attribute"])
    body = etree.SubElement(etree.SubElement(root, "EPCISBody"), "EventList")
    for event in doc["epcisBody"]["eventList"]:
        _xml_event(body, event)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _xml_event(parent, event: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    from lxml import etree

    node = etree.SubElement(parent, event["type"])
    first = ("eventTime", "eventTimeZoneOffset", "eventID")  # the XSD's order
    ordered = [(k, event[k]) for k in first if k in event]
    ordered += [(k, v) for k, v in event.items() if k not in first and k != "type"]
    for key, value in ordered:
        if key in ("epcList", "inputEPCList", "outputEPCList", "childEPCs"):
            listing = etree.SubElement(node, key)
            for epc in value:
                etree.SubElement(listing, "epc").text = epc
        elif key.endswith("QuantityList") or key == "quantityList":
            listing = etree.SubElement(node, key)
            for entry in value:
                element = etree.SubElement(listing, "quantityElement")
                for field in ("epcClass", "quantity", "uom"):
                    if field in entry:
                        etree.SubElement(element, field).text = str(entry[field])
        elif key in ("readPoint", "bizLocation"):
            etree.SubElement(etree.SubElement(node, key), "id").text = value["id"]
        elif key == "bizTransactionList":
            listing = etree.SubElement(node, key)
            for entry in value:
                b = etree.SubElement(listing, "bizTransaction")
                if "type" in entry:
                    b.set("type", _urn("urn:epcglobal:cbv:btt:", entry["type"]))
                b.text = entry["bizTransaction"]
        elif key in ("sourceList", "destinationList"):
            item = key.removesuffix("List")
            listing = etree.SubElement(node, key)
            for entry in value:
                kind = _urn("urn:epcglobal:cbv:sdt:", entry["type"])
                etree.SubElement(listing, item, type=kind).text = entry[item]
        elif key == "ilmd":
            ilmd = etree.SubElement(node, "ilmd")
            for name, text in value.items():
                local = name.removeprefix("cbvmda:")
                etree.SubElement(ilmd, f"{{{CBVMDA_XML_NAMESPACE}}}{local}").text = str(text)
        elif key in _CBV_URN:
            etree.SubElement(node, key).text = _urn(_CBV_URN[key], value)
        else:
            etree.SubElement(node, key).text = str(value)


def _urn(prefix: str, word: str) -> str:
    """A bare CBV word as its URN; a URI stays as it is."""
    return word if ":" in word else prefix + word


# --- selection from the database ----------------------------------------------------------------


def select_trace(engine: Engine, results: Sequence[TraceResult]) -> Selection:
    """The events of traced lots: the receipts of the backward part, the shipments of the forward
    part, the transformations between the lots (as `fsma204.for_traces` selects them), the lots'
    commissioning where they were produced from nothing, and the packing of what they shipped.

    Every event is exported whole (all lines of a shipment, all inputs of an output lot), even
    where the trace reaches only some of its lines: an event has one content, hence one hash,
    whatever export it appears in."""
    if not results:
        raise ValueError("no trace to export")
    receipts = pl.concat([r.receipts for r in results])
    shipments = pl.concat([r.shipments for r in results])
    edges = pl.concat([r.edges for r in results])
    lots = pl.concat([r.lots.select("gtin", "lot") for r in results]).unique()
    known_lots = pl.concat(
        [r.lots.select(pl.col("lot_key").cast(pl.Int64), "gtin", "lot") for r in results]
    ).unique()
    serials = pl.concat([r.serials.select("gtin", "serial") for r in results]).unique()
    shipments = _whole(engine, models.LotShipment, "shipment_id", shipments)
    serials = pl.concat(
        [serials, shipments.filter(pl.col("serial").is_not_null()).select("gtin", "serial")]
    ).unique()
    packing = _packing_around(
        engine,
        shipments.select("gtin", "lot").unique(),
        serials,
        set(shipments["sscc"].drop_nulls().to_list()),
    )
    return _selection(
        engine,
        _whole(engine, models.LotReceipt, "receipt_id", receipts),
        shipments,
        _whole_transformations(engine, edges, known_lots),
        lots,
        packing,
    )


def select_period(engine: Engine, start: date, end: date) -> Selection:
    """Every exported event whose local date (at its own UTC offset) is within `start`..`end`."""
    from lotline import fsma204
    from lotline.trace import edges_with_lots

    if end < start:
        raise ValueError(f"the period ends ({end}) before it starts ({start})")
    receipts, shipments, edges, lots = fsma204._read_period(engine, start, end)
    offsets = _production_offsets(engine, edges["production_id"].unique().to_list())
    edges = (
        edges_with_lots(edges, lots)
        .join(offsets.select("production_id", "tz_offset"), on="production_id", how="left")
        .filter(local_date_between("completed_at", pl.col("tz_offset"), start, end))
        .drop("tz_offset")
    )
    offset = pl.col("tz_offset")
    table = store.table(models.PackingRecord)
    low, high = _utc_window(start, end)
    packing = store.read_frame(
        engine,
        models.PackingRecord,
        where=(table.c.packed_at >= low) & (table.c.packed_at < high),
        columns=PACKING_COLUMNS,
    ).filter(local_date_between("packed_at", offset, start, end))
    return _selection(
        engine,
        receipts.filter(local_date_between("received_at", offset, start, end)),
        shipments.filter(local_date_between("shipped_at", offset, start, end)),
        edges,
        lots.select("gtin", "lot"),
        packing,
        period=(start, end),
    )


def _utc_window(start: date, end: date) -> tuple[datetime, datetime]:
    """A UTC window wide enough for any offset (±14 h) around local dates `start`..`end`."""
    from datetime import time, timedelta

    return (
        datetime.combine(start - timedelta(days=1), time(), UTC),
        datetime.combine(end + timedelta(days=2), time(), UTC),
    )


def _whole(engine: Engine, model: type, key: str, rows: pl.DataFrame) -> pl.DataFrame:
    """Every line of the events (`key`) some of whose lines are in `rows`."""
    ids = rows[key].unique().to_list()
    return _read_in(engine, model, key, ids, _stored_columns(model)).unique(maintain_order=True)


def _stored_columns(model: type) -> list[str]:
    """A lineage table's columns without its row id and snapshot."""
    return [c.name for c in store.table(model).columns if c.name not in ("id", "snapshot_id")]


def _whole_transformations(
    engine: Engine, edges: pl.DataFrame, known: pl.DataFrame
) -> pl.DataFrame:
    """Every input of the (production, output lot) pairs the traced edges reach.

    Read by output lot (`child_key`, indexed; `lot_edge` has no index on `production_id`, so
    reading by production scanned the whole table once per chunk of ids), in table order;
    the lot keys of the traced lots (`known`: lot_key, gtin, lot) are not read again."""
    from lotline.trace import edges_with_lots

    if edges.is_empty():
        return edges
    reached = edges.select("production_id", "output_gtin", "output_lot").unique()
    outputs = _lot_keys(
        engine,
        reached.select(pl.col("output_gtin").alias("gtin"), pl.col("output_lot").alias("lot")),
        known,
    )
    all_edges = (
        _read_in(
            engine,
            models.LotEdge,
            "child_key",
            outputs["lot_key"].to_list(),
            ["id", *_stored_columns(models.LotEdge)],
        )
        .sort("id")
        .drop("id")
    )
    keys = set(all_edges["parent_key"].to_list()) | set(all_edges["child_key"].to_list())
    lots = pl.concat(
        [
            known.filter(pl.col("lot_key").is_in(pl.Series(list(keys), dtype=pl.Int64))),
            _read_in(
                engine,
                models.Lot,
                "lot_key",
                keys - set(known["lot_key"].to_list()),
                ["lot_key", "gtin", "lot"],
            ),
        ]
    )
    return edges_with_lots(all_edges, lots).join(
        reached, on=["production_id", "output_gtin", "output_lot"], how="semi"
    )


def _lot_keys(engine: Engine, pairs: pl.DataFrame, known: pl.DataFrame) -> pl.DataFrame:
    """lot_key, gtin, lot of the (gtin, lot) `pairs`: from `known` where it has them, else read."""
    found = known.join(pairs, on=["gtin", "lot"], how="semi")
    missing = pairs.join(found, on=["gtin", "lot"], how="anti")
    if missing.is_empty():
        return found
    read = _read_in(
        engine, models.Lot, "lot", missing["lot"].to_list(), ["lot_key", "gtin", "lot"]
    ).join(missing, on=["gtin", "lot"], how="semi")
    return pl.concat([found, read])


def _with_inputs(engine: Engine, production_ids: set[str], known: set[str]) -> set[str]:
    """The productions among `production_ids` with a recorded input (a lineage edge): those in
    `known`, and the others found through the lots they made (an edge's child is an output
    lot of its production), each read by an indexed column."""
    found = production_ids & known
    rest = production_ids - found
    if not rest:
        return found
    made = _read_in(
        engine, models.ProductionRecord, "production_id", rest, ["production_id", "gtin", "lot"]
    )
    lots = _lot_keys(
        engine, made.select("gtin", "lot").unique(), pl.DataFrame(schema=LOT_KEY_SCHEMA)
    )
    edges = _read_in(
        engine, models.LotEdge, "child_key", lots["lot_key"].to_list(), ["production_id"]
    )
    return found | (set(edges["production_id"].to_list()) & rest)


LOT_KEY_SCHEMA = {"lot_key": pl.Int64, "gtin": pl.String, "lot": pl.String}


def _packing_around(
    engine: Engine, lots: pl.DataFrame, serials: pl.DataFrame, ssccs: set[str]
) -> pl.DataFrame:
    """The packing events of shipped lots and serials and of the SSCCs around them (cases in
    pallets, at any depth), each packing event whole.

    The lines of the shipped products are read by GTIN (indexed; `lot` and `serial` are not,
    and a hub ships 10⁵ serials), nothing at all when no packing was ever recorded."""
    if not _has_rows(engine, models.PackingRecord):
        return pl.DataFrame(schema=store.polars_schema(models.PackingRecord)).select(
            PACKING_COLUMNS
        )
    gtins = set(lots["gtin"].to_list()) | set(serials["gtin"].to_list())
    products = _read_in(engine, models.PackingRecord, "gtin", gtins, PACKING_COLUMNS)
    found = pl.concat(
        [
            products.join(lots, on=["gtin", "lot"], how="semi"),
            products.join(serials, on=["gtin", "serial"], how="semi"),
        ]
    )
    known = set(ssccs)
    frontier = known | set(found["parent_sscc"].to_list())
    while frontier:
        known |= frontier
        around = pl.concat(
            [
                _read_in(engine, models.PackingRecord, column, frontier, PACKING_COLUMNS)
                for column in ("parent_sscc", "child_sscc")
            ]
        )
        found = pl.concat([found, around])
        frontier = (
            set(around["parent_sscc"].to_list()) | set(around["child_sscc"].drop_nulls().to_list())
        ) - known
    return _whole(engine, models.PackingRecord, "packing_id", found).select(PACKING_COLUMNS)


def _has_rows(engine: Engine, model: type) -> bool:
    table = store.table(model)
    with engine.connect() as conn:
        return (
            conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first() is not None
        )


def _selection(
    engine: Engine,
    receipts: pl.DataFrame,
    shipments: pl.DataFrame,
    edges: pl.DataFrame,
    lots: pl.DataFrame,
    packing: pl.DataFrame,
    period: tuple[date, date] | None = None,
) -> Selection:
    production = _read_in(
        engine, models.ProductionRecord, "lot", lots["lot"].to_list(), PRODUCTION_COLUMNS
    ).join(lots, on=["gtin", "lot"], how="semi")
    outputs = edges.select(
        "production_id", pl.col("output_gtin").alias("gtin"), pl.col("output_lot").alias("lot")
    ).unique()
    # the output lots' lines, from those of the lots already read (each output's lines in the
    # same order: one production id and lot, so rowid order on either index)
    unread = outputs.join(lots, on=["gtin", "lot"], how="anti")
    made = pl.concat(
        [
            production.join(outputs, on=["production_id", "gtin", "lot"], how="semi"),
            _read_in(
                engine, models.ProductionRecord, "production_id",
                unread["production_id"].to_list(), PRODUCTION_COLUMNS,
            ).join(unread, on=["production_id", "gtin", "lot"], how="semi"),
        ]
    )  # fmt: skip
    with_inputs = _with_inputs(
        engine,
        set(production["production_id"].to_list()),
        set(edges["production_id"].to_list()),
    )
    commissioned = production.filter(
        ~pl.col("production_id").is_in(pl.Series(list(with_inputs), dtype=pl.String))
    )
    if period is not None:
        start, end = period
        offset = pl.col("tz_offset")
        commissioned = commissioned.filter(local_date_between("completed_at", offset, start, end))
    return Selection(
        receipts=receipts,
        shipments=shipments,
        edges=edges,
        production=made,
        commissioned=commissioned,
        packing=packing,
    )


def _read_in(
    engine: Engine, model: type, column: str, values: Iterable[object], columns: list[str]
) -> pl.DataFrame:
    """Rows whose `column` is one of `values`, in bounded chunks of bind parameters."""
    table = store.table(model)
    keys = sorted({v for v in values if v is not None})  # type: ignore[type-var]
    parts = [
        store.read_frame(
            engine, model, where=table.c[column].in_(keys[i : i + 5000]), columns=columns
        )
        for i in range(0, len(keys), 5000)
    ]
    return (
        pl.concat(parts)
        if parts
        else store.read_frame(engine, model, where=sa.false(), columns=columns)
    )


def _production_offsets(engine: Engine, production_ids: Iterable[str] | None) -> pl.DataFrame:
    from lotline.fsma204 import production_events

    columns = ["production_id", "tz_offset", "ref_doc_type", "ref_doc_number"]
    table = store.table(models.ProductionRecord)
    where = None
    if production_ids is not None:
        ids = sorted(set(production_ids))
        where = table.c.production_id.in_(ids) if ids else sa.false()
    return production_events(
        store.read_frame(engine, models.ProductionRecord, where=where, columns=columns)
    )


def read_master(engine: Engine, selection: Selection) -> Master:
    from lotline import api

    ids = selection.edges["production_id"].unique().to_list()
    return Master(
        products=api.products(engine),
        locations=api.locations(engine),
        production_offsets=_production_offsets(engine, ids),
    )


def snapshot_time(engine: Engine) -> datetime:
    """When the data exported was stored: the document's creationDate (deterministic output)."""
    from lotline import api

    snapshot = api.current_snapshot(engine) or {}
    created = snapshot.get("created_at")
    if isinstance(created, datetime):
        return created if created.tzinfo else created.replace(tzinfo=UTC)
    return datetime(1970, 1, 1, tzinfo=UTC)


def export(engine: Engine, selection: Selection) -> dict[str, Any]:
    """The EPCIS document of a selection read from `engine`."""
    master = read_master(engine, selection)
    return document(events(selection, master), master, snapshot_time(engine))


def for_traces(engine: Engine, results: Sequence[TraceResult]) -> dict[str, Any]:
    """The EPCIS document of traced lots (the union of their events, each once)."""
    return export(engine, select_trace(engine, results))


def for_period(engine: Engine, start: date, end: date) -> dict[str, Any]:
    """The EPCIS document of every exported event dated `start`..`end` (local dates)."""
    return export(engine, select_period(engine, start, end))


FORMATS = {"jsonld": ".jsonld", "xml": ".xml"}


def serialise(doc: dict[str, Any], fmt: str = "jsonld") -> bytes:
    """The document as JSON-LD (UTF-8, two-space indent, key order kept) or as XML."""
    if fmt == "xml":
        return to_xml(doc)
    if fmt != "jsonld":
        raise ValueError(f"unknown EPCIS format {fmt!r}: jsonld or xml")
    return (dumps_indent2(doc) + "\n").encode("utf-8")  # json.dumps(indent=2), faster


# --- a large trace's document, written in a second process --------------------------------------

WORKER_LINES = 20_000
"""Trace lines (receipts, shipments, transformation inputs) from which `start_written` builds the
document in a second process: a hub's export (10⁵ events, each hashed, 200 MB of JSON) is the
longest part of its recall report, which builds everything else meanwhile."""


@dataclass(frozen=True)
class Written:
    """A serialised document and the number of its events."""

    data: bytes
    events: int


def written(engine: Engine, results: Sequence[TraceResult], fmt: str = "jsonld") -> Written:
    """The EPCIS document of traced lots, serialised (`for_traces`, then `serialise`)."""
    doc = for_traces(engine, results)
    return Written(serialise(doc, fmt), len(doc["epcisBody"]["eventList"]))


class Pending:
    """A `Written` under way: `result()` waits for it (and raises what building it raised);
    `cancel()` stops a second process nobody will wait for."""

    def __init__(self, make: Callable[[], Written], stop: Callable[[], None] | None = None):
        self._make, self._stop = make, stop
        self._done: Written | None = None

    def result(self) -> Written:
        if self._done is None:
            self._stop = None
            self._done = self._make()
        return self._done

    def cancel(self) -> None:
        if self._stop is not None:
            self._stop()
            self._stop = None


WORKER_LOTS = 2_000
"""Lots in a trace's scope (closure pairs of the lot) from which `start_written_for_lot` starts
the second process before the trace (the hubs reach 10⁴ lots)."""


def start_written_for_lot(engine: Engine, gtin: str, lot: str, direction: str) -> Pending | None:
    """`written` of one lot's trace begun now, before this process traces it: in a second
    process that traces the lot itself, when its closure holds `WORKER_LOTS` lots or more and
    another process can open the database; None otherwise (trace first, then `start_written`).

    The second process then does not wait for this one's trace (4 s of a 10M-edge hub's) and
    traces through ADBC; the trace is the same, from the same tables."""
    if not _reachable(engine) or _scope_lots(engine, gtin, lot, direction) < WORKER_LOTS:
        return None
    return _start_worker(engine, ("lot", gtin, lot, direction))


def _scope_lots(engine: Engine, gtin: str, lot: str, direction: str) -> int:
    """How many closure pairs the lot has in `direction`: the size of its trace, one count of
    an indexed range (0 for an unknown lot: its trace will say so)."""
    lots, closure = store.table(models.Lot), store.table(models.LotClosure)
    with engine.connect() as conn:
        key = conn.execute(
            sa.select(lots.c.lot_key).where(
                (lots.c.gtin == gtin.strip().zfill(14)) & (lots.c.lot == lot)
            )
        ).scalar()
        if key is None:
            return 0
        ends = []
        if direction in ("forward", "both"):
            ends.append(closure.c.ancestor_key)
        if direction in ("backward", "both"):
            ends.append(closure.c.descendant_key)
        return sum(
            conn.execute(sa.select(sa.func.count()).where(end == key)).scalar() or 0 for end in ends
        )


def _reachable(engine: Engine) -> bool:
    """Whether another process can open the database (a file or a server, not memory)."""
    url = engine.url
    return url.get_backend_name() != "sqlite" or url.database not in (None, "", ":memory:")


def start_written(engine: Engine, results: Sequence[TraceResult]) -> Pending:
    """`written(engine, results)` begun now, in a second process when the trace has
    `WORKER_LINES` lines or more and another process can open the database (a file or a
    server, not an in-memory SQLite), else made in this process when first asked for.

    The second process is a fresh interpreter (`python -c`, not multiprocessing: Polars'
    threads do not survive a fork, and a spawn re-imports the caller's main script). It only
    reads, so it reads SQLite files through ADBC (`lotline.arrow_reads`: this process, which
    registers the report, must not). The traces go to it, and the bytes come back, in files."""
    lines = sum(r.receipts.height + r.shipments.height + r.edges.height for r in results)
    if lines < WORKER_LINES or not _reachable(engine):
        return Pending(lambda: written(engine, results))
    return _start_worker(engine, ("results", list(results)))


def _start_worker(engine: Engine, traces: tuple[Any, ...]) -> Pending:
    """The second process of `start_written`: `traces` is ("results", results) or ("lot", gtin,
    lot, direction)."""
    import json
    import pickle
    import shutil
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp(prefix="lotline-epcis-"))
    job = folder / "job.pickle"
    database_url = engine.url.render_as_string(hide_password=False)
    job.write_bytes(pickle.dumps((database_url, traces)))
    code = (
        "import sys, json; sys.path[:0] = json.loads(sys.argv[2]); "
        f"from {__name__} import _worker; _worker()"
    )
    with (folder / "stderr").open("wb") as stderr:  # the child's own handle stays open
        process = subprocess.Popen(
            [sys.executable, "-c", code, str(folder), json.dumps(sys.path)],
            stdin=subprocess.DEVNULL,
            stderr=stderr,
        )

    def stop() -> None:
        process.kill()
        process.wait()
        shutil.rmtree(folder, ignore_errors=True)

    def collect() -> Written:
        try:
            process.wait()
            outcome = folder / "outcome.pickle"
            if not outcome.exists():
                errors = (folder / "stderr").read_text(errors="replace")[-2000:]
                raise RuntimeError(
                    f"the EPCIS export process ended without a document (exit code "
                    f"{process.returncode}): {errors}"
                )
            events = pickle.loads(outcome.read_bytes())
            if isinstance(events, BaseException):
                raise events
            return Written((folder / "document").read_bytes(), events)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    return Pending(collect, stop)


def _worker() -> None:
    """The second process of `start_written`, given its folder: reads `job.pickle` (database
    URL, the traces or the lot to trace), writes `document` and then `outcome.pickle` (its
    number of events, or the exception building it raised)."""
    import pickle
    import sys
    from pathlib import Path

    from lotline import arrow_reads

    folder = Path(sys.argv[1])
    try:
        database_url, traces = pickle.loads((folder / "job.pickle").read_bytes())
        engine = store.make_engine(database_url)
        if engine.dialect.name == "sqlite":
            arrow_reads.enable()  # this process only reads
        if traces[0] == "lot":
            from lotline import api

            results = [api.trace_lot(engine, *traces[1:])]
        else:
            results = traces[1]
        done = written(engine, results)
        (folder / "document").write_bytes(done.data)
        outcome: object = done.events
    except Exception as exc:  # raised again by the waiting process
        outcome = exc
    try:
        data = pickle.dumps(outcome)
    except Exception:  # an exception that does not pickle
        data = pickle.dumps(RuntimeError(f"EPCIS export failed: {outcome!r}"))
    (folder / "outcome.pickle").write_bytes(data)

"""What the portal's pages and API read: pure functions over an engine, set-based and bounded.

Why bounded: the portal runs on the same database as the benchmarks (10M genealogy edges, a hub
lot reaching tens of thousands of lots), and a page must answer in well under a second whoever
opens it. So every list here has a LIMIT, totals come from SQL aggregates, the genealogy tables
and the diagram show the nearest lots (by depth, then exposure) with the full counts beside them,
and the lineage tables are browsed by keyset (`browse`), never by OFFSET.

Why whitelists: table and column names come from the URL. They are looked up in the SQLAlchemy
metadata of the lineage and record tables and never put into SQL text; every value is a bound
parameter. A name not in the whitelist is a `BadQuery` (HTTP 400), not a 500.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

import models
from lotline import store

SEARCH_LIMIT = 50
"""Hits per identifier kind: a search box answers with a page, not a table."""
GENEALOGY_ROWS = 200
"""Reached lots listed per direction on a lot page; the counts beside them are complete."""
EVENT_ROWS = 200
DISTRIBUTION_LOTS = 2000
"""Forward scopes up to this many lots get shipment lines and consignees counted on the page."""
DIAGRAM_LOTS = 60
"""Lots per direction drawn: the nearest ones (a shortest path to the subject runs through
nearer lots only, so the drawn set stays connected); the diagram collapses beyond 40 nodes."""
PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
EXPORT_CHUNK = 5000
DOCUMENTS_DIR_ENV = "LOTLINE_DOCUMENTS_DIR"


class BadQuery(ValueError):
    """A request naming a table, column, sort, cursor or value the portal does not accept."""


class NotFound(LookupError):
    """No such lot, load or document."""


# --- links ---------------------------------------------------------------------------------------


def lot_url(gtin: str, lot: str) -> str:
    """The lot page; a lot code may hold '/', '?', '#', spaces: all percent-encoded."""
    return f"/lots/{quote(gtin, safe='')}/{quote(lot, safe='')}"


def table_url(name: str, **filters: object) -> str:
    query = urlencode({k: str(v) for k, v in filters.items() if v is not None})
    return f"/tables/{quote(name, safe='')}" + (f"?{query}" if query else "")


# --- search --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One search result: what it is, what to show and where it leads."""

    kind: str  # lot | serial | product | sscc | shipment | receipt | location | document
    label: str
    url: str
    detail: str = ""


def search(engine: Engine, q: str, limit: int = SEARCH_LIMIT) -> list[Hit]:
    """Everything `q` can name: a GTIN (its lots), a lot code (exact, then by prefix), a serial,
    an SSCC, a shipment or receipt id, a location (id, GLN or part of its name), a document
    number, or a scan / Digital Link / EPC URI (`lotline.gs1.scan`). Each kind at most `limit`
    hits; nothing but bound parameters reaches the database."""
    text = q.strip()
    if not text:
        return []
    hits: list[Hit] = []
    with engine.connect() as conn:
        key = _scanned(text)
        if key is not None:
            hits += _scan_hits(conn, key, limit)
        hits += _lot_hits(conn, text, limit)
        hits += _identifier_hits(conn, text, limit)
        hits += _location_hits(conn, text, limit)
    seen: set[tuple[str, str]] = set()
    unique = []
    for hit in hits:
        if (hit.kind, hit.url) not in seen:
            seen.add((hit.kind, hit.url))
            unique.append(hit)
    return unique


SCAN_START = re.compile(r"^(\(\d{2,4}\)|\]|https?://|urn:epc:)", re.IGNORECASE)


def _scanned(text: str):  # type: ignore[no-untyped-def]
    """The GS1 key of a scan-like text, or None (a plain code is not a scan)."""
    from lotline.gs1.scan import ScanError, resolve

    if not (SCAN_START.match(text) or "\x1d" in text):
        return None
    try:
        return resolve(text)
    except ScanError:
        return None


def _scan_hits(conn: Connection, key, limit: int) -> list[Hit]:  # type: ignore[no-untyped-def]
    lot_t, serial_t = store.table(models.Lot), store.table(models.Serial)
    if key.sscc:
        return _sscc_hits(conn, key.sscc)
    if key.gtin and key.serial:
        return _serial_hits(conn, serial_t.c.serial == key.serial, key.gtin, limit)
    if key.gtin and key.lot:
        rows = conn.execute(
            sa.select(lot_t.c.gtin, lot_t.c.lot, lot_t.c.product_name).where(
                (lot_t.c.gtin == key.gtin) & (lot_t.c.lot == key.lot)
            )
        ).all()
        return [Hit("lot", f"{r.lot}", lot_url(r.gtin, r.lot), _product(r)) for r in rows]
    if key.gtin:
        return _gtin_hits(conn, key.gtin, limit)
    if key.gln:
        loc = store.table(models.Location)
        rows = conn.execute(sa.select(loc).where(loc.c.gln == key.gln).limit(limit)).all()
        return [_location_hit(r) for r in rows]
    return []


def _product(row: Any) -> str:
    return f"GTIN {row.gtin}" + (f" · {row.product_name}" if row.product_name else "")


def _gtin_hits(conn: Connection, gtin: str, limit: int) -> list[Hit]:
    lot_t, product_t = store.table(models.Lot), store.table(models.Product)
    hits = [
        Hit("product", f"{r.name}", table_url("lot", gtin=r.gtin), f"GTIN {r.gtin}")
        for r in conn.execute(
            sa.select(product_t.c.gtin, product_t.c.name).where(product_t.c.gtin == gtin)
        )
    ]
    rows = conn.execute(
        sa.select(lot_t.c.gtin, lot_t.c.lot, lot_t.c.product_name)
        .where(lot_t.c.gtin == gtin)
        .order_by(lot_t.c.lot)
        .limit(limit)
    ).all()
    return hits + [Hit("lot", r.lot, lot_url(r.gtin, r.lot), _product(r)) for r in rows]


def _lot_hits(conn: Connection, text: str, limit: int) -> list[Hit]:
    """Lots whose code is `text`, then those starting with it (an index range, not LIKE)."""
    lot_t = store.table(models.Lot)
    cols = (lot_t.c.gtin, lot_t.c.lot, lot_t.c.product_name)
    exact = conn.execute(sa.select(*cols).where(lot_t.c.lot == text).limit(limit)).all()
    prefix = conn.execute(
        sa.select(*cols)
        .where((lot_t.c.lot > text) & (lot_t.c.lot < text + "\U0010ffff"))
        .order_by(lot_t.c.lot)
        .limit(limit)
    ).all()
    hits = [Hit("lot", r.lot, lot_url(r.gtin, r.lot), _product(r)) for r in [*exact, *prefix]]
    digits = text.isdigit() and len(text) in (8, 12, 13, 14)
    if digits:
        hits = _gtin_hits(conn, text.zfill(14), limit) + hits
    return hits


def _serial_hits(
    conn: Connection, condition: sa.ColumnElement[bool], gtin: str | None, limit: int
) -> list[Hit]:
    serial_t = store.table(models.Serial)
    if gtin:
        condition = condition & (serial_t.c.gtin == gtin)
    else:  # the primary key is (gtin, serial): one index seek per product, not a table scan
        condition = condition & serial_t.c.gtin.in_(sa.select(store.table(models.Product).c.gtin))
    rows = conn.execute(
        sa.select(serial_t.c.gtin, serial_t.c.serial, serial_t.c.lot).where(condition).limit(limit)
    ).all()
    return [
        Hit("serial", r.serial, lot_url(r.gtin, r.lot), f"GTIN {r.gtin} · lot {r.lot}")
        for r in rows
    ]


def _sscc_hits(conn: Connection, sscc: str) -> list[Hit]:
    ship_t, pack_t = store.table(models.ShipmentRecord), store.table(models.PackingRecord)
    shipped = conn.execute(
        sa.select(sa.func.count(), sa.func.max(ship_t.c.shipment_id)).where(ship_t.c.sscc == sscc)
    ).one()
    packed = conn.execute(
        sa.select(sa.func.count()).where(
            (pack_t.c.parent_sscc == sscc) | (pack_t.c.child_sscc == sscc)
        )
    ).scalar_one()
    hits = []
    if shipped[0]:
        hits.append(
            Hit(
                "sscc",
                sscc,
                table_url("shipment_record", sscc=sscc),
                f"{shipped[0]} shipment lines, e.g. shipment {shipped[1]}",
            )
        )
    if packed:
        hits.append(
            Hit("sscc", sscc, table_url("packing_record", parent_sscc=sscc), f"{packed} packing")
        )
    return hits


def _identifier_hits(conn: Connection, text: str, limit: int) -> list[Hit]:
    """Serials, SSCCs, shipment and receipt ids and document numbers equal to `text`."""
    serial_t = store.table(models.Serial)
    hits = _serial_hits(conn, serial_t.c.serial == text, None, limit)
    if text.isdigit() and len(text) == 18:
        hits += _sscc_hits(conn, text)
    ship_t, receipt_t = store.table(models.LotShipment), store.table(models.LotReceipt)
    for kind, table, column, name in (
        ("shipment", ship_t, ship_t.c.shipment_id, "lot_shipment"),
        ("receipt", receipt_t, receipt_t.c.receipt_id, "lot_receipt"),
    ):
        row = conn.execute(
            sa.select(sa.func.count(), sa.func.min(table.c.gtin), sa.func.min(table.c.lot)).where(
                column == text
            )
        ).one()
        if row[0]:
            hits.append(Hit(kind, text, table_url(name, **{column.name: text}), f"{row[0]} lines"))
    doc_t = store.table(models.IssuedDocument)
    for r in conn.execute(
        sa.select(doc_t.c.document_number, doc_t.c.title, doc_t.c.pdf_sha256).where(
            doc_t.c.document_number == text
        )
    ):
        url = (
            f"/documents/{quote(r.document_number, safe='')}/pdf" if r.pdf_sha256 else "/documents"
        )
        hits.append(Hit("document", r.document_number, url, r.title))
    return hits


def _location_hit(r: Any) -> Hit:
    if r.kind == "customer":
        url = table_url("lot_shipment", to_location_id=r.location_id)
    elif r.kind == "supplier":
        url = table_url("lot_receipt", from_location_id=r.location_id)
    else:
        url = table_url("lot_on_hand", location_id=r.location_id)
    return Hit("location", r.business_name, url, f"{r.kind} {r.location_id}")


def _location_hits(conn: Connection, text: str, limit: int) -> list[Hit]:
    """A customer or supplier by id, GLN or a part of its name (the table is master data)."""
    loc = store.table(models.Location)
    pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = conn.execute(
        sa.select(loc)
        .where(
            (loc.c.location_id == text)
            | (loc.c.gln == text)
            | sa.func.lower(loc.c.business_name).like(pattern, escape="\\")
        )
        .order_by(loc.c.location_id)
        .limit(limit)
    ).all()
    return [_location_hit(r) for r in rows]


# --- the lot page --------------------------------------------------------------------------------


@dataclass
class Genealogy:
    """One direction of a lot's genealogy: the complete counts, the nearest lots listed."""

    direction: str
    total: int
    by_depth: list[dict[str, Any]]
    rows: list[dict[str, Any]]

    @property
    def shown(self) -> int:
        return len(self.rows)


@dataclass
class Events:
    """One kind of record of a lot: the first `EVENT_ROWS` rows and how many there are."""

    kind: str
    table: str
    total: int
    rows: list[dict[str, Any]]


@dataclass
class LotPage:
    lot: dict[str, Any]
    product: dict[str, Any] | None
    backward: Genealogy
    forward: Genealogy
    inputs: list[dict[str, Any]]
    outputs: list[dict[str, Any]]
    distribution: dict[str, Any]
    events: list[Events]
    status: list[dict[str, Any]]
    status_history: list[dict[str, Any]]
    mass_balance: dict[str, Any] | None
    on_hand: list[dict[str, Any]]
    completeness: dict[str, Any] | None
    exceptions: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    corrections: list[dict[str, Any]]
    documents: list[dict[str, Any]]
    diagram: str | None = None
    diagram_note: str | None = None

    @property
    def url(self) -> str:
        return lot_url(self.lot["gtin"], self.lot["lot"])


def lot_page(engine: Engine, gtin: str, lot: str, diagram: bool = True) -> LotPage:
    """Everything the lot page shows, each part one indexed query (`NotFound` for no such lot).

    The genealogy counts are complete; the listed rows and the diagram are the nearest lots, so a
    hub lot reaching 35,000 lots answers as fast as a typical one."""
    gtin = gtin.strip().zfill(14) if gtin.strip().isdigit() else gtin
    lot_t = store.table(models.Lot)
    with engine.connect() as conn:
        row = (
            conn.execute(sa.select(lot_t).where((lot_t.c.gtin == gtin) & (lot_t.c.lot == lot)))
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound(f"no lot {lot!r} of GTIN {gtin} in the lineage tables")
        key = int(row["lot_key"])
        product_t = store.table(models.Product)
        product = (
            conn.execute(sa.select(product_t).where(product_t.c.gtin == gtin)).mappings().first()
        )
        forward = _genealogy(conn, key, "forward")
        page = LotPage(
            lot=dict(row),
            product=dict(product) if product else None,
            backward=_genealogy(conn, key, "backward"),
            forward=forward,
            inputs=_direct(conn, key, "backward"),
            outputs=_direct(conn, key, "forward"),
            distribution=_distribution(conn, key, forward.total + 1),
            events=_events(conn, gtin, lot),
            status=_rows(conn, models.LotStatus, gtin, lot, "status_at"),
            status_history=_rows(conn, models.StatusRecord, gtin, lot, "at"),
            mass_balance=_one(conn, models.LotMassBalance, key),
            on_hand=[
                dict(r)
                for r in conn.execute(
                    sa.select(store.table(models.LotOnHand)).where(
                        store.table(models.LotOnHand).c.lot_key == key
                    )
                ).mappings()
            ],
            completeness=_one(conn, models.LotCompleteness, key),
            exceptions=_rows(conn, models.TraceException, gtin, lot, "id"),
            findings=_rows(conn, models.RecordFinding, gtin, lot, "id"),
            corrections=_rows(conn, models.RecordHistory, gtin, lot, "changed_at"),
            documents=lot_documents(conn, gtin, lot),
        )
    if diagram:
        page.diagram, page.diagram_note = lot_diagram(engine, gtin, lot, key, page)
    return page


def lot_key(engine: Engine, gtin: str, lot: str) -> int:
    """The lot's key in the lineage tables, or `NotFound`."""
    lot_t = store.table(models.Lot)
    with engine.connect() as conn:
        key = conn.execute(
            sa.select(lot_t.c.lot_key).where((lot_t.c.gtin == gtin) & (lot_t.c.lot == lot))
        ).scalar()
    if key is None:
        raise NotFound(f"no lot {lot!r} of GTIN {gtin} in the lineage tables")
    return int(key)


def _genealogy(conn: Connection, key: int, way: str) -> Genealogy:
    closure, lot_t = store.table(models.LotClosure), store.table(models.Lot)
    origin, target = (
        (closure.c.descendant_key, closure.c.ancestor_key)
        if way == "backward"
        else (closure.c.ancestor_key, closure.c.descendant_key)
    )
    mine = (origin == key) & (target != key)
    by_depth = [
        {"depth": d, "lots": n, "max_exposure": e}
        for d, n, e in conn.execute(
            sa.select(closure.c.depth, sa.func.count(), sa.func.max(closure.c.exposure))
            .where(mine)
            .group_by(closure.c.depth)
            .order_by(closure.c.depth)
        )
    ]
    rows = [
        dict(r)
        for r in conn.execute(
            sa.select(
                lot_t.c.gtin,
                lot_t.c.lot,
                lot_t.c.product_name,
                closure.c.depth,
                closure.c.exposure,
                lot_t.c.origin,
                lot_t.c.quantity_received,
                lot_t.c.quantity_produced,
                lot_t.c.quantity_shipped,
                lot_t.c.quantity_on_hand,
                lot_t.c.uom,
                lot_t.c.expiry_date,
            )
            .join(lot_t, lot_t.c.lot_key == target)
            .where(mine)
            .order_by(closure.c.depth, closure.c.exposure.desc(), lot_t.c.gtin, lot_t.c.lot)
            .limit(GENEALOGY_ROWS)
        ).mappings()
    ]
    for r in rows:
        r["url"] = lot_url(r["gtin"], r["lot"])
    return Genealogy(way, sum(d["lots"] for d in by_depth), by_depth, rows)


def _direct(conn: Connection, key: int, way: str) -> list[dict[str, Any]]:
    """The transformations that made this lot (inputs) or used it (outputs), with quantities."""
    edge, lot_t = store.table(models.LotEdge), store.table(models.Lot)
    here, there = (
        (edge.c.child_key, edge.c.parent_key)
        if way == "backward"
        else (edge.c.parent_key, edge.c.child_key)
    )
    rows = [
        dict(r)
        for r in conn.execute(
            sa.select(
                lot_t.c.gtin,
                lot_t.c.lot,
                lot_t.c.product_name,
                edge.c.production_id,
                edge.c.completed_at,
                edge.c.location_id,
                edge.c.input_quantity,
                edge.c.input_uom,
                edge.c.output_quantity,
                edge.c.output_uom,
                edge.c.share,
                edge.c.evidence,
            )
            .join(lot_t, lot_t.c.lot_key == there)
            .where(here == key)
            .order_by(edge.c.completed_at, edge.c.id)
            .limit(GENEALOGY_ROWS)
        ).mappings()
    ]
    for r in rows:
        r["url"] = lot_url(r["gtin"], r["lot"])
    return rows


def _distribution(conn: Connection, key: int, scope_lots: int) -> dict[str, Any]:
    """Shipments of the lot and of every lot made from it: quantity shipped per unit (from the
    lots' own totals, one indexed join over the closure) and, for a scope of up to
    `DISTRIBUTION_LOTS` lots, the shipment lines, shipments and consignees. A hub's scope ships
    hundreds of thousands of lines: reading them all is the recall report's job, not a page's."""
    closure, lot_t = store.table(models.LotClosure), store.table(models.Lot)
    scope = sa.union_all(
        sa.select(sa.literal(key).label("lot_key")),
        sa.select(closure.c.descendant_key).where(closure.c.ancestor_key == key),
    ).subquery()
    per_uom = [
        {"uom": u, "quantity": q}
        for u, q in conn.execute(
            sa.select(lot_t.c.uom, sa.func.sum(lot_t.c.quantity_shipped))
            .join(scope, scope.c.lot_key == lot_t.c.lot_key)
            .where(lot_t.c.quantity_shipped != 0)
            .group_by(lot_t.c.uom)
            .order_by(lot_t.c.uom)
        )
    ]
    out: dict[str, Any] = {
        "quantity": per_uom,
        "lines": None,
        "shipments": None,
        "consignees": None,
        "top_consignees": [],
        "complete": scope_lots <= DISTRIBUTION_LOTS,
    }
    if not out["complete"]:
        return out
    ship = store.table(models.LotShipment)
    in_scope = ship.c.lot_key.in_(sa.select(scope.c.lot_key))
    total = conn.execute(
        sa.select(
            sa.func.count(),
            sa.func.count(sa.distinct(ship.c.shipment_id)),
            sa.func.count(sa.distinct(ship.c.to_location_id)),
        ).where(in_scope)
    ).one()
    loc = store.table(models.Location)
    consignees = [
        dict(r)
        for r in conn.execute(
            sa.select(
                ship.c.to_location_id,
                loc.c.business_name,
                loc.c.city,
                loc.c.country,
                sa.func.count().label("lines"),
            )
            .select_from(ship.outerjoin(loc, loc.c.location_id == ship.c.to_location_id))
            .where(in_scope)
            .group_by(ship.c.to_location_id, loc.c.business_name, loc.c.city, loc.c.country)
            .order_by(sa.func.count().desc(), ship.c.to_location_id)
            .limit(GENEALOGY_ROWS)
        ).mappings()
    ]
    out.update(lines=total[0], shipments=total[1], consignees=total[2], top_consignees=consignees)
    return out


EVENT_TABLES: tuple[tuple[str, type], ...] = (
    ("receipts", models.ReceiptRecord),
    ("production", models.ProductionRecord),
    ("consumption", models.ConsumptionRecord),
    ("moves", models.MoveRecord),
    ("shipments", models.ShipmentRecord),
    ("packing", models.PackingRecord),
    ("associations", models.AssociationRecord),  # EPCIS evidence: a logger, asset or document
    ("transactions", models.TransactionRecord),  # tied to the lot
)
EVENT_TIME = {
    "receipts": "received_at",
    "production": "completed_at",
    "moves": "moved_at",
    "shipments": "shipped_at",
    "packing": "packed_at",
    "associations": "associated_at",
    "transactions": "transacted_at",
}
HIDDEN_EVENT_COLUMNS = ("record_hash", "line_key", "source_sha256")


def _events(conn: Connection, gtin: str, lot: str) -> list[Events]:
    out = []
    for kind, model in EVENT_TABLES:
        table = store.table(model)
        where = (table.c.gtin == gtin) & (table.c.lot == lot)
        total = conn.execute(sa.select(sa.func.count()).where(where)).scalar_one()
        order = table.c[EVENT_TIME[kind]] if kind in EVENT_TIME else table.c.production_id
        cols = [c for c in table.columns if c.name not in HIDDEN_EVENT_COLUMNS]
        rows = [
            dict(r)
            for r in conn.execute(
                sa.select(*cols).where(where).order_by(order, table.c.line_key).limit(EVENT_ROWS)
            ).mappings()
        ]
        out.append(Events(kind, table.name, total, rows))
    return out


def _rows(conn: Connection, model: type, gtin: str, lot: str, order: str) -> list[dict[str, Any]]:
    table = store.table(model)
    query = (
        sa.select(table)
        .where((table.c.gtin == gtin) & (table.c.lot == lot))
        .order_by(table.c[order])
        .limit(EVENT_ROWS)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def _one(conn: Connection, model: type, key: int) -> dict[str, Any] | None:
    table = store.table(model)
    row = conn.execute(sa.select(table).where(table.c.lot_key == key)).mappings().first()
    return dict(row) if row else None


def lot_documents(conn: Connection, gtin: str, lot: str) -> list[dict[str, Any]]:
    """Documents issued about this lot: recall reports name their lot in the file name
    (`recall_<gtin>_<lot>_<number>.pdf`, `reports.render.safe_name` parts), mock recall evidence
    through its drill (`mock_recall.document_number`)."""
    from reports.render import safe_name

    doc = store.table(models.IssuedDocument)
    prefix = f"recall_{safe_name(gtin)}_{safe_name(lot)}_"
    pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    drills = store.table(models.MockRecall)
    drilled = sa.select(drills.c.document_number).where(
        (drills.c.gtin == gtin) & (drills.c.lot == lot) & drills.c.document_number.is_not(None)
    )
    rows = conn.execute(
        sa.select(doc)
        .where(
            (doc.c.kind == "recall") & doc.c.file_name.like(pattern, escape="\\")
            | doc.c.document_number.in_(drilled)
        )
        .order_by(doc.c.generated_at.desc())
        .limit(EVENT_ROWS)
    ).mappings()
    return [dict(r) for r in rows]


def _nearest(conn: Connection, key: int, way: str) -> pl.DataFrame:
    """The lot (depth 0) and the `DIAGRAM_LOTS` lots nearest to it one way, in the order of the
    genealogy tables (depth, then exposure): a sorted, limited read of the closure, not all of
    a hub's pairs."""
    closure = store.table(models.LotClosure)
    origin, target = (
        (closure.c.descendant_key, closure.c.ancestor_key)
        if way == "backward"
        else (closure.c.ancestor_key, closure.c.descendant_key)
    )
    query = (
        sa.select(target.label("lot_key"), closure.c.depth, closure.c.exposure)
        .where((origin == key) & (target != key))
        .order_by(closure.c.depth, closure.c.exposure.desc(), target)
        .limit(DIAGRAM_LOTS)
    )
    schema = {"lot_key": pl.Int64(), "depth": pl.Int64(), "exposure": pl.Float64()}
    subject = pl.DataFrame({"lot_key": [key], "depth": [0], "exposure": [1.0]}, schema=schema)
    return pl.concat([subject, store.read_query(conn, query, schema)])


def lot_diagram(
    engine: Engine, gtin: str, lot: str, key: int, page: LotPage | None = None
) -> tuple[str | None, str | None]:
    """The lineage diagram of the nearest `DIAGRAM_LOTS` lots each way (Graphviz SVG, sanitised)
    and a note when the genealogy is larger than what is drawn; (None, why) without Graphviz."""
    from lotline import lineage_diagram as diagram
    from lotline import trace, trace_query
    from lotline.api import locations

    with engine.connect() as conn:
        reached = {way: _nearest(conn, key, way) for way in ("backward", "forward")}
        keys = sorted({key} | {k for f in reached.values() for k in f["lot_key"].to_list()})
        sub = trace_query.lineage_of(conn, keys)
    result = trace.trace_lot(
        sub, gtin, lot, "both", locations(engine), reach=lambda _s, way: reached[way]
    )
    note = None
    if page is not None and (
        page.backward.total > DIAGRAM_LOTS or page.forward.total > DIAGRAM_LOTS
    ):
        note = (
            f"The diagram shows the nearest {DIAGRAM_LOTS} lots each way of "
            f"{page.backward.total:,} upstream and {page.forward.total:,} downstream."
        )
    try:
        svg = diagram.svg(
            result.lots, result.edges, result.receipts, result.shipments, locations(engine)
        )
    except diagram.DotMissing as missing:
        return None, str(missing)
    return sanitise_svg(svg), note


SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
SVG_ELEMENTS = frozenset(
    {"svg", "g", "title", "desc", "polygon", "polyline", "path", "ellipse", "circle", "rect",
     "line", "text", "tspan", "defs"}
)  # fmt: skip
"""What Graphviz draws; anything else (script, foreignObject, a, use, image, style) is dropped."""


def sanitise_svg(svg: str) -> str:
    """The SVG rebuilt from a whitelist of drawing elements with no event handlers or links, its
    text re-escaped: lot codes and names in labels cannot inject markup or script."""
    import xml.etree.ElementTree as ET

    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    root = ET.fromstring(svg)

    def clean(element: ET.Element) -> None:
        for child in list(element):
            local = child.tag.rsplit("}", 1)[-1]
            if not child.tag.startswith(f"{{{SVG_NS}}}") or local not in SVG_ELEMENTS:
                element.remove(child)
                continue
            clean(child)
        for name in list(element.attrib):
            local = name.rsplit("}", 1)[-1].lower()
            value = element.attrib[name].lower()
            handler_or_link = local.startswith("on") or "href" in local or local == "style"
            if handler_or_link or "javascript:" in value or "url(" in value:
                del element.attrib[name]

    clean(root)
    return ET.tostring(root, encoding="unicode")


# --- browsing tables -----------------------------------------------------------------------------


def browsable() -> dict[str, sa.Table]:
    """The tables an auditor may browse, by table name: lineage, records, loads, master data."""
    tables = [store.table(m) for m in models.LINEAGE_TABLES]
    tables += [store.table(m) for m in models.RECORD_TABLES.values()]
    tables += [
        store.table(m)
        for m in (
            models.RecordHistory,
            models.SourceFile,
            models.RejectedRecord,
            models.RecordFinding,
            models.Snapshot,
            models.Product,
            models.Location,
            models.IssuedDocument,
            models.MockRecall,
        )
    ]
    return {t.name: t for t in tables}


@dataclass
class Page:
    """One keyset page of a table: its rows, the cursor of the next page (None at the end)."""

    table: str
    columns: list[str]
    rows: list[dict[str, Any]]
    sort: str
    filters: dict[str, str]
    next_cursor: str | None
    limit: int


def _table(name: str) -> sa.Table:
    tables = browsable()
    if name not in tables:
        raise BadQuery(f"unknown table {name!r}")
    return tables[name]


def _column(table: sa.Table, name: str) -> sa.Column:
    if name not in table.c:
        raise BadQuery(f"table {table.name} has no column {name!r}")
    return table.c[name]


def _typed(column: sa.Column, text: str) -> object:
    """A URL value as the column's type (bound as a parameter, never put into SQL)."""
    kind = _python_type(column)
    try:
        if kind is bool:
            return text.lower() in ("1", "true", "yes")
        if kind in (int, float):
            return kind(text)
        if kind is datetime:
            return datetime.fromisoformat(text)
        if kind is date:
            return date.fromisoformat(text)
    except ValueError:
        raise BadQuery(f"{column.name}: {text!r} is not a {kind.__name__}") from None
    return text


def _conditions(table: sa.Table, filters: dict[str, str]) -> list[sa.ColumnElement[bool]]:
    """`column=value` is equality; a text value ending in `*` is a prefix (an index range);
    an empty value matches empty (NULL) cells."""
    out = []
    for name, value in filters.items():
        column = _column(table, name)
        if value == "":
            out.append(column.is_(None))
        elif value.endswith("*") and _python_type(column) is str:
            stem = value[:-1]
            out.append((column >= stem) & (column < stem + "\U0010ffff"))
        else:
            out.append(column == _typed(column, value))
    return out


def _python_type(column: sa.Column) -> type:
    impl = getattr(column.type, "impl", None)  # SQLModel's AutoString decorates String
    if isinstance(column.type, sa.String) or isinstance(impl, sa.String) or impl is sa.String:
        return str
    try:
        return column.type.python_type
    except NotImplementedError:
        return str


def _order(table: sa.Table, sort: str | None) -> tuple[sa.Column | None, bool, list[sa.Column]]:
    """(sort column or None for the primary key, descending, primary key columns)."""
    pk = list(table.primary_key.columns)
    if not sort:
        return None, False, pk
    descending = sort.startswith("-")
    column = _column(table, sort.lstrip("-"))
    if column in pk and len(pk) == 1:
        return None, descending, pk
    return column, descending, pk


def encode_cursor(values: list[object]) -> str:
    data = json.dumps([v.isoformat() if isinstance(v, date | datetime) else v for v in values])
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, columns: list[sa.Column]) -> list[object]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError):
        raise BadQuery("bad page cursor") from None
    if not isinstance(values, list) or len(values) != len(columns):
        raise BadQuery("bad page cursor")
    out = []
    for column, value in zip(columns, values, strict=True):
        if value is None or not isinstance(value, str):
            if isinstance(value, list | dict):
                raise BadQuery("bad page cursor")
            out.append(value)
        else:
            out.append(_typed(column, value))
    return out


def _keyset(
    sort_column: sa.Column | None, descending: bool, pk: list[sa.Column], last: list[object]
) -> sa.ColumnElement[bool]:
    """Rows after `last` in the order `(sort_column NULLs last), pk` (all ascending or all
    descending): the next page starts where the previous ended, whatever was inserted."""
    after = (lambda a, b: a < b) if descending else (lambda a, b: a > b)
    pk_last = last[-len(pk) :]
    pk_after = (
        after(pk[0], pk_last[0])
        if len(pk) == 1
        else after(sa.tuple_(*pk), sa.tuple_(*[sa.literal(v) for v in pk_last]))
    )
    if sort_column is None:
        return pk_after
    value = last[0]
    if value is None:  # NULLs come last: only NULLs with a later key remain
        return sort_column.is_(None) & pk_after
    return sa.or_(
        sort_column.is_(None),
        after(sort_column, value),
        (sort_column == value) & pk_after,
    )


def _select(
    table: sa.Table,
    filters: dict[str, str],
    sort: str | None,
    after: str | None,
) -> tuple[sa.Select, sa.Column | None, list[sa.Column]]:
    sort_column, descending, pk = _order(table, sort)
    query = sa.select(table).where(*_conditions(table, filters))
    key_columns = ([sort_column] if sort_column is not None else []) + pk
    if after:
        query = query.where(
            _keyset(sort_column, descending, pk, _decode_cursor(after, key_columns))
        )
    order = []
    if sort_column is not None:
        if sort_column.nullable:
            order.append(sort_column.is_(None))
        order.append(sort_column.desc() if descending else sort_column)
    order += [c.desc() if descending else c for c in pk]
    return query.order_by(*order), sort_column, pk


def browse(
    engine: Engine,
    name: str,
    filters: dict[str, str] | None = None,
    sort: str | None = None,
    after: str | None = None,
    limit: int = PAGE_SIZE,
) -> Page:
    """One page of a whitelisted table, filtered, sorted by one column with the primary key as
    tiebreaker, starting after the cursor of the previous page's last row."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise BadQuery(f"limit must be 1..{MAX_PAGE_SIZE}")
    return _page(engine, name, dict(filters or {}), sort, after, limit)


def _page(
    engine: Engine,
    name: str,
    filters: dict[str, str],
    sort: str | None,
    after: str | None,
    limit: int,
) -> Page:
    table = _table(name)
    query, sort_column, pk = _select(table, filters, sort, after)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query.limit(limit + 1)).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = None
    if more and rows:
        last = rows[-1]
        keys = ([sort_column.name] if sort_column is not None else []) + [c.name for c in pk]
        cursor = encode_cursor([last[k] for k in keys])
    return Page(name, [c.name for c in table.columns], rows, sort or "", filters, cursor, limit)


def export_csv(
    engine: Engine, name: str, filters: dict[str, str] | None = None, sort: str | None = None
) -> Iterator[str]:
    """The filtered, sorted table as CSV text chunks, every text cell a spreadsheet would run as
    a formula neutralised (`lotline.safe_csv`). The table, filters and sort are checked now
    (`BadQuery` before the first byte); the rows then stream from one query, `EXPORT_CHUNK` at
    a time (a server-side cursor on PostgreSQL): constant memory and one sort, at any size."""
    table = _table(name)
    query, _, _ = _select(table, dict(filters or {}), sort, None)
    return _stream_csv(engine, table, query)


def _stream_csv(engine: Engine, table: sa.Table, query: sa.Select) -> Iterator[str]:
    from lotline.safe_csv import write_csv

    schema = store.polars_schema(table.name)
    columns = [c.name for c in table.columns]
    types = {c: schema.get(c, pl.String()) for c in columns}
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True).execute(query)
        header = True
        while True:
            rows = result.fetchmany(EXPORT_CHUNK)
            if not rows and not header:
                return
            frame = pl.DataFrame([tuple(r) for r in rows], schema=types, orient="row")
            yield write_csv(frame, include_header=header) or ""
            header = False
            if not rows:
                return


def count_rows(engine: Engine, name: str, filters: dict[str, str] | None = None) -> int:
    table = _table(name)
    with engine.connect() as conn:
        query = sa.select(sa.func.count()).select_from(table)
        return conn.execute(query.where(*_conditions(table, dict(filters or {})))).scalar_one()


# --- loads, documents, the home page -------------------------------------------------------------


def recent_loads(engine: Engine, limit: int = 20) -> list[dict[str, Any]]:
    """Loads, newest first: files, rows read, loaded, rejected and with warnings per load."""
    files, findings = store.table(models.SourceFile), store.table(models.RecordFinding)
    warned = (
        sa.select(findings.c.load_id, sa.func.count().label("warnings"))
        .group_by(findings.c.load_id)
        .subquery()
    )
    query = (
        sa.select(
            files.c.load_id,
            sa.func.min(files.c.loaded_at).label("loaded_at"),
            sa.func.count().label("files"),
            sa.func.sum(files.c.rows_read).label("rows_read"),
            sa.func.sum(files.c.rows_loaded).label("rows_loaded"),
            sa.func.sum(files.c.rows_unchanged).label("rows_unchanged"),
            sa.func.sum(files.c.rows_rejected).label("rows_rejected"),
            sa.func.coalesce(sa.func.max(warned.c.warnings), 0).label("warnings"),
        )
        .outerjoin(warned, warned.c.load_id == files.c.load_id)
        .group_by(files.c.load_id)
        .order_by(sa.func.min(files.c.loaded_at).desc(), files.c.load_id)
        .limit(limit)
    )
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


@dataclass
class LoadDetail:
    load_id: str
    files: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    findings_total: int
    rejected: list[dict[str, Any]]
    rejected_total: int
    rejected_by_rule: list[dict[str, Any]]
    findings_by_rule: list[dict[str, Any]]


def load_detail(engine: Engine, load_id: str, limit: int = EVENT_ROWS) -> LoadDetail:
    """One load: its files, validation findings and rejected rows (the first `limit` of each,
    with totals and counts per rule)."""
    files, findings = store.table(models.SourceFile), store.table(models.RecordFinding)
    rejected = store.table(models.RejectedRecord)
    with engine.connect() as conn:
        file_rows = [
            dict(r)
            for r in conn.execute(
                sa.select(files).where(files.c.load_id == load_id).order_by(files.c.file_name)
            ).mappings()
        ]
        if not file_rows:
            raise NotFound(f"no load {load_id!r}")

        def by_rule(table: sa.Table) -> list[dict[str, Any]]:
            return [
                dict(r)
                for r in conn.execute(
                    sa.select(
                        table.c.source_file,
                        table.c.column,
                        table.c.rule,
                        sa.func.count().label("rows"),
                    )
                    .where(table.c.load_id == load_id)
                    .group_by(table.c.source_file, table.c.column, table.c.rule)
                    .order_by(sa.func.count().desc(), table.c.rule)
                ).mappings()
            ]

        def first(table: sa.Table, order: list[sa.Column]) -> tuple[list[dict[str, Any]], int]:
            where = table.c.load_id == load_id
            total = conn.execute(sa.select(sa.func.count()).where(where)).scalar_one()
            rows = conn.execute(sa.select(table).where(where).order_by(*order).limit(limit))
            return [dict(r) for r in rows.mappings()], total

        finding_rows, finding_total = first(findings, [findings.c.source_file, findings.c.id])
        rejected_rows, rejected_total = first(rejected, [rejected.c.source_file, rejected.c.id])
        return LoadDetail(
            load_id,
            file_rows,
            finding_rows,
            finding_total,
            rejected_rows,
            rejected_total,
            by_rule(rejected),
            by_rule(findings),
        )


def counts(engine: Engine) -> dict[str, int]:
    """Rows of the main lineage tables, for the home page."""
    names = ("lot", "lot_edge", "serial", "lot_shipment", "lot_receipt", "issued_document")
    tables = browsable()
    with engine.connect() as conn:
        return {
            n: conn.execute(sa.select(sa.func.count()).select_from(tables[n])).scalar_one()
            for n in names
        }


def documents(engine: Engine, limit: int = 500, kind: str | None = None) -> list[dict[str, Any]]:
    """The document register, newest first."""
    doc = store.table(models.IssuedDocument)
    query = sa.select(doc).order_by(doc.c.generated_at.desc(), doc.c.document_number).limit(limit)
    if kind:
        query = query.where(doc.c.kind == kind)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def document(engine: Engine, number: str) -> dict[str, Any]:
    doc = store.table(models.IssuedDocument)
    with engine.connect() as conn:
        row = conn.execute(sa.select(doc).where(doc.c.document_number == number)).mappings().first()
    if row is None:
        raise NotFound(f"no document {number!r} in the register")
    return dict(row)


def documents_dir(configured: str | os.PathLike[str] | None = None) -> Path:
    """Where issued PDFs are: the app's setting, else `LOTLINE_DOCUMENTS_DIR`, else the
    pipeline's report archive (`LOTLINE_REPORT_DIR`, default `reports-out`)."""
    return Path(
        configured
        or os.environ.get(DOCUMENTS_DIR_ENV)
        or os.environ.get("LOTLINE_REPORT_DIR")
        or "reports-out"
    )


class DocumentUnavailable(RuntimeError):
    """The register names a file that is not there, or not the issued one, or not allowed."""


def document_file(entry: dict[str, Any], folder: Path) -> Path:
    """The issued PDF of a register entry, checked: inside `folder` (no absolute names, no `..`,
    no symlink leading out), present, and byte for byte the one issued (its SHA-256 is the
    register's `pdf_sha256`)."""
    name = entry.get("file_path") or entry.get("file_name")
    if not name or not entry.get("pdf_sha256"):
        raise DocumentUnavailable(f"document {entry['document_number']} has no issued file")
    root = folder.resolve()
    relative = Path(str(name))
    if relative.is_absolute():
        try:
            relative = relative.resolve().relative_to(root)
        except ValueError:
            raise DocumentUnavailable(
                "the document's file is outside the documents folder"
            ) from None
    if ".." in relative.parts or "\x00" in str(name):
        raise DocumentUnavailable("the document's file name leaves the documents folder")
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise DocumentUnavailable("the document's file is outside the documents folder")
    if not path.is_file():
        raise DocumentUnavailable(f"the document's file {relative} is missing")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != entry["pdf_sha256"]:
        raise DocumentUnavailable(
            f"the file {relative} is not the issued document (SHA-256 differs from the register)"
        )
    return path

"""The Python API analysts, reports and the CLI share: lineage tables and traces from a database.

from lotline import api
db = api.connect()                      # LOTLINE_DATABASE_URL or ./lotline.sqlite
result = api.trace_lot(db, "00614141000043", "C1", "both")
result.shipments, result.consignees, result.lots
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import get_args

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

import models
from lotline import aggregation, store, trace, trace_query
from lotline.gs1.uri import GS1Key
from lotline.lineage import Lineage
from lotline.recall_summary import RecallSummary


def connect(database_url: str | None = None) -> Engine:
    """An engine on the configured database, with the schema in place."""
    engine = store.make_engine(database_url)
    store.create_schema(engine)
    return engine


def load_lineage(engine: Engine) -> Lineage:
    with engine.connect() as conn:
        return Lineage(
            lots=store.read_frame(conn, models.Lot).drop("snapshot_id"),
            edges=store.read_frame(conn, models.LotEdge).drop("id", "snapshot_id"),
            serials=store.read_frame(conn, models.Serial).drop("snapshot_id"),
            shipments=store.read_frame(conn, models.LotShipment).drop("id", "snapshot_id"),
            receipts=store.read_frame(conn, models.LotReceipt).drop("id", "snapshot_id"),
            on_hand=store.read_frame(conn, models.LotOnHand).drop("snapshot_id"),
        )


def locations(engine: Engine) -> pl.DataFrame:
    return store.read_frame(engine, models.Location)


def products(engine: Engine) -> pl.DataFrame:
    return store.read_frame(engine, models.Product)


def rejected_records(engine: Engine) -> pl.DataFrame:
    return store.read_frame(engine, models.RejectedRecord)


def _of_lots(engine: Engine, model: type, lots: Iterable[tuple[str, str]] | None) -> pl.DataFrame:
    """Rows of a table with gtin and lot columns, for the given (gtin, lot) pairs or all."""
    if lots is None:
        return store.read_frame(engine, model)
    pairs = pl.DataFrame(list(lots), schema={"gtin": pl.String, "lot": pl.String}, orient="row")
    table = store.table(model)
    codes = sorted(set(pairs["lot"].to_list()))
    parts = [
        store.read_frame(engine, model, where=table.c.lot.in_(codes[i : i + 5000]))
        for i in range(0, len(codes), 5000)
    ]
    frame = pl.concat(parts) if parts else store.read_frame(engine, model).clear()
    return frame.join(pairs.unique(), on=["gtin", "lot"], how="semi")


def record_findings(engine: Engine, lots: Iterable[tuple[str, str]] | None = None) -> pl.DataFrame:
    """Warnings stored with rows that loaded (suspicious but traceable): of the given
    (gtin, lot) pairs — a trace's lots — or all of them."""
    return _of_lots(engine, models.RecordFinding, lots).drop("id")


def associations(engine: Engine, lots: Iterable[tuple[str, str]] | None = None) -> pl.DataFrame:
    """EPCIS AssociationEvent records (a logger, tag or asset tied to an object) naming the given
    (gtin, lot) pairs, or all: evidence beside the lineage, not part of it."""
    return _of_lots(engine, models.AssociationRecord, lots)


def transactions(engine: Engine, lots: Iterable[tuple[str, str]] | None = None) -> pl.DataFrame:
    """EPCIS TransactionEvent records (objects tied to a PO, invoice, certificate, …) naming the
    given (gtin, lot) pairs, or all."""
    return _of_lots(engine, models.TransactionRecord, lots)


HISTORY_SCHEMA = {
    "record_type": pl.String(),
    "record_key": pl.String(),
    "gtin": pl.String(),
    "lot": pl.String(),
    "version": pl.Int64(),
    "change": pl.String(),
    "column": pl.String(),
    "old": pl.String(),
    "new": pl.String(),
    "reason": pl.String(),
    "changed_at": pl.Datetime("us", "UTC"),
    "changed_by_file": pl.String(),
    "changed_by_row": pl.Int64(),
    "was_loaded_from": pl.String(),
}


def record_history(engine: Engine, lots: Iterable[tuple[str, str]] | None = None) -> pl.DataFrame:
    """Every correction and void of the stored records (21 CFR 11.10(e): who sent it, when, what
    changed from what to what, and why): one row per changed column, a void as one row.

    `version` is the version that was replaced; the record's key is shown with ` / ` between its
    parts. `lots`: (gtin, lot) pairs, e.g. a trace's lots; None for every record."""
    rows = _of_lots(engine, models.RecordHistory, lots)
    out = []
    for r in rows.sort("changed_at", "record_type", "line_key").iter_rows(named=True):
        base = {
            "record_type": r["record_type"],
            "record_key": r["line_key"].replace("\x1f", " / "),
            "gtin": r["gtin"],
            "lot": r["lot"],
            "version": r["version"],
            "change": r["change"],
            "reason": r["reason"],
            "changed_at": r["changed_at"],
            "changed_by_file": r["changed_by_file"],
            "changed_by_row": r["changed_by_row"],
            "was_loaded_from": f"{r['source_file']} row {r['source_row']}",
        }
        changes = json.loads(r["changes"] or "{}")
        if r["change"] == "voided" or not changes:
            out.append({**base, "column": None, "old": None, "new": None})
        for column, (old, new) in changes.items():
            out.append({**base, "column": column, "old": old, "new": new})
    return pl.DataFrame(out, schema=HISTORY_SCHEMA)


def on_hand(engine: Engine, lot_keys: list[int]) -> pl.DataFrame:
    """Stock on hand per own location of the given lots."""
    table = store.table(models.LotOnHand)
    keys = sorted(set(lot_keys))
    parts = [
        store.read_frame(engine, models.LotOnHand, where=table.c.lot_key.in_(keys[i : i + 5000]))
        for i in range(0, len(keys), 5000)
    ]
    frame = pl.concat(parts) if parts else store.read_frame(engine, models.LotOnHand).clear()
    return frame.drop("snapshot_id")


def lot_balance(engine: Engine) -> pl.DataFrame:
    """Mass balance per lot in its product's unit, as stored with the current snapshot."""
    return store.read_frame(engine, models.LotMassBalance).drop("snapshot_id")


def scope_balance(engine: Engine, result: trace.TraceResult) -> pl.DataFrame:
    """Mass balance of a trace's scope (every lot it reached): one row per unit of measure,
    with the pass/fail of the tolerance band and the number of failing lots."""
    from lotline import mass_balance

    return mass_balance.scope_balance(lot_balance(engine), result.lots.select("lot_key").unique())


def trace_exceptions(engine: Engine) -> pl.DataFrame:
    """Findings of the completeness checks (`lotline.completeness.CHECKS`) for the snapshot."""
    return store.read_frame(engine, models.TraceException).drop("id", "snapshot_id")


def completeness(engine: Engine) -> pl.DataFrame:
    """Per lot, the share of its applicable completeness checks it passes."""
    return store.read_frame(engine, models.LotCompleteness).drop("snapshot_id")


def current_snapshot(engine: Engine) -> dict[str, object] | None:
    """The newest snapshot: the state of the records the lineage tables now describe (a load
    rewrites only the lineage rows it changes, so rows keep the id of the load that last wrote
    them), or None before a load."""
    snapshot = store.table(models.Snapshot)
    with engine.connect() as conn:
        row = (
            conn.execute(
                sa.select(snapshot)
                .order_by(snapshot.c.created_at.desc(), snapshot.c.snapshot_id.desc())
                .limit(1)
            )
            .mappings()
            .first()
        )
    return dict(row) if row else None


def trace_lot(
    engine: Engine,
    gtin: str,
    lot: str,
    direction: trace.Direction = "both",
    lineage: Lineage | None = None,
    min_exposure: float = 0.0,
) -> trace.TraceResult:
    """Trace a lot. From the database through the closure table (reading only the lots reached),
    or over `lineage` in memory when a notebook already holds the tables.

    `min_exposure` scopes a recall: downstream lots holding less than that share of the lot's
    material are left out, with their shipments (a lot's exposure never exceeds that of its most
    exposed input, so the lots kept stay connected to the subject)."""
    _check_direction(direction)
    gtin = _gtin14(gtin)
    if lineage is not None:
        if min_exposure:
            raise ValueError("an exposure threshold needs the closure table: trace the database")
        result = trace.trace_lot(lineage, gtin, lot, direction, locations(engine))
        return _with_snapshot(engine, result)
    with engine.connect() as conn:
        key = trace_query.find_lot_key(conn, gtin, lot)
        reached = _reach(conn, [key], [key], direction)
        if min_exposure:
            forward = reached["forward"]
            reached["forward"] = forward.filter(pl.col("exposure") >= min_exposure)
            left_out = forward.height - reached["forward"].height
        sub = trace_query.lineage_of(conn, _keys(reached, [key]), trace_query.TRACE_SERIAL_COLUMNS)
    result = trace.trace_lot(
        sub, gtin, lot, direction, locations(engine), reach=lambda _s, way: reached[way]
    )
    if min_exposure:
        result.notes.append(trace.exposure_note(min_exposure, left_out))
    return _with_snapshot(engine, result)


def trace_serial(
    engine: Engine,
    gtin: str,
    serial: str,
    direction: trace.Direction = "both",
    lineage: Lineage | None = None,
) -> trace.TraceResult:
    """Trace a serial: back through its lot, forward through its own shipments and through the
    transformations that consumed it."""
    _check_direction(direction)
    gtin = _gtin14(gtin)
    with engine.connect() as conn:
        production_ids = trace_query.consumed_in(conn, gtin, serial)
        if lineage is None:
            lot_key, _ = trace_query.find_serial(conn, gtin, serial)
            outputs = trace_query.outputs_of(conn, production_ids)
            reached = _reach(conn, [lot_key], outputs, direction)
            lineage = trace_query.lineage_of(
                conn, _keys(reached, [lot_key]), trace_query.TRACE_SERIAL_COLUMNS
            )
            walk: trace.Reach | None = lambda _s, way: reached[way]  # noqa: E731
        else:
            walk = None
    result = trace.trace_serial(
        lineage, gtin, serial, production_ids, direction, locations(engine), reach=walk
    )
    return _with_snapshot(engine, result)


def trace_sscc(
    engine: Engine,
    sscc: str,
    at: datetime | None = None,
    direction: trace.Direction = "both",
) -> trace.TraceResult:
    """Trace what a pallet or case held: its contents at `at`, through nested cases, from the
    packing events (default `at`: when the SSCC last shipped, else now), then every lot inside
    traced as one subject. A serial unpacked before `at` is not in it; one repacked is."""
    _check_direction(direction)
    packing = store.read_frame(engine, models.PackingRecord)
    shipment = store.table(models.ShipmentRecord)
    with engine.connect() as conn:
        if at is None:
            at = store.read_query(
                conn,
                sa.select(sa.func.max(shipment.c.shipped_at).label("at")).where(
                    shipment.c.sscc == sscc
                ),
                {"at": pl.Datetime("us", "UTC")},
            )["at"][0] or datetime.now(UTC)
        contents = aggregation.contents_at(packing, sscc, at)
        if contents.is_empty():
            raise trace.UnknownSubject(f"SSCC {sscc} held nothing at {at.isoformat()}")
        keys = sorted(_contained_lot_keys(conn, contents))
        reached = _reach(conn, keys, keys, direction)
        sub = trace_query.lineage_of(conn, _keys(reached, keys), trace_query.TRACE_SERIAL_COLUMNS)
    subject = {"gtin": None, "lot": None, "serial": None, "sscc": sscc, "at": at.isoformat()}
    result = trace.trace_lots(
        sub, subject, keys, direction, locations(engine), reach=lambda _s, way: reached[way]
    )
    serials = contents.filter(pl.col("serial").is_not_null()).height
    quantities = contents.filter(pl.col("lot").is_not_null() & pl.col("serial").is_null()).height
    cases = contents.filter(pl.col("child_kind") == "sscc").height
    result.notes.append(
        f"SSCC {sscc} at {at.isoformat()}: {cases} nested SSCCs, {serials} serials, "
        f"{quantities} lot quantities in {len(keys)} lots"
    )
    return _with_snapshot(engine, result)


def _contained_lot_keys(conn: Connection, contents: pl.DataFrame) -> set[int]:
    keys = {
        trace_query.find_lot_key(conn, gtin, lot)
        for gtin, lot in contents.filter(pl.col("lot").is_not_null())
        .select("gtin", "lot")
        .unique()
        .iter_rows()
    }
    for gtin, serial in (
        contents.filter(pl.col("serial").is_not_null()).select("gtin", "serial").iter_rows()
    ):
        keys.add(trace_query.find_serial(conn, gtin, serial)[0])
    return keys


def _reach(
    conn: Connection, backward: list[int], forward: list[int], direction: trace.Direction
) -> dict[str, pl.DataFrame]:
    return {
        "backward": trace_query.reach(conn, backward if direction != "forward" else [], "backward"),
        "forward": trace_query.reach(conn, forward if direction != "backward" else [], "forward"),
    }


def _keys(reached: dict[str, pl.DataFrame], subject: list[int]) -> list[int]:
    return sorted(
        set(subject) | set(reached["backward"]["lot_key"]) | set(reached["forward"]["lot_key"])
    )


def _with_snapshot(engine: Engine, result: trace.TraceResult) -> trace.TraceResult:
    """The snapshot the answer came from, and each lot's hold/recall status in force now."""
    snapshot = current_snapshot(engine)
    in_force = store.read_frame(
        engine,
        models.LotStatus,
        where=store.table(models.LotStatus).c.serial.is_(None),
        columns=["gtin", "lot", "status", "status_at"],
    )
    return trace.with_status(result, in_force, str(snapshot["snapshot_id"]) if snapshot else None)


def _check_direction(direction: str) -> None:
    """A misspelt direction would trace nothing and say nothing: refuse it."""
    if direction not in get_args(trace.Direction):
        raise ValueError(f"direction {direction!r}: one of {', '.join(get_args(trace.Direction))}")


def _gtin14(gtin: str) -> str:
    return gtin.strip().zfill(14)


def widest_reach(engine: Engine, n: int | None = 10, by: str = "consignees") -> pl.DataFrame:
    """The received lots whose forward trace reaches the most, most first: gtin, lot, product,
    supplier, descendant lots, consignees, shipment lines and the quantity they shipped per unit
    (`lotline.reach.REACH_SCHEMA`). `by`: "consignees" or "descendants"; `n` None for all.

    The suspect lot worth rehearsing a recall on, read from the closure table (one indexed read
    per table, not a trace per lot)."""
    from lotline import reach

    receipts_table, closure_table = store.table(models.LotReceipt), store.table(models.LotClosure)
    received_keys = sa.select(receipts_table.c.lot_key)
    with engine.connect() as conn:
        receipts = store.read_frame(
            conn, models.LotReceipt, columns=["lot_key", "from_location_id"]
        )
        lots = store.read_frame(
            conn,
            models.Lot,
            where=store.table(models.Lot).c.lot_key.in_(received_keys),
            columns=["lot_key", "gtin", "lot", "product_name"],
        )
        closure = store.read_frame(
            conn,
            models.LotClosure,
            where=closure_table.c.ancestor_key.in_(received_keys),
            columns=["ancestor_key", "descendant_key"],
        )
        reached = sa.select(closure_table.c.descendant_key).where(
            closure_table.c.ancestor_key.in_(received_keys)
        )
        shipments_table = store.table(models.LotShipment)
        shipments = store.read_frame(
            conn,
            models.LotShipment,
            where=shipments_table.c.lot_key.in_(reached)
            | shipments_table.c.lot_key.in_(received_keys),
            columns=["lot_key", "to_location_id", "quantity", "uom"],
        )
    received = lots.join(reach.suppliers(receipts, locations(engine)), on="lot_key", how="left")
    return reach.widest_reach(received, closure, shipments, n=n, by=by)  # type: ignore[arg-type]


def returns(engine: Engine, lots: Iterable[tuple[str, str]] | None = None) -> pl.DataFrame:
    """Return moves (stock a customer sent back, `moves.reason = return`) of the given
    (gtin, lot) pairs or of every lot: who returned what, when, to which own location."""
    moves = _of_lots(engine, models.MoveRecord, lots)
    return moves.filter(pl.col("reason") == "return").select(
        "move_id",
        "moved_at",
        "gtin",
        "lot",
        "serial",
        "quantity",
        "uom",
        "from_location_id",
        "to_location_id",
    )


def recall_summary(
    engine: Engine, gtin: str, lot: str, direction: trace.Direction = "both"
) -> RecallSummary:
    """What page 1 of the recall report says: lots reached, quantities produced, shipped, on
    hand and unaccounted for, consignees with contact, open holds, the mass-balance verdict,
    data-quality findings and the numbered actions (`lotline.recall_summary`)."""
    from reports.recall import build_recall

    return build_recall(engine, gtin, lot, direction).summary()


def lineage_diagram(
    engine: Engine,
    gtin: str,
    lot: str,
    direction: trace.Direction = "both",
    max_nodes: int = 40,
    min_exposure: float = 0.0,
) -> str:
    """The lot's lineage — supplier receipts, lots, consignees — as an SVG drawn by Graphviz,
    collapsed to summarised nodes beyond `max_nodes` (`lotline.lineage_diagram`). Raises
    `lotline.lineage_diagram.DotMissing` when Graphviz is not installed.

    In a notebook: `IPython.display.SVG(api.lineage_diagram(db, gtin, lot))`."""
    from lotline import lineage_diagram as diagram

    result = trace_lot(engine, gtin, lot, direction, min_exposure=min_exposure)
    return diagram.svg(
        result.lots, result.edges, result.receipts, result.shipments, locations(engine), max_nodes
    )


def loads(engine: Engine) -> pl.DataFrame:
    """Every load, file by file, oldest first: rows read, loaded, unchanged, rejected (in
    `rejected_records`) and loaded with a warning (in `record_findings`); see
    `lotline.load_history`."""
    from lotline import load_history

    files = store.read_frame(engine, models.SourceFile)
    findings = store.read_frame(
        engine, models.RecordFinding, columns=["source_sha256", "row_number"]
    )
    return load_history.per_file(files, findings)


# --- scans in: a barcode, a Digital Link or an EPC URI in place of gtin/lot/serial/sscc ----------


def resolve_scan(text: str) -> GS1Key:
    """The GS1 key a scan names: an element string as printed (`(01)…(10)…`), a scanner's raw
    data (GS separators, `]d2` prefix), a GS1 Digital Link URI or an EPC URI
    (`lotline.gs1.scan.resolve`; `ScanError`, a ValueError, names the bad AI or check digit)."""
    from lotline.gs1 import scan

    return scan.resolve(text)


def serial_lot(engine: Engine, gtin: str, serial: str) -> str:
    """The lot a serial belongs to: an SGTIN (an EPC URI, a scan without AI 10) names no lot."""
    with engine.connect() as conn:
        return trace_query.find_serial(conn, _gtin14(gtin), serial)[1]


def trace_scan(
    engine: Engine,
    scan: str | GS1Key,
    direction: trace.Direction = "both",
    at: datetime | None = None,
    min_exposure: float = 0.0,
) -> trace.TraceResult:
    """Trace what a scan names: an SSCC as `trace_sscc` (at `at`), a GTIN with a serial as
    `trace_serial`, a GTIN with a lot as `trace_lot` (with `min_exposure`). A GTIN alone is a
    product, not a lot: `ScanError`. When the scan carries both a lot and a serial, the serial is
    traced and a note says if the lineage holds it in another lot than the label says."""
    from lotline.gs1.scan import require_subject

    key = require_subject(resolve_scan(scan) if isinstance(scan, str) else scan, str(scan))
    if key.sscc:
        return trace_sscc(engine, key.sscc, at, direction)
    assert key.gtin is not None  # require_subject: an SSCC, or a GTIN with a lot or a serial
    if not key.serial:
        assert key.lot is not None
        return trace_lot(engine, key.gtin, key.lot, direction, min_exposure=min_exposure)
    result = trace_serial(engine, key.gtin, key.serial, direction)
    if key.lot and result.subject.get("lot") != key.lot:
        result.notes.append(
            f"the scan says lot {key.lot!r}; the lineage holds serial {key.serial!r} in lot "
            f"{result.subject.get('lot')!r}"
        )
    return result


# --- EPCIS 2.0 export ---------------------------------------------------------------------------


def epcis_document(
    engine: Engine, gtin: str, lot: str, direction: trace.Direction = "both"
) -> dict[str, object]:
    """A lot's trace as one EPCIS 2.0 `EPCISDocument` (JSON-LD as a dict), each event's eventID
    its CBV 2.0 hash (`lotline.gs1.epcis_export`; `epcis_export.serialise` writes it, or its
    XML binding)."""
    from lotline.gs1 import epcis_export

    return epcis_export.for_traces(engine, [trace_lot(engine, gtin, lot, direction)])


def epcis_period(engine: Engine, start: date, end: date) -> dict[str, object]:
    """Every receiving, shipping, transformation, commissioning and packing event dated
    `start`..`end` (local dates) as one EPCIS 2.0 document."""
    from lotline.gs1 import epcis_export

    return epcis_export.for_period(engine, start, end)

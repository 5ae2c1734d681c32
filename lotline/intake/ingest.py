"""A load: drop-folder files → raw batches → validated records → one transaction.

The stages are separate functions because the Dagster assets run them one per step; `load_folder`
chains them for callers without Dagster. Identity is by content: a file whose bytes were loaded
before is skipped, and a row whose content hash is stored is counted as unchanged, so loading the
same data twice changes nothing. Everything a load writes — records, rejected rows, file log,
snapshot and rebuilt lineage tables — commits in one transaction or not at all.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

import models
from lotline import aggregation, completeness, mass_balance, status, store
from lotline.intake.contract import EVENT_RECORD_TYPES, RECORD_TYPES
from lotline.intake.reading import SourceFile, discover, read_source
from lotline.intake.validation import (
    RECORD_HASH,
    SOURCE_FILE,
    SOURCE_SHA256,
    References,
    Validation,
    line_key,
    serial_key,
    typed,
    validate,
    with_record_hash,
)
from lotline.lineage import (
    Lineage,
    Records,
    build_lineage,
    lot_keys,
    with_allocated_consumption,
)

MASTER_TABLES = {"products": models.Product, "locations": models.Location}
MASTER_KEYS = {"products": "gtin", "locations": "location_id"}


@dataclass(frozen=True)
class FileRead:
    name: str
    sha256: str
    record_type: str
    rows_read: int
    rows_unchanged: int
    already_loaded: bool = False


@dataclass(frozen=True)
class RawBatch:
    """New rows of one record type (text, with provenance and content hash) and what was skipped."""

    record_type: str
    files: list[FileRead]
    rows: pl.DataFrame


@dataclass(frozen=True)
class FileReport:
    name: str
    record_type: str
    rows_read: int
    rows_loaded: int
    rows_unchanged: int
    rows_rejected: int
    already_loaded: bool

    @property
    def accounted(self) -> bool:
        return self.rows_read == self.rows_loaded + self.rows_unchanged + self.rows_rejected


@dataclass(frozen=True)
class LoadReport:
    load_id: str
    files: list[FileReport]
    snapshot_id: str | None
    lineage_counts: dict[str, int] = field(default_factory=dict)
    rejected: pl.DataFrame = field(default_factory=pl.DataFrame)

    @property
    def changed(self) -> bool:
        return self.snapshot_id is not None


# --- stage 1: raw -------------------------------------------------------------------------------


def read_raw(engine: Engine, sources: list[SourceFile], record_type: str) -> RawBatch:
    """Read the files of one record type, leaving out files and rows already stored."""
    loaded_files = set(store.read_frame(engine, models.SourceFile, columns=["sha256"])["sha256"])
    rt = RECORD_TYPES[record_type]
    stored = _stored_hashes(engine, record_type)
    files, frames = [], []
    seen: set[str] = set()
    for source in (s for s in sources if s.record_type == record_type):
        if source.sha256 in loaded_files or source.sha256 in seen:
            files.append(FileRead(source.name, source.sha256, record_type, 0, 0, True))
            continue
        seen.add(source.sha256)
        frame = with_record_hash(rt, read_source(source)).with_columns(
            pl.lit(source.name).alias(SOURCE_FILE), pl.lit(source.sha256).alias(SOURCE_SHA256)
        )
        fresh = frame.filter(~pl.col(RECORD_HASH).is_in(stored.implode()))
        files.append(
            FileRead(
                source.name, source.sha256, record_type, frame.height, frame.height - fresh.height
            )
        )
        frames.append(fresh)
    rows = pl.concat(frames) if frames else _empty_raw(record_type)
    # the same row twice in one load is one record: keep the first, count the rest unchanged
    unique = rows.unique(RECORD_HASH, keep="first", maintain_order=True)
    if unique.height < rows.height:
        dupes = rows.join(
            unique.select(RECORD_HASH, SOURCE_SHA256, "_source_row"),
            on=[RECORD_HASH, SOURCE_SHA256, "_source_row"],
            how="anti",
        )
        extra = dupes.group_by(SOURCE_SHA256).len()
        files = [
            FileRead(
                f.name,
                f.sha256,
                f.record_type,
                f.rows_read,
                f.rows_unchanged
                + int(extra.filter(pl.col(SOURCE_SHA256) == f.sha256)["len"].sum()),
                f.already_loaded,
            )
            for f in files
        ]
    return RawBatch(record_type, files, unique)


def _empty_raw(record_type: str) -> pl.DataFrame:
    rt = RECORD_TYPES[record_type]
    return pl.DataFrame(
        schema={
            "_source_row": pl.Int64,
            **{c: pl.String for c in rt.columns},
            RECORD_HASH: pl.String,
            SOURCE_FILE: pl.String,
            SOURCE_SHA256: pl.String,
        }
    )


def _stored_hashes(engine: Engine, record_type: str) -> pl.Series:
    model = MASTER_TABLES.get(record_type) or models.RECORD_TABLES[record_type]
    return store.read_frame(engine, model, columns=["record_hash"])["record_hash"]


# --- stage 2: validate --------------------------------------------------------------------------


def references(engine: Engine, record_type: str, batch: dict[str, pl.DataFrame]) -> References:
    """Stored data plus this load's already-validated typed rows (`batch`, by record type)."""

    def with_batch(name: str, stored: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
        extra = batch.get(name)
        return (
            pl.concat([stored.select(columns), extra.select(columns)])
            if extra is not None
            else stored.select(columns)
        )

    products = with_batch(
        "products", store.read_frame(engine, models.Product), ["gtin", "tracking", "uom"]
    )
    if "products" in batch:  # a product re-sent in this load overrides the stored row
        products = products.reverse().unique("gtin", keep="first")
    locations = with_batch(
        "locations",
        store.read_frame(engine, models.Location, columns=["location_id"]),
        ["location_id"],
    )
    production_ids = with_batch(
        "production",
        store.read_frame(engine, models.ProductionRecord, columns=["production_id"]),
        ["production_id"],
    )
    serials = [
        store.read_frame(
            engine, m, where=store.table(m).c.serial.is_not(None), columns=["gtin", "serial"]
        )
        for m in (models.ReceiptRecord, models.ProductionRecord)
    ]
    serials += [batch[n].select("gtin", "serial") for n in ("receipts", "production") if n in batch]
    serial_keys = pl.concat(serials).select(serial_key()).drop_nulls().to_series()
    packing = pl.DataFrame(schema=aggregation.PACKING_SCHEMA)
    if record_type in ("packing", "shipments"):
        packing = with_batch(
            "packing",
            store.read_frame(
                engine, models.PackingRecord, columns=list(aggregation.PACKING_SCHEMA)
            ),
            list(aggregation.PACKING_SCHEMA),
        )
    line_keys: set[str] = set()
    if record_type in EVENT_RECORD_TYPES:
        rt = RECORD_TYPES[record_type]
        stored_lines = store.read_frame(
            engine, models.RECORD_TABLES[record_type], columns=list(rt.key)
        )
        line_keys = set(stored_lines.select(line_key(rt)).to_series())
    return References(
        products=products,
        location_ids=frozenset(locations["location_id"]),
        production_ids=frozenset(production_ids["production_id"]),
        serial_keys=frozenset(serial_keys),
        line_keys=frozenset(line_keys),
        packing=packing,
        ssccs=frozenset(
            pl.concat([packing["parent_sscc"], packing["child_sscc"]]).drop_nulls().unique()
        ),
    )


def validate_batch(
    engine: Engine, raw: RawBatch, batch: dict[str, pl.DataFrame]
) -> tuple[Validation, pl.DataFrame]:
    """Validation outcome and the valid rows typed for storage."""
    result = validate(raw.record_type, raw.rows, references(engine, raw.record_type, batch))
    return result, typed(raw.record_type, result.valid)


# --- stage 3: commit ----------------------------------------------------------------------------


def commit(
    engine: Engine,
    raws: dict[str, RawBatch],
    validations: dict[str, Validation],
    typed_rows: dict[str, pl.DataFrame],
    load_id: str,
) -> LoadReport:
    """Write the load and rebuild lineage in one transaction: all of it or nothing."""
    now = datetime.now(UTC)
    reports = _file_reports(raws, validations, typed_rows)
    rejected = (
        pl.concat([v.rejected for v in validations.values()]) if validations else pl.DataFrame()
    )
    new_rows = sum(f.rows_loaded for f in reports)
    with engine.begin() as conn:
        for name, model in MASTER_TABLES.items():
            rows = typed_rows.get(name)
            if rows is not None and not rows.is_empty():
                key = MASTER_KEYS[name]
                keys = rows[key].to_list()
                for chunk in range(0, len(keys), 500):
                    conn.execute(
                        store.table(model)
                        .delete()
                        .where(store.table(model).c[key].in_(keys[chunk : chunk + 500]))
                    )
                store.insert_frame(conn, model, rows)
        for name in EVENT_RECORD_TYPES:
            rows = typed_rows.get(name)
            if rows is not None:
                store.insert_frame(
                    conn,
                    models.RECORD_TABLES[name],
                    rows.with_columns(pl.lit(load_id).alias("load_id")),
                )
        if not rejected.is_empty():
            store.insert_frame(
                conn, models.RejectedRecord, rejected.with_columns(pl.lit(load_id).alias("load_id"))
            )
        file_rows = pl.DataFrame(
            [
                {
                    "sha256": r.sha256,
                    "file_name": r.name,
                    "record_type": r.record_type,
                    "load_id": load_id,
                    "loaded_at": now,
                    "rows_read": f.rows_read,
                    "rows_loaded": f.rows_loaded,
                    "rows_unchanged": f.rows_unchanged,
                    "rows_rejected": f.rows_rejected,
                }
                for raw in raws.values()
                for r in raw.files
                if not r.already_loaded
                for f in reports
                if f.name == r.name and f.record_type == r.record_type
            ],
            schema=store.polars_schema(models.SourceFile),
        )
        store.insert_frame(conn, models.SourceFile, file_rows)
        snapshot_id, counts = None, {}
        if new_rows:
            snapshot_id = _snapshot(conn, load_id, now)
            counts = rebuild_lineage(conn, snapshot_id)
    return LoadReport(load_id, reports, snapshot_id, counts, rejected)


def _file_reports(
    raws: dict[str, RawBatch],
    validations: dict[str, Validation],
    typed_rows: dict[str, pl.DataFrame],
) -> list[FileReport]:
    reports = []
    for name, raw in raws.items():
        validation = validations.get(name)
        rejected = validation.rejected if validation is not None else pl.DataFrame()
        for f in raw.files:
            n_rejected = (
                0
                if rejected.is_empty()
                else rejected.filter(pl.col("source_sha256") == f.sha256)
                .select("row_number")
                .n_unique()
            )
            loaded = typed_rows.get(name)
            n_loaded = (
                0 if loaded is None else loaded.filter(pl.col("source_sha256") == f.sha256).height
            )
            reports.append(
                FileReport(
                    f.name,
                    name,
                    f.rows_read,
                    n_loaded,
                    f.rows_unchanged,
                    n_rejected,
                    f.already_loaded,
                )
            )
    return reports


def _snapshot(conn: Connection, load_id: str, now: datetime) -> str:
    hashes = sorted(store.read_frame(conn, models.SourceFile, columns=["sha256"])["sha256"])
    snapshot_id = hashlib.sha256("\n".join(hashes).encode()).hexdigest()[:32]
    records = sum(
        conn.execute(sa.select(sa.func.count()).select_from(store.table(m))).scalar_one()
        for m in models.RECORD_TABLES.values()
    )
    store.insert_frame(
        conn,
        models.Snapshot,
        pl.DataFrame(
            [
                {
                    "snapshot_id": snapshot_id,
                    "created_at": now,
                    "load_id": load_id,
                    "input_sha256": json.dumps(hashes),
                    "record_count": records,
                }
            ],
            schema=store.polars_schema(models.Snapshot),
        ),
    )
    return snapshot_id


def stored_records(conn: Connection | Engine) -> Records:
    return Records(
        products=store.read_frame(conn, models.Product),
        locations=store.read_frame(conn, models.Location),
        **{name: store.read_frame(conn, models.RECORD_TABLES[name]) for name in EVENT_RECORD_TYPES},
    )


def lineage_records(records: Records) -> Records:
    """Records as lineage reads them: an SSCC-only shipment line (a whole pallet) becomes a line
    per serial and lot quantity packed in it at the ship time; an SSCC that held nothing then
    is left out (`aggregation.unresolved_shipments` lists those). Idempotent."""
    serials = aggregation.commissioned_serials(records.receipts, records.production)
    shipments = aggregation.explode_shipments(records.shipments, records.packing, serials)
    return replace(records, shipments=shipments)


def quality_tables(records: Records) -> tuple[Lineage, dict[str, pl.DataFrame]]:
    """The lineage and what is known about its quality: per-lot mass balance, completeness
    findings and scores. Built together so that a trace and its report read one snapshot."""
    resolved = lineage_records(records)
    lineage = build_lineage(resolved)
    allocated = with_allocated_consumption(resolved, lot_keys(resolved))
    balance = mass_balance.lot_balance(allocated, lineage)
    exceptions = completeness.trace_exceptions(
        resolved,
        lineage,
        balance=balance,
        unresolved=aggregation.unresolved_shipments(records.shipments, records.packing),
    )
    scores = completeness.completeness_score(lineage.lots, exceptions).with_columns(
        pl.col("checks_failed").list.join(", ")
    )
    events = status.status_event_frame(records.status)
    in_force = status.current_status(events, serials=lineage.serials).filter(
        pl.col("status").is_not_null()
    )
    return lineage, {
        "lot_mass_balance": balance,
        "trace_exception": exceptions,
        "lot_completeness": scores,
        "lot_status": in_force,
    }


def rebuild_lineage(conn: Connection, snapshot_id: str) -> dict[str, int]:
    lineage, quality = quality_tables(stored_records(conn))
    counts = {}
    for name, frame in {**lineage.tables(), **quality}.items():
        counts[name] = store.replace_frame(
            conn, name, frame.with_columns(pl.lit(snapshot_id).alias("snapshot_id"))
        )
    return counts


# --- all stages ---------------------------------------------------------------------------------


def load_folder(engine: Engine, drop_dir: Path, load_id: str | None = None) -> LoadReport:
    """Load a drop folder without Dagster (the pipeline runs the same stages as assets)."""
    store.create_schema(engine)
    sources = discover(drop_dir)
    load_id = load_id or uuid.uuid4().hex
    raws: dict[str, RawBatch] = {}
    validations: dict[str, Validation] = {}
    typed_rows: dict[str, pl.DataFrame] = {}
    for name in RECORD_TYPES:
        raws[name] = read_raw(engine, sources, name)
    for name in RECORD_TYPES:
        validations[name], typed_rows[name] = validate_batch(engine, raws[name], typed_rows)
    return commit(engine, raws, validations, typed_rows, load_id)

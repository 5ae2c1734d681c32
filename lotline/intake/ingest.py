"""A load: drop-folder files → raw batches → validated records → one serialised transaction.

The stages are separate functions because the Dagster assets run them one per step; `load_folder`
chains them for callers without Dagster. Identity is by content: a file whose bytes were loaded
before is skipped, and a row whose content hash is in force is counted as unchanged, so loading the
same data twice changes nothing. A row with the key of a stored record and other content is a
*correction*: the stored version moves to `record_history` with what changed and why, the new one
takes its place. Everything a load writes — records, history, findings, rejected rows, file log,
snapshot and rebuilt lineage tables — commits in one transaction or not at all, under a lock that
serialises loads, so the lineage always includes every committed record.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

import models
from lotline import aggregation, completeness, mass_balance, status, store
from lotline.audit import chain
from lotline.intake import findings, incremental, vocabulary
from lotline.intake.contract import EVENT_RECORD_TYPES, LINEAGE_RECORD_TYPES, RECORD_TYPES
from lotline.intake.epcis_source import source_read as epcis_read
from lotline.intake.findings import WARNING
from lotline.intake.mapping import Mapping
from lotline.intake.reading import SOURCE_ROW, SourceFile, read_source, scan
from lotline.intake.validation import (
    RECORD_HASH,
    SOURCE_FILE,
    SOURCE_SHA256,
    References,
    Validation,
    serial_key,
    typed,
    validate,
    with_record_hash,
)
from lotline.lineage import (
    LOT_ID,
    PROVENANCE_COLUMNS,
    Lineage,
    Records,
    genealogy_edges,
    lot_count,
    lot_keys,
    lots,
    on_hand,
    receipt_lines,
    serials,
    shipment_lines,
    with_allocated_consumption,
)
from lotline.table_stage import TableStage

MASTER_TABLES = {"products": models.Product, "locations": models.Location}
MASTER_KEYS = {"products": "gtin", "locations": "location_id"}
ANALYZE_AFTER_ROWS = 50_000
"""On PostgreSQL a load refreshes the statistics of a table it wrote more rows than this to."""
DEFAULT_MAX_REJECT_SHARE = 0.05
"""Above this share of a file's rows quarantined by one rule, the file or its mapping is
probably wrong: the load still commits what is valid, and says so loudly."""


@dataclass(frozen=True)
class FileRead:
    name: str
    sha256: str
    record_type: str
    rows_read: int
    rows_unchanged: int
    already_loaded: bool = False
    unused_columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class RawBatch:
    """New rows of one record type (text, with provenance and content hash) and what was skipped."""

    record_type: str
    files: list[FileRead]
    rows: pl.DataFrame
    findings: pl.DataFrame = field(default_factory=findings.empty)
    """What reading and the mapping found, by file and row (errors quarantine their row)."""


@dataclass(frozen=True)
class FileReport:
    name: str
    record_type: str
    rows_read: int
    rows_loaded: int
    rows_unchanged: int
    rows_rejected: int
    already_loaded: bool
    rows_corrected: int = 0
    rows_voided: int = 0
    rows_warned: int = 0
    unused_columns: tuple[str, ...] = ()

    @property
    def accounted(self) -> bool:
        return self.rows_read == self.rows_loaded + self.rows_unchanged + self.rows_rejected


@dataclass(frozen=True)
class SuspectFile:
    """A file one rule quarantined too much of: the file or its mapping is probably wrong."""

    name: str
    record_type: str
    rule: str
    column: str
    rows: int
    share: float


@dataclass(frozen=True)
class LoadReport:
    load_id: str
    files: list[FileReport]
    snapshot_id: str | None
    lineage_counts: dict[str, int] = field(default_factory=dict)
    rejected: pl.DataFrame = field(default_factory=pl.DataFrame)
    findings: pl.DataFrame = field(default_factory=findings.empty)
    """Warnings stored with the rows that loaded (and notes on whole files)."""
    suspects: list[SuspectFile] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """(file name, reason) of every drop-folder entry that was not read."""

    @property
    def changed(self) -> bool:
        return self.snapshot_id is not None

    def summary(self) -> pl.DataFrame:
        """One line per file × rule × column (`lotline.intake.findings.summary`)."""
        return findings.summary(self.rejected, self.findings)


# --- stage 1: raw -------------------------------------------------------------------------------


def read_raw(engine: Engine, sources: list[SourceFile], record_type: str) -> RawBatch:
    """Read the files of one record type, leaving out files and rows already stored."""
    loaded_files = set(store.read_frame(engine, models.SourceFile, columns=["sha256"])["sha256"])
    rt = RECORD_TYPES[record_type]
    files, frames, notes, reads = [], [], [], []
    seen: set[str] = set()
    for source in (s for s in sources if s.record_type == record_type):
        if source.sha256 in loaded_files or source.sha256 in seen:
            files.append(FileRead(source.name, source.sha256, record_type, 0, 0, True))
            continue
        seen.add(source.sha256)
        read = read_source(source) if source.epcis is None else epcis_read(source, engine)
        frame = with_record_hash(rt, vocabulary.canonical(rt, read.rows)).with_columns(
            pl.lit(source.name).alias(SOURCE_FILE), pl.lit(source.sha256).alias(SOURCE_SHA256)
        )
        reads.append((source, read, frame))
    hashes = [frame[RECORD_HASH] for _, _, frame in reads]
    stored = _stored_hashes(
        engine, record_type, pl.concat(hashes) if hashes else pl.Series(RECORD_HASH, [], pl.String)
    )
    for source, read, frame in reads:
        fresh = frame.filter(~pl.col(RECORD_HASH).is_in(stored.implode()))
        unreadable = (
            read.findings.filter(
                (pl.col("severity") == "error")
                & pl.col("row_number").is_not_null()
                & ~pl.col("row_number").is_in(read.rows[SOURCE_ROW].implode())
            )
            .select("row_number")
            .n_unique()
        )
        files.append(
            FileRead(
                source.name,
                source.sha256,
                record_type,
                frame.height + unreadable,
                frame.height - fresh.height,
                unused_columns=tuple(read.unused_columns),
            )
        )
        frames.append(fresh)
        notes.append(read.findings.cast(findings.FINDING_SCHEMA))
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
            replace(
                f,
                rows_unchanged=f.rows_unchanged
                + int(extra.filter(pl.col(SOURCE_SHA256) == f.sha256)["len"].sum()),
            )
            for f in files
        ]
    found = pl.concat(notes) if notes else findings.empty()
    return RawBatch(record_type, files, unique, found)


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


def _stored_hashes(engine: Engine, record_type: str, hashes: pl.Series) -> pl.Series:
    """Which of `hashes` are stored already: looked up by the batch's own hashes (a daily file
    must not read the hashes of every record ever loaded), or read whole for a large batch."""
    model = MASTER_TABLES.get(record_type) or models.RECORD_TABLES[record_type]
    if hashes.len() > DELTA_ROWS or record_type in MASTER_TABLES:
        return store.read_frame(engine, model, columns=["record_hash"])["record_hash"]
    if hashes.is_empty():
        return hashes
    with engine.connect() as conn, incremental.planner(conn, **incremental.KEY_READS):
        tables = incremental.KeyTables(conn)
        try:
            keys = tables.put("record_hashes", hashes.unique().to_frame("record_hash"))
            found = store.read_query(
                conn,
                f'SELECT r.record_hash FROM {keys} s CROSS JOIN "{store.table(model).name}" r '
                "WHERE r.record_hash = s.record_hash",
                {"record_hash": pl.String()},
            )
        finally:
            tables.drop()
            conn.commit()  # only the temporary table was written
    return found["record_hash"]


# --- stage 2: validate --------------------------------------------------------------------------


SERIAL_RULE_TYPES = ("receipts", "production", "packing", "status")
"""Record types whose rules compare serials with those already commissioned."""


def references(
    engine: Engine,
    record_type: str,
    batch: dict[str, pl.DataFrame],
    rows: pl.DataFrame | None = None,
) -> References:
    """Stored data plus this load's already-validated typed rows (`batch`, by record type).

    Only what `record_type`'s rules look at is read (a delta's status file must not read a
    million stored production ids), and kept as Polars columns, not Python sets. `rows`: the raw
    rows to be validated; when given and not many (`DELTA_ROWS`), stored production ids, serials
    and packing events are looked up by the keys those rows name (`_stored_for`) instead of
    read whole: what the rules find for these rows is the same."""
    rt = RECORD_TYPES[record_type]
    targets = set(rt.references.values())

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
    empty = pl.Series(dtype=pl.String)
    location_ids = (
        with_batch(
            "locations",
            store.read_frame(engine, models.Location, columns=["location_id"]),
            ["location_id"],
        )["location_id"]
        .drop_nulls()
        .unique()
        if "locations" in targets
        else empty
    )
    stored = (
        _stored_for(engine, record_type, rows)
        if rows is not None and rows.height <= DELTA_ROWS
        else _stored_whole(engine, record_type)
    )
    production_ids = (
        with_batch("production", stored.production_ids, ["production_id"])["production_id"]
        .drop_nulls()
        .unique()
        if "production" in targets
        else empty
    )
    serial_keys = empty
    if record_type in SERIAL_RULE_TYPES:
        serials = [stored.serials] + [
            batch[n].select("gtin", "serial") for n in ("receipts", "production") if n in batch
        ]
        serial_keys = pl.concat(serials).select(serial_key()).to_series().drop_nulls().unique()
    packing = pl.DataFrame(schema=aggregation.PACKING_SCHEMA)
    if record_type in PACKING_RULE_TYPES:
        packing = with_batch("packing", stored.packing, list(aggregation.PACKING_SCHEMA))
    return References(
        products=products,
        location_ids=location_ids,
        production_ids=production_ids,
        serial_keys=serial_keys,
        packing=packing,
        ssccs=pl.concat([packing["parent_sscc"], packing["child_sscc"]]).drop_nulls().unique(),
    )


PACKING_RULE_TYPES = ("packing", "shipments")
"""Record types whose rules look at packing events (an unpack's history, a pallet's content)."""


@dataclass(frozen=True)
class _Stored:
    """The stored records a record type's rules compare its rows with (typed as stored)."""

    production_ids: pl.DataFrame  # production_id
    serials: pl.DataFrame  # gtin, serial: commissioned (received or produced)
    packing: pl.DataFrame  # aggregation.PACKING_SCHEMA


def _stored_whole(engine: Engine, record_type: str) -> _Stored:
    """Every stored record the rules of `record_type` may compare with: for a large batch."""
    targets = set(RECORD_TYPES[record_type].references.values())
    production_ids = (
        store.read_frame(engine, models.ProductionRecord, columns=["production_id"])
        if "production" in targets
        else pl.DataFrame(schema={"production_id": pl.String})
    )
    serials = pl.DataFrame(schema={"gtin": pl.String, "serial": pl.String})
    if record_type in SERIAL_RULE_TYPES:
        serials = pl.concat(
            store.read_frame(
                engine, m, where=store.table(m).c.serial.is_not(None), columns=["gtin", "serial"]
            )
            for m in (models.ReceiptRecord, models.ProductionRecord)
        )
    packing = pl.DataFrame(schema=aggregation.PACKING_SCHEMA)
    if record_type in PACKING_RULE_TYPES:
        packing = store.read_frame(
            engine, models.PackingRecord, columns=list(aggregation.PACKING_SCHEMA)
        )
    return _Stored(production_ids, serials, packing)


def _stored_for(engine: Engine, record_type: str, rows: pl.DataFrame) -> _Stored:
    """The stored records the rules compare `rows` (raw text) with, looked up by the keys the
    rows name, each a join on an index: the production ids they consume from; the commissioned
    serials among theirs (from the `serial` table, keyed by GTIN and serial, which holds every
    serial of a stored receipt or production — the lineage commits with the records); the
    packing events of the SSCCs they ship (`_sscc_known`) or of the children they pack or
    unpack (`_packing_history_checks` compares an event only with those of its child)."""
    cols = set(rows.columns)
    targets = set(RECORD_TYPES[record_type].references.values())
    gtin14 = pl.col("gtin").str.zfill(14)
    packing_schema = {"record_hash": pl.String(), **aggregation.PACKING_SCHEMA}
    with engine.connect() as conn, incremental.planner(conn, **incremental.KEY_READS):
        scratch = incremental.KeyTables(conn)
        try:

            def lookup(
                table: str,
                keys: pl.DataFrame,
                schema: dict[str, pl.DataType],
                scan: bool = False,
                one_index: bool = False,
            ) -> pl.DataFrame:
                return incremental.read_by_keys(
                    conn, scratch, table, keys, schema, scan=scan, one_index=one_index
                )

            production_ids = pl.DataFrame(schema={"production_id": pl.String})
            if "production" in targets and "production_id" in cols:
                production_ids = lookup(
                    "production_record",
                    rows.select("production_id").drop_nulls().unique(),
                    {"production_id": pl.String()},
                )
            serials = pl.DataFrame(schema={"gtin": pl.String, "serial": pl.String})
            if record_type in SERIAL_RULE_TYPES and {"gtin", "serial"} <= cols:
                serials = lookup(
                    "serial",
                    rows.select(gtin14, "serial").drop_nulls().unique(),
                    {"gtin": pl.String(), "serial": pl.String()},
                    one_index=True,
                )
            parts = []
            if record_type == "shipments" and "sscc" in cols:
                ssccs = rows.select("sscc").drop_nulls().unique()
                parts += [
                    lookup("packing_record", ssccs.rename({"sscc": c}), packing_schema)
                    for c in ("parent_sscc", "child_sscc")
                ]
            if record_type == "packing":
                parts += [
                    lookup(
                        "packing_record",
                        rows.select("child_sscc").drop_nulls().unique(),
                        packing_schema,
                    ),
                    lookup(
                        "packing_record",
                        rows.select(gtin14, "lot").drop_nulls().unique(),
                        packing_schema,
                    ),
                    # no index leads to a serial: the few keys are probed from a scan
                    lookup(
                        "packing_record",
                        rows.select(gtin14, "serial").drop_nulls().unique(),
                        packing_schema,
                        scan=True,
                    ),
                ]
        finally:
            scratch.drop()
            conn.commit()  # only the temporary tables were written
    packing = (  # an event found by two of its keys is one event
        pl.concat(parts).unique("record_hash", keep="first").drop("record_hash")
        if parts
        else pl.DataFrame(schema=aggregation.PACKING_SCHEMA)
    )
    return _Stored(production_ids, serials, packing)


def validate_batch(
    engine: Engine,
    raw: RawBatch,
    batch: dict[str, pl.DataFrame],
    strict: bool = False,
    confirm_flag_warnings: bool = True,
) -> tuple[Validation, pl.DataFrame]:
    """Validation outcome and the valid rows typed for storage (void rows included: the commit
    applies them). `confirm_flag_warnings`: see `validation.validate`."""
    refs = (
        References()  # nothing to validate: nothing to read
        if raw.rows.is_empty()
        else references(engine, raw.record_type, _in_force(batch), raw.rows)
    )
    result = validate(
        raw.record_type,
        raw.rows,
        refs,
        strict=strict,
        read_findings=raw.findings,
        confirm_flag_warnings=confirm_flag_warnings,
    )
    return result, typed(raw.record_type, result.valid)


def _in_force(batch: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """This load's typed rows as later record types may refer to them: void rows left out."""
    return {
        name: rows.filter(~pl.col("void")) if "void" in rows.columns else rows
        for name, rows in batch.items()
    }


# --- stage 3: commit ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Applied:
    """What the commit did with one record type's typed rows, by record hash."""

    inserted: pl.DataFrame  # record_hash, source_sha256, corrected (bool)
    voided: pl.DataFrame  # record_hash, source_sha256
    unchanged: pl.DataFrame  # record_hash, source_sha256
    notes: pl.DataFrame  # findings raised by the commit itself (nothing to void)
    whole_table: pl.DataFrame | None = None
    """When the table was empty before this load: everything it now holds, as written."""


def commit(
    engine: Engine,
    raws: dict[str, RawBatch],
    validations: dict[str, Validation],
    typed_rows: dict[str, pl.DataFrame],
    load_id: str,
    max_reject_share: float = DEFAULT_MAX_REJECT_SHARE,
) -> LoadReport:
    """Write the load and rebuild lineage in one transaction: all of it or nothing.

    The load lock is taken first, and everything that depends on what is stored — which rows are
    unchanged, corrections, versions, the lineage — is decided after it, so two loads at once
    give the same tables as the same loads one after the other."""
    now = datetime.now(UTC)
    applied: dict[str, _Applied] = {}
    with engine.begin() as conn, contextlib.ExitStack() as cleanup:
        store.lock_loads(conn, load_id)
        stored_files = set(store.read_frame(conn, models.SourceFile, columns=["sha256"])["sha256"])
        raws = {name: _drop_loaded_files(raw, stored_files) for name, raw in raws.items()}
        fresh = {raw_file.sha256 for raw in raws.values() for raw_file in raw.files}
        master_changed: dict[str, list[str]] = {}
        for name, model in MASTER_TABLES.items():
            rows = _of_files(typed_rows.get(name), fresh)
            if rows is not None and not rows.is_empty():
                key = MASTER_KEYS[name]
                keys = rows[key].to_list()
                master_changed[name] = _master_changes(conn, model, key, rows)
                for chunk in range(0, len(keys), 500):
                    conn.execute(
                        store.table(model)
                        .delete()
                        .where(store.table(model).c[key].in_(keys[chunk : chunk + 500]))
                    )
                store.insert_frame(conn, model, rows)
                chain.seal_frame(conn, store.table(model).name, rows, _actor(load_id))
        ahead = _lineage_ahead(conn, typed_rows, fresh, load_id)
        if ahead is not None:
            cleanup.callback(ahead.stage.close)
        for name in EVENT_RECORD_TYPES:
            rows = _of_files(typed_rows.get(name), fresh)
            if rows is not None:
                applied[name] = _apply_records(conn, name, rows, load_id, now)
        rejected = _of_files(
            pl.concat([v.rejected for v in validations.values()], how="diagonal_relaxed")
            if validations
            else pl.DataFrame(),
            fresh,
        )
        warned = _stored_findings(raws, validations, typed_rows, applied, fresh)
        reports = _file_reports(raws, validations, typed_rows, applied, warned)
        if rejected is not None and not rejected.is_empty():
            store.insert_frame(
                conn, models.RejectedRecord, rejected.with_columns(pl.lit(load_id).alias("load_id"))
            )
        if not warned.is_empty():
            store.insert_frame(
                conn, models.RecordFinding, warned.with_columns(pl.lit(load_id).alias("load_id"))
            )
        files = store.insert_frame(conn, models.SourceFile, _file_rows(reports, raws, load_id, now))
        if files:
            source_file = store.table(models.SourceFile)
            chain.seal_rows(
                conn, source_file.name, source_file.c.load_id == load_id, _actor(load_id)
            )
        # master data changes only what differs from the stored rows (a file resent, or one
        # another load committed meanwhile, is no change and makes no snapshot)
        changed = any(
            not a.inserted.is_empty() or not a.voided.is_empty() for a in applied.values()
        ) or any(master_changed.values())
        snapshot_id, counts = None, {}
        if changed:
            snapshot_id = _snapshot(conn, load_id, now)
            snapshot = store.table(models.Snapshot)
            chain.seal_rows(
                conn, snapshot.name, snapshot.c.snapshot_id == snapshot_id, _actor(load_id)
            )
            written = {n: a.whole_table for n, a in applied.items() if a.whole_table is not None}
            if ahead is not None and ahead.built_from(written):
                counts = ahead.finish(snapshot_id)
            elif _incremental(conn, written, master_changed):
                changed_rows = changed_records(conn, load_id, typed_rows, applied)
                if master_changed.get("products"):
                    changed_rows["products"] = pl.DataFrame(
                        {"gtin": master_changed["products"]}, schema={"gtin": pl.String}
                    )
                counts = incremental.update(conn, snapshot_id, changed_rows)
            else:
                counts = rebuild_lineage(conn, snapshot_id, written)
        # statistics for the planner after bulk writes: SQLite keeps none unless asked (and
        # samples in milliseconds); PostgreSQL's autovacuum analyzes small changes itself
        written_rows = {
            **{models.RECORD_TABLES[n]: a.inserted.height for n, a in applied.items()},
            **counts,
        }
        floor = 0 if conn.dialect.name == "sqlite" else ANALYZE_AFTER_ROWS
        store.analyze(conn, [t for t, rows in written_rows.items() if rows > floor])
    return LoadReport(
        load_id,
        reports,
        snapshot_id,
        counts,
        rejected if rejected is not None else pl.DataFrame(),
        warned,
        suspect_files(reports, rejected, max_reject_share),
    )


def _incremental(
    conn: Connection, written: dict[str, pl.DataFrame], master_changed: dict[str, list[str]]
) -> bool:
    """Update lineage incrementally unless the tables are new (a first load builds them whole)
    or a location changed (its kind decides what counts as stock everywhere)."""
    if written or master_changed.get("locations"):
        return False
    lot = store.table(models.Lot)
    return conn.execute(sa.select(lot.c.lot_key).limit(1)).first() is not None


CHANGE_COLUMNS = (
    *LOT_ID,
    "serial",
    "shipment_id",
    "production_id",
    "sscc",
    "parent_sscc",
    "child_sscc",
    "location_id",
    "from_location_id",
    "to_location_id",
)
"""What a changed record is known by, for `incremental.touched_lots`."""


def changed_records(
    conn: Connection,
    load_id: str,
    typed_rows: dict[str, pl.DataFrame],
    applied: dict[str, _Applied],
) -> dict[str, pl.DataFrame]:
    """Per record type, the keys of what this load changed: the versions it stored and the
    versions they replaced or voided (from the history this load wrote)."""
    history = store.table(models.RecordHistory)
    replaced = store.read_frame(
        conn,
        models.RecordHistory,
        where=history.c.changed_by_load == load_id,
        columns=["record_type", "record"],
    )
    changed = {}
    for name in LINEAGE_RECORD_TYPES:
        columns = [c for c in CHANGE_COLUMNS if c in store.table(models.RECORD_TABLES[name]).c]
        schema = dict.fromkeys(columns, pl.String())
        parts = []
        done = applied.get(name)
        if done is not None and not done.inserted.is_empty():
            rows = typed_rows[name].join(done.inserted.select("record_hash"), on="record_hash")
            parts.append(rows.select(pl.col(c).cast(pl.String) for c in columns))
        old = replaced.filter(pl.col("record_type") == name)
        if old.height:
            decoded = old.select(
                pl.col("record").str.json_decode(pl.Struct(schema)).alias("r")
            ).unnest("r")
            parts.append(decoded.select(columns))
        changed[name] = pl.concat(parts) if parts else pl.DataFrame(schema=schema)
    return changed


def _master_changes(conn: Connection, model: type, key: str, rows: pl.DataFrame) -> list[str]:
    """Keys of master rows in `rows` that are new or differ from the stored ones."""
    stored = store.read_in(conn, model, key, rows[key])
    columns = [c for c in stored.columns if c in rows.columns]
    fresh = rows.select(pl.col(c).cast(stored.schema[c]) for c in columns)
    return (
        fresh.join(stored.select(columns), on=columns, how="anti", nulls_equal=True)[key]
        .unique()
        .to_list()
    )


def _actor(load_id: str) -> str:
    """Who wrote, in the audit trail: the load."""
    return f"lotline load {load_id}"


def _drop_loaded_files(raw: RawBatch, stored: set[str]) -> RawBatch:
    """A file another load committed while this one was validating is already loaded."""
    if not any(f.sha256 in stored and not f.already_loaded for f in raw.files):
        return raw
    files = [
        replace(f, already_loaded=True, rows_read=0, rows_unchanged=0) if f.sha256 in stored else f
        for f in raw.files
    ]
    rows = raw.rows.filter(~pl.col(SOURCE_SHA256).is_in(list(stored)))
    return replace(raw, files=files, rows=rows)


def _of_files(rows: pl.DataFrame | None, fresh: set[str]) -> pl.DataFrame | None:
    if rows is None or rows.is_empty() or "source_sha256" not in rows.columns:
        return rows
    return rows.filter(pl.col("source_sha256").is_in(list(fresh)))


def _apply_records(
    conn: Connection, name: str, rows: pl.DataFrame, load_id: str, now: datetime
) -> _Applied:
    """Insert new records, apply corrections and voids, skip what is already in force."""
    model = models.RECORD_TABLES[name]
    tbl = store.table(model)
    empty = rows.select("record_hash", "source_sha256").clear()
    if rows.is_empty():
        notes = findings.empty().with_columns(pl.lit(None, pl.String).alias("record_hash"))
        return _Applied(empty.with_columns(corrected=pl.lit(False)), empty, empty, notes)
    stored = _stored_versions(conn, model, rows["line_key"])
    history = store.read_query(
        conn,
        sa.select(
            store.table(models.RecordHistory).c.line_key,
            sa.func.max(store.table(models.RecordHistory).c.version).label("past_version"),
            sa.func.max(
                sa.case((store.table(models.RecordHistory).c.change == "voided", 1), else_=0)
            ).label("was_voided"),
        )
        .where(store.table(models.RecordHistory).c.record_type == name)
        .group_by(store.table(models.RecordHistory).c.line_key),
        {"line_key": pl.String(), "past_version": pl.Int64(), "was_voided": pl.Int64()},
    )
    if stored.is_empty() and history.is_empty():  # a first load: nothing to compare with
        matched = rows.with_columns(
            pl.lit(None, pl.String).alias("_stored_hash"),
            pl.lit(None, pl.Int64).alias("_stored_version"),
            pl.lit(None, pl.Int64).alias("past_version"),
            pl.lit(None, pl.Int64).alias("was_voided"),
        )
    else:
        matched = rows.join(
            stored.rename({"record_hash": "_stored_hash", "version": "_stored_version"}),
            on="line_key",
            how="left",
            maintain_order="left",
        ).join(history, on="line_key", how="left", maintain_order="left")
    in_force = pl.col("_stored_hash").is_not_null()
    void = pl.col("void")
    unchanged_mask = (in_force & (pl.col("_stored_hash") == pl.col("record_hash")) & ~void) | (
        ~in_force & void & (pl.col("was_voided") == 1)
    )
    nothing_to_void = ~in_force & void & (pl.col("was_voided").fill_null(0) == 0)
    unchanged = matched.filter(unchanged_mask)
    voids = matched.filter(in_force & void)
    corrections = matched.filter(
        in_force & ~void & (pl.col("_stored_hash") != pl.col("record_hash"))
    )
    inserts = matched.filter(~in_force & ~void).with_columns(
        (pl.col("past_version").fill_null(0) + 1).alias("version")
    )
    corrections = corrections.with_columns((pl.col("_stored_version") + 1).alias("version"))

    replaced = pl.concat([corrections, voids], how="diagonal_relaxed")
    if not replaced.is_empty():
        old = _stored_rows(conn, model, replaced["line_key"].to_list())
        history = _history_rows(name, old, replaced, load_id, now)
        store.insert_frame(conn, models.RecordHistory, history)
        chain.seal_frame(conn, store.table(models.RecordHistory).name, history, _actor(load_id))
        keys = replaced["line_key"].to_list()
        for chunk in range(0, len(keys), 500):
            conn.execute(tbl.delete().where(tbl.c.line_key.in_(keys[chunk : chunk + 500])))
        chain.seal_deleted(conn, tbl.name, old.select("record_hash").rows(), _actor(load_id))
    new = (
        inserts
        if corrections.is_empty()
        else pl.concat([inserts, corrections], how="diagonal_relaxed")
    )
    written = new.with_columns(pl.lit(load_id).alias("load_id"))
    # the audit seal (row texts and hashes, Python per row) is computed on another thread while
    # the database inserts and indexes the rows (its drivers release the GIL meanwhile); a
    # table that at least doubles gets its indexes rebuilt after the insert (one sort each)
    with ThreadPoolExecutor(max_workers=1) as hasher:
        sealed = hasher.submit(chain.frame_seal, tbl.name, written)
        store.bulk_insert(conn, model, written, empty=written.height >= stored.height)
        chain.seal_frame(conn, tbl.name, written, _actor(load_id), sealed.result())
    notes = matched.filter(nothing_to_void).select(
        pl.col("source_sha256"),
        pl.col("source_file"),
        pl.lit(name).alias("record_type"),
        pl.col("source_row").alias("row_number"),
        pl.lit("void").alias("column"),
        pl.lit("nothing_to_void").alias("rule"),
        pl.lit(WARNING).alias("severity"),
        pl.col("line_key").str.replace_all("\x1f", " / ", literal=True).alias("value"),
        pl.lit("void of a record that was never loaded: nothing to void").alias("message"),
        pl.col("record_hash"),
    )
    return _Applied(
        new.select(
            "record_hash", "source_sha256", pl.col("_stored_hash").is_not_null().alias("corrected")
        ),
        voids.select("record_hash", "source_sha256"),
        pl.concat(
            [
                unchanged.select("record_hash", "source_sha256"),
                matched.filter(nothing_to_void).select("record_hash", "source_sha256"),
            ]
        ),
        notes,
        _as_stored(model, written)
        if stored.is_empty() and _is_empty(conn, model, written)
        else None,
    )


DELTA_ROWS = 200_000
"""Up to this many rows a load looks up the stored versions of its own business keys; above,
reading the table's keys whole is cheaper than shipping the keys in."""


def _stored_versions(conn: Connection, model: type, line_keys: pl.Series) -> pl.DataFrame:
    """line_key, record_hash, version of the stored records with these business keys: a daily
    load of a few thousand rows must not read the keys of every record ever loaded."""
    columns = ["line_key", "record_hash", "version"]
    if line_keys.len() > DELTA_ROWS:
        return store.read_frame(conn, model, columns=columns)
    tables = incremental.KeyTables(conn)
    try:
        keys = tables.put("line_keys", line_keys.unique().to_frame("line_key"))
        select = ", ".join(f'r."{c}"' for c in columns)
        with incremental.planner(conn, **incremental.KEY_READS):
            return store.read_query(
                conn,
                f'SELECT {select} FROM {keys} s CROSS JOIN "{store.table(model).name}" r '
                "WHERE r.line_key = s.line_key",
                {"line_key": pl.String(), "record_hash": pl.String(), "version": pl.Int64()},
            )
    finally:
        tables.drop()


def _is_empty(conn: Connection, model: type, written: pl.DataFrame | None = None) -> bool:
    """Whether the table held nothing before this load (`written`: rows it just inserted)."""
    tbl = store.table(model)
    count = conn.execute(sa.select(sa.func.count()).select_from(tbl)).scalar_one()
    return count == (written.height if written is not None else 0)


def _as_stored(model: type, written: pl.DataFrame) -> pl.DataFrame:
    """Rows as `stored_records` reads them back: the table's columns and types, in order."""
    schema = store.polars_schema(model)
    columns = [c for c in schema if c not in VERSION_COLUMNS]
    return written.select(pl.col(c).cast(schema[c]) for c in columns)


def _stored_rows(conn: Connection, model: type, keys: list[str]) -> pl.DataFrame:
    return store.read_in(conn, model, "line_key", keys)


def _as_text(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """Contract values as text, the way history records and compares them."""
    exprs = []
    for c in columns:
        dtype = frame.schema[c]
        if isinstance(dtype, pl.Datetime):
            exprs.append(pl.col(c).dt.strftime("%Y-%m-%dT%H:%M:%S%.fZ").alias(c))
        elif dtype == pl.Float64:
            exprs.append(pl.col(c).cast(pl.String).str.replace(r"\.0$", "").alias(c))
        else:
            exprs.append(pl.col(c).cast(pl.String).alias(c))
    return frame.select(exprs)


def _history_rows(
    name: str, old: pl.DataFrame, replaced: pl.DataFrame, load_id: str, now: datetime
) -> pl.DataFrame:
    """One history row per replaced version: its content, and what the new row changed."""
    columns = [
        c
        for c in RECORD_TYPES[name].content_columns
        if c in old.columns and c in replaced.columns and c != "void"
    ]
    old_text = _as_text(old, columns).with_columns(old["line_key"])
    new_text = _as_text(replaced, columns).with_columns(
        replaced["line_key"], replaced["void"].alias("_void")
    )
    pairs = old_text.join(new_text, on="line_key", suffix="__new")
    changes = []
    for row in pairs.iter_rows(named=True):  # corrections are few: plain Python reads clearest
        if row["_void"]:
            changes.append("{}")
            continue
        diff = {c: [row[c], row[f"{c}__new"]] for c in columns if row[c] != row[f"{c}__new"]}
        changes.append(json.dumps(diff, ensure_ascii=False))
    pairs = pairs.with_columns(pl.Series("changes", changes, dtype=pl.String))
    record = old_text.select("line_key", pl.struct(columns).struct.json_encode().alias("record"))
    return (
        old.select(
            "line_key",
            "version",
            "record_hash",
            pl.col("gtin") if "gtin" in old.columns else pl.lit(None, pl.String).alias("gtin"),
            pl.col("lot") if "lot" in old.columns else pl.lit(None, pl.String).alias("lot"),
            "source_file",
            "source_row",
            "load_id",
        )
        .join(record, on="line_key")
        .join(pairs.select("line_key", "changes"), on="line_key")
        .join(
            replaced.select(
                "line_key",
                pl.when(pl.col("void"))
                .then(pl.lit("voided"))
                .otherwise(pl.lit("corrected"))
                .alias("change"),
                pl.col("correction_reason").alias("reason"),
                pl.col("source_file").alias("changed_by_file"),
                pl.col("source_row").alias("changed_by_row"),
            ),
            on="line_key",
        )
        .with_columns(
            pl.lit(name).alias("record_type"),
            pl.lit(load_id).alias("changed_by_load"),
            pl.lit(now).cast(pl.Datetime("us", "UTC")).alias("changed_at"),
        )
    )


def _stored_findings(
    raws: dict[str, RawBatch],
    validations: dict[str, Validation],
    typed_rows: dict[str, pl.DataFrame],
    applied: dict[str, _Applied],
    fresh: set[str],
) -> pl.DataFrame:
    """Warnings to store: on rows that went in (with gtin and lot, to find a traced lot's), plus
    reading's notes on whole files."""
    schema = {
        **findings.FINDING_SCHEMA,
        "record_hash": pl.String(),
        "gtin": pl.String(),
        "lot": pl.String(),
    }
    parts = []
    for name, validation in validations.items():
        warned = validation.findings
        if name in applied:
            warned = pl.concat([warned, applied[name].notes], how="diagonal_relaxed")
            kept = pl.concat(
                [
                    applied[name].inserted.select("record_hash"),
                    applied[name].notes.select("record_hash"),
                ]
            )
            warned = warned.join(kept.unique(), on="record_hash", how="semi")
        if warned.is_empty():
            continue
        rows = typed_rows.get(name)
        if rows is not None and "gtin" in rows.columns:
            lots = rows.select(
                "record_hash",
                "gtin",
                pl.col("lot")
                if "lot" in rows.columns
                else pl.lit(None).cast(pl.String).alias("lot"),
            ).unique("record_hash")
            warned = warned.join(lots, on="record_hash", how="left")
        parts.append(warned)
    for raw in raws.values():  # notes about a whole file (no row) are not tied to a record
        whole = raw.findings.filter(
            pl.col("row_number").is_null() & (pl.col("severity") == WARNING)
        )
        if not whole.is_empty():
            parts.append(whole)
    if not parts:
        return pl.DataFrame(schema=schema)
    frame = pl.concat(parts, how="diagonal_relaxed")
    for c, dtype in schema.items():
        if c not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=dtype).alias(c))
    frame = frame.select([pl.col(c).cast(t) for c, t in schema.items()]).with_columns(
        pl.col("column").fill_null("(whole file)")
    )
    return frame.filter(pl.col("source_sha256").is_in(list(fresh)))


def _file_reports(
    raws: dict[str, RawBatch],
    validations: dict[str, Validation],
    typed_rows: dict[str, pl.DataFrame],
    applied: dict[str, _Applied],
    warned: pl.DataFrame,
) -> list[FileReport]:
    def count(frame: pl.DataFrame | None, sha: str, condition: pl.Expr | None = None) -> int:
        if frame is None or frame.is_empty():
            return 0
        frame = frame.filter(pl.col("source_sha256") == sha)
        return frame.filter(condition).height if condition is not None else frame.height

    reports = []
    for name, raw in raws.items():
        validation = validations.get(name)
        rejected = validation.rejected if validation is not None else pl.DataFrame()
        done = applied.get(name)
        for f in raw.files:
            n_rejected = (
                0
                if rejected.is_empty()
                else rejected.filter(pl.col("source_sha256") == f.sha256)
                .select("row_number")
                .n_unique()
            )
            n_warned = (
                0
                if warned.is_empty()
                else warned.filter(
                    (pl.col("source_sha256") == f.sha256) & pl.col("row_number").is_not_null()
                )
                .select("row_number")
                .n_unique()
            )
            if done is None:  # master data: every valid row is written (once: a file another
                # load committed meanwhile loads nothing here)
                loaded, unchanged, corrected, voided = (
                    0 if f.already_loaded else count(typed_rows.get(name), f.sha256),
                    0,
                    0,
                    0,
                )
            else:
                corrected = count(done.inserted, f.sha256, pl.col("corrected"))
                voided = count(done.voided, f.sha256)
                loaded = count(done.inserted, f.sha256) + voided
                unchanged = count(done.unchanged, f.sha256)
            reports.append(
                FileReport(
                    f.name,
                    name,
                    f.rows_read,
                    loaded,
                    f.rows_unchanged + unchanged,
                    n_rejected,
                    f.already_loaded,
                    corrected,
                    voided,
                    n_warned,
                    f.unused_columns,
                )
            )
    return reports


def _file_rows(
    reports: list[FileReport], raws: dict[str, RawBatch], load_id: str, now: datetime
) -> pl.DataFrame:
    """One row per file: an EPCIS document read as several record types is one file, its
    record types joined by '+' and its counts summed."""
    rows = pl.DataFrame(
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
    if rows["sha256"].is_unique().all():
        return rows
    counts = ["rows_read", "rows_loaded", "rows_unchanged", "rows_rejected"]
    return (
        rows.group_by("sha256", maintain_order=True)
        .agg(
            pl.col("file_name").first(),
            pl.col("record_type").unique(maintain_order=True).str.join("+"),
            pl.col("load_id", "loaded_at").first(),
            *[pl.col(c).sum() for c in counts],
        )
        .select(rows.columns)
        .cast(rows.schema)
    )


def suspect_files(
    reports: list[FileReport], rejected: pl.DataFrame | None, max_share: float
) -> list[SuspectFile]:
    """Files where one rule quarantined more than `max_share` of the rows read."""
    if rejected is None or rejected.is_empty():
        return []
    read = {(r.name, r.record_type): r.rows_read for r in reports}
    by_rule = rejected.group_by("source_file", "record_type", "rule", "column").agg(
        pl.col("row_number").n_unique().alias("rows")
    )
    suspects = []
    for row in by_rule.sort("source_file", "rule").iter_rows(named=True):
        total = read.get((row["source_file"], row["record_type"]), 0)
        if total and row["rows"] / total > max_share:
            suspects.append(
                SuspectFile(
                    row["source_file"],
                    row["record_type"],
                    row["rule"],
                    row["column"],
                    row["rows"],
                    row["rows"] / total,
                )
            )
    return suspects


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


VERSION_COLUMNS = ("line_key", "version", "correction_reason")
"""How a record came to be in force: the history's business, not the lineage's."""
UNTRACED_COLUMNS = (*VERSION_COLUMNS, *PROVENANCE_COLUMNS)
"""What no lineage or quality table reads: a full build leaves them out (at 10⁷ records the
hashes and file names alone are gigabytes)."""


def stored_records(
    conn: Connection | Engine,
    written: dict[str, pl.DataFrame] | None = None,
    provenance: bool = True,
) -> Records:
    """The records in force, as lineage reads them (the version columns left out: on millions
    of records the business keys alone are hundreds of megabytes). `written`: record types whose
    whole table this transaction just wrote, as written — not read back (a first load).
    `provenance=False`: without the hashes and source files either (`UNTRACED_COLUMNS`)."""
    left_out = VERSION_COLUMNS if provenance else UNTRACED_COLUMNS

    def in_force(name: str) -> pl.DataFrame:
        if written and name in written:
            return written[name].drop(*left_out, strict=False)
        model = models.RECORD_TABLES[name]
        columns = [c.name for c in store.table(model).columns if c.name not in left_out]
        return store.read_frame(conn, model, columns=columns)

    return Records(
        products=store.read_frame(conn, models.Product),
        locations=store.read_frame(conn, models.Location),
        **{name: in_force(name) for name in LINEAGE_RECORD_TYPES},
    )


def lineage_records(records: Records) -> Records:
    """Records as lineage reads them: an SSCC-only shipment line (a whole pallet) becomes a line
    per serial and lot quantity packed in it at the ship time; an SSCC that held nothing then
    is left out (`aggregation.unresolved_shipments` lists those). Idempotent."""
    serials = aggregation.commissioned_serials(records.receipts, records.production)
    shipments = aggregation.explode_shipments(records.shipments, records.packing, serials)
    return replace(records, shipments=shipments)


def quality_tables(
    records: Records,
    known: pl.DataFrame | None = None,
    next_key: int = 0,
    with_closure: bool = True,
) -> tuple[Lineage, dict[str, pl.DataFrame]]:
    """The lineage and what is known about its quality: per-lot mass balance, completeness
    findings and scores. Built together so that a trace and its report read one snapshot.
    `known`/`next_key`: stored lot keys to keep (`lineage.lot_keys`). In memory, all of it:
    `rebuild_lineage` writes the same tables one by one (`full_build`)."""
    from lotline import genealogy

    tables: dict[str, pl.DataFrame] = {}
    for name, rows in full_build(records, known, next_key, with_closure):
        if not isinstance(rows, pl.DataFrame):  # the closure's blocks
            rows = pl.concat([pl.DataFrame(schema=genealogy.CLOSURE_SCHEMA), *rows], rechunk=False)
        tables[name] = rows
    lineage = Lineage(
        lots=tables.pop("lot"),
        edges=tables.pop("lot_edge"),
        serials=tables.pop("serial"),
        shipments=tables.pop("lot_shipment"),
        receipts=tables.pop("lot_receipt"),
        on_hand=tables.pop("lot_on_hand"),
        closure=tables.pop("lot_closure", None),
    )
    return lineage, {name: tables[name] for name in QUALITY_TABLES}


LINEAGE_TABLES = (
    "lot",
    "lot_edge",
    "serial",
    "lot_shipment",
    "lot_receipt",
    "lot_on_hand",
    "lot_closure",
)
QUALITY_TABLES = ("lot_mass_balance", "trace_exception", "lot_completeness", "lot_status")


def full_build(
    records: Records,
    known: pl.DataFrame | None = None,
    next_key: int = 0,
    with_closure: bool = True,
) -> Iterator[tuple[str, pl.DataFrame | Iterator[pl.DataFrame]]]:
    """Every lineage and quality table of `records` as (table name, rows), one at a time as it
    is built; the closure as its blocks (`genealogy.closure_blocks`).

    Why one at a time: a caller that writes each table and lets it go (`rebuild_lineage`)
    holds only what later tables still read — at 10⁷ edges the difference between fitting in
    8 GB or not. What later steps read is kept, as the columns they read (the edges as links
    with their shares); `records` itself is let go once resolved (`lineage_records`)."""
    from lotline import genealogy  # scipy: kept off the import path of `lotline trace`

    unresolved = aggregation.unresolved_shipments(records.shipments, records.packing)
    events = status.status_event_frame(records.status)
    resolved = lineage_records(records)
    del records
    keys = lot_keys(resolved, known, next_key) if known is not None else lot_keys(resolved)
    edges = genealogy.edge_shares(genealogy_edges(resolved, keys))
    yield "lot_edge", edges
    links = edges.select("parent_key", "child_key", "share")
    del edges
    if with_closure:
        yield "lot_closure", genealogy.closure_blocks(links, lot_count(keys))
    allocated = with_allocated_consumption(resolved, keys)
    stock, lot_rows = _lots_and_stock(allocated, keys)
    yield "lot", lot_rows
    yield "lot_on_hand", stock
    serial_rows = serials(allocated, keys)
    yield "serial", serial_rows
    shipments = shipment_lines(allocated, keys)
    yield "lot_shipment", shipments
    receipts = receipt_lines(allocated, keys)
    yield "lot_receipt", receipts
    lineage = Lineage(lot_rows, links, serial_rows, shipments, receipts, stock)
    del keys, stock, shipments, receipts
    resolved, allocated = _without_line_columns(resolved), _without_line_columns(allocated)
    balance = mass_balance.lot_balance(allocated, lineage)
    del allocated
    yield "lot_mass_balance", balance
    exceptions = completeness.trace_exceptions(
        resolved, lineage, balance=balance, unresolved=unresolved
    )
    del resolved, balance, unresolved
    yield "trace_exception", exceptions
    scores = completeness.completeness_score(lot_rows, exceptions).with_columns(
        pl.col("checks_failed").list.join(", ")
    )
    del exceptions
    yield "lot_completeness", scores
    del scores
    in_force = status.current_status(events, serials=lineage.serials).filter(
        pl.col("status").is_not_null()
    )
    yield "lot_status", in_force


def stored_lot_keys(conn: Connection, lots: pl.DataFrame | None = None) -> tuple[pl.DataFrame, int]:
    """The stored keys of `lots` (default: of every lot) and the next free key: a rebuild and an
    incremental update keep them, so a key never changes its lot while the lot has records."""
    lot = store.table(models.Lot)
    columns = ["lot_key", *LOT_ID]
    if lots is None:
        known = store.read_frame(conn, models.Lot, columns=columns)
    else:
        known = store.read_in(conn, models.Lot, "lot", lots["lot"].unique(), columns=columns)
        known = known.join(lots.select(LOT_ID), on=LOT_ID, how="semi")
    top = conn.execute(sa.select(sa.func.max(lot.c.lot_key))).scalar()
    return known, (int(top) + 1 if top is not None else 0)


def _lots_and_stock(records: Records, keys: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`lineage.on_hand` and `lineage.lots`, product by product (`mass_balance.product_parts`):
    per-lot sums over each lot's records in their order, so the same rows as built at once,
    without the ledger of every record at once."""
    parts = []
    for part, part_keys in mass_balance.product_parts(records, keys):
        stock = on_hand(part, part_keys)
        parts.append((stock, lots(part, part_keys, stock)))
    if len(parts) == 1:
        return parts[0]
    stock = pl.concat([p[0] for p in parts]).sort("lot_key", "location_id")
    return stock, pl.concat([p[1] for p in parts]).sort("lot_key")


LINE_COLUMNS = ("tz_offset", "ref_doc_type", "ref_doc_number", "sscc", "void")
"""What of a record only its resolved line (`lot_shipment`, `lot_receipt`) shows: the quality
tables do not read it."""


def _without_line_columns(records: Records) -> Records:
    """The production, consumption and shipment records as the quality tables read them: the
    line-only columns and the serials of production and consumption (already in `serial`)
    left out, so a large build does not keep them through its last and largest steps."""
    return replace(
        records,
        production=records.production.drop(*LINE_COLUMNS, "serial", strict=False),
        consumption=records.consumption.drop(*LINE_COLUMNS, "serial", strict=False),
        shipments=records.shipments.drop(*LINE_COLUMNS, strict=False),
    )


AHEAD_ROWS = 5_000_000
"""Up to this many records a first load builds its lineage while it writes them
(`_lineage_ahead`); above, one after the other, so that the two never hold memory at once."""


@dataclass
class _LineageAhead:
    """A first load's lineage, built from its records as they will be stored while the
    records are written (`TableStage.put_apart`)."""

    stage: TableStage
    records: dict[str, pl.DataFrame]
    """Per lineage record type, the rows the build assumed: the table as the load writes it."""

    def built_from(self, written: dict[str, pl.DataFrame]) -> bool:
        """Whether the tables as written are the ones the build assumed (else it is discarded
        and the lineage rebuilt from what was written: never a lineage of other records)."""
        for name in LINEAGE_RECORD_TYPES:
            assumed, stored = self.records.get(name), written.get(name)
            if (assumed is None or assumed.is_empty()) != (stored is None or stored.is_empty()):
                return False
            if assumed is not None and stored is not None and not assumed.equals(stored):
                return False
        return True

    def finish(self, snapshot_id: str) -> dict[str, int]:
        return _lineage_counts(self.stage.finish(snapshot_id))


def _lineage_counts(counts: dict[str, int]) -> dict[str, int]:
    """Rows written per lineage and quality table, in the order a build writes them."""
    return {name: counts[name] for name in (*LINEAGE_TABLES, *QUALITY_TABLES)}


def _lineage_ahead(
    conn: Connection, typed_rows: dict[str, pl.DataFrame], fresh: set[str], load_id: str
) -> _LineageAhead | None:
    """On a first load — no lot and no lineage record stored — the lineage depends only on the
    load's own records (and the master data, written by now): start building it on a thread
    while the records are written, instead of after. The rows it assumes are those
    `_apply_records` inserts into an empty table: every row that is not a void (a void of
    nothing is a finding), as `_as_stored` gives them; `_LineageAhead.built_from` checks."""
    tables = [models.Lot, *(models.RECORD_TABLES[n] for n in LINEAGE_RECORD_TYPES)]
    for model in tables:
        tbl = store.table(model)
        if conn.execute(sa.select(sa.literal(1)).select_from(tbl).limit(1)).first():
            return None
    assumed: dict[str, pl.DataFrame] = {}
    for name in LINEAGE_RECORD_TYPES:
        rows = _of_files(typed_rows.get(name), fresh)
        if rows is not None and not rows.is_empty():
            kept = rows.filter(~pl.col("void")) if "void" in rows.columns else rows
            model = models.RECORD_TABLES[name]
            assumed[name] = _as_stored(model, kept.with_columns(pl.lit(load_id).alias("load_id")))
    if not assumed or sum(f.height for f in assumed.values()) > AHEAD_ROWS:
        return None
    known, next_key = stored_lot_keys(conn)
    records = stored_records(conn, assumed, provenance=False)
    stage = TableStage(conn, snapshot_id="")
    stage.put_apart(full_build(records, known, next_key))
    return _LineageAhead(stage, assumed)


def rebuild_lineage(
    conn: Connection,
    snapshot_id: str,
    written: dict[str, pl.DataFrame] | None = None,
    stage: TableStage | None = None,
) -> dict[str, int]:
    """Every lineage table from every stored record (the lots keep their stored keys), each
    written as soon as it is built and let go (`full_build` into a `TableStage`): a full build
    of 10⁷ edges never holds all its tables at once. `stage`: to see each table's rows and
    seconds (`TableStage.written`)."""
    known, next_key = stored_lot_keys(conn)
    stage = stage or TableStage(conn, snapshot_id)
    records = stored_records(conn, written, provenance=False)
    del written  # the build lets the records go as it can: only a caller's reference keeps them
    tables = full_build(records, known, next_key)
    del records
    try:
        for name, rows in tables:
            stage.put(name, rows)
            del rows
        counts = stage.finish()
    finally:
        stage.close()
    return _lineage_counts(counts)


def rebuild(engine: Engine, load_id: str | None = None) -> dict[str, int]:
    """Recompute every lineage table from the stored records (`lotline rebuild`): what an
    incremental load gives must equal this. Runs under the load lock; the rows carry the newest
    snapshot's id (the records did not change). Returns rows written per table."""
    store.create_schema(engine)
    load_id = load_id or f"rebuild-{uuid.uuid4().hex}"
    with engine.begin() as conn:
        store.lock_loads(conn, load_id)
        snapshot_id = latest_snapshot(conn)
        if snapshot_id is None:
            return {}
        return rebuild_lineage(conn, snapshot_id)


def latest_snapshot(conn: Connection) -> str | None:
    snapshot = store.table(models.Snapshot)
    return conn.execute(
        sa.select(snapshot.c.snapshot_id)
        .order_by(snapshot.c.created_at.desc(), snapshot.c.snapshot_id.desc())
        .limit(1)
    ).scalar()


# --- all stages ---------------------------------------------------------------------------------


def load_folder(
    engine: Engine,
    drop_dir: Path,
    load_id: str | None = None,
    *,
    mapping: Mapping | None = None,
    strict: bool = False,
    max_reject_share: float = DEFAULT_MAX_REJECT_SHARE,
    settle_seconds: float = 0.0,
    progress: Callable[[str], None] | None = None,
) -> LoadReport:
    """Load a drop folder without Dagster (the pipeline runs the same stages as assets).

    `progress`, if given, is told each stage as it starts (e.g. "validating receipts"), so a
    long load can show where it is."""
    stage = progress or (lambda _: None)
    store.create_schema(engine)
    found = scan(drop_dir, mapping=mapping, settle_seconds=settle_seconds)
    load_id = load_id or uuid.uuid4().hex
    raws: dict[str, RawBatch] = {}
    validations: dict[str, Validation] = {}
    typed_rows: dict[str, pl.DataFrame] = {}
    stage(f"reading {len(found.files)} files")
    for name in RECORD_TYPES:
        raws[name] = read_raw(engine, found.files, name)
    for name in RECORD_TYPES:
        stage(f"validating {name}")
        # no GX report is shown here: a warning over a Polars flag needs no GX run (its verdict)
        validations[name], typed_rows[name] = validate_batch(
            engine, raws[name], typed_rows, strict=strict, confirm_flag_warnings=False
        )
    stage("storing records and building lineage")
    report = commit(engine, raws, validations, typed_rows, load_id, max_reject_share)
    return replace(report, skipped=[(s.name, s.reason) for s in found.skipped])

"""The `lotline` command.

Heavy libraries (Dagster, Great Expectations, WeasyPrint) are imported inside the commands that
need them, so `lotline trace` starts fast. Every expected failure ends in one clear line on
stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime
from pathlib import Path

EXIT_INPUT = 2
DEMO_DIR = "lotline-demo"


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_INPUT
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the last line of defence: one line, no traceback
        from lotline.intake.reading import InputError
        from lotline.trace import UnknownSubject

        if isinstance(exc, InputError | UnknownSubject | ValueError):
            print(f"lotline: {exc}", file=sys.stderr)
            return EXIT_INPUT
        import sqlalchemy.exc

        if isinstance(exc, sqlalchemy.exc.OperationalError):
            print(f"lotline: cannot use the database: {exc.orig}", file=sys.stderr)
            return EXIT_INPUT
        raise


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lotline", description="Lot and serial traceability: lineage, traces, reports."
    )
    sub = parser.add_subparsers(dest="command")

    def command(name: str, handler, help_text: str) -> argparse.ArgumentParser:  # type: ignore[no-untyped-def]
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        if name not in ("generate",):
            p.add_argument(
                "--database-url",
                help="SQLAlchemy URL (default: $LOTLINE_DATABASE_URL or sqlite:///lotline.sqlite)",
            )
        return p

    p = command(
        "ingest", _ingest, "Load a drop folder of CSV/XLSX/Parquet files into the database."
    )
    p.add_argument("drop_dir", type=Path)
    p.add_argument(
        "--mapping",
        help="mapping file (TOML) for exports that are not in the contract format, or a "
        "bundled profile: odoo, erpnext",
    )
    p.add_argument(
        "--strict", action="store_true", help="quarantine rows with warnings too (not only errors)"
    )
    p.add_argument(
        "--max-reject-share",
        type=float,
        default=0.05,
        help="exit 3 when one rule quarantines more than this share of a file (default 0.05)",
    )

    p = command("trace", _trace, "Trace a lot, a serial or a pallet (SSCC) backward/forward.")
    p.add_argument("--gtin", help="GTIN of the lot or serial (not with --sscc)")
    subject = p.add_mutually_exclusive_group(required=True)
    subject.add_argument("--lot")
    subject.add_argument("--serial")
    subject.add_argument("--sscc", help="a pallet or case: traces everything packed in it")
    p.add_argument(
        "--at",
        type=_instant,
        help="with --sscc: contents at this ISO 8601 time (default: when it last shipped)",
    )
    p.add_argument("--direction", choices=["backward", "forward", "both"], default="both")
    p.add_argument(
        "--min-exposure",
        type=float,
        default=0.0,
        help="recall scope: leave out downstream lots holding less than this share (0-1)",
    )
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")

    p = command("report", _report, "Render a regulator-ready PDF report.")
    p.add_argument("kind", choices=["recall", "expiry"])
    p.add_argument("--gtin")
    p.add_argument("--lot")
    p.add_argument("--direction", choices=["backward", "forward", "both"], default="both")
    p.add_argument("--as-of", type=date.fromisoformat, help="expiry report date (default today)")
    p.add_argument(
        "--within-days",
        type=int,
        default=180,  # lotline.expiry.DEFAULT_WINDOW_DAYS: every bucket up to 91-180 d
        help="expiry report window in days (default 180)",
    )
    p.add_argument("--request-ref", default="", help="recall: FDA request id / recall number")
    p.add_argument("--requester", default="", help="recall: who asked (agency, customer)")
    p.add_argument(
        "--received-at",
        default="",
        help="recall: ISO 8601 time with offset the request arrived (answer due 24 h later)",
    )
    p.add_argument("--prepared-by", default="", help="recall: printed name of the preparer")
    p.add_argument("--out", type=Path, default=Path("reports-out"), help="folder for the PDF")

    p = command("mock-recall", _mock_recall, "Run a mock recall drill and render its evidence PDF.")
    p.add_argument("--gtin", required=True)
    p.add_argument("--lot", required=True)
    p.add_argument("--direction", choices=["backward", "forward", "both"], default="both")
    p.add_argument("--by", help="who runs the drill (default: the login name)")
    p.add_argument("--out", type=Path, default=Path("reports-out"), help="folder for the PDF")

    p = command("export", _export, "Export the FSMA 204 sortable spreadsheet (XLSX + CSV).")
    p.add_argument("kind", choices=["fsma204"])
    p.add_argument("--gtin", help="with --lot: the rows of the lot's trace")
    p.add_argument("--lot", action="append", help="a lot of --gtin; repeat for a lot list")
    p.add_argument("--direction", choices=["backward", "forward", "both"], default="both")
    p.add_argument("--from", dest="start", type=date.fromisoformat, metavar="YYYY-MM-DD")
    p.add_argument("--to", dest="end", type=date.fromisoformat, metavar="YYYY-MM-DD")
    p.add_argument("--out", type=Path, default=Path("reports-out"), help="folder for the files")

    p = command("generate", _generate, "Write deterministic sample data in the contract format.")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument(
        "--vocabulary",
        choices=["contract", "erp"],
        default="contract",
        help="erp: the same records with vocabulary columns spelled as an ERP export would",
    )

    p = command("demo", _demo, "Generate sample data, load it into SQLite and render the PDFs.")
    p.add_argument("--dir", type=Path, default=Path(DEMO_DIR))
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--scale", type=float, default=1.0)

    p = command("verify", _verify, "Check a lotline PDF against its provenance and the database.")
    p.add_argument("pdf", type=Path)

    mapping_help = "Mapping files for exports that are not in the contract format."
    p = sub.add_parser("mapping", help=mapping_help, description=mapping_help)
    actions = p.add_subparsers(dest="action", required=True)
    suggest_help = "Draft a mapping for the exports in a folder; review the lines marked GUESS."
    p = actions.add_parser("suggest", help=suggest_help, description=suggest_help)
    p.set_defaults(handler=_mapping_suggest)
    p.add_argument("drop_dir", type=Path)
    p.add_argument("--out", type=Path, help="write the draft to this .toml file (default: stdout)")
    return parser


def _verify(args: argparse.Namespace) -> int:
    """0 unchanged, 1 tampered or data changed since, 2 cannot verify."""
    from reports.verify import verify

    verdict = verify(args.pdf, args.database_url)
    print("\n".join(verdict.lines()))
    return verdict.code


def _mapping_suggest(args: argparse.Namespace) -> int:
    from lotline.intake.suggest import suggest

    draft = suggest(args.drop_dir)
    if args.out is None:
        sys.stdout.write(draft)
        return 0
    if args.out.exists():
        raise ValueError(f"{args.out} exists; choose another name (a draft never overwrites)")
    args.out.write_text(draft, encoding="utf-8")
    print(f"draft mapping written to {args.out}: review the lines marked GUESS", file=sys.stderr)
    return 0


# --- ingest -------------------------------------------------------------------------------------


EXIT_SUSPECT = 3
"""`lotline ingest`: the load committed, but a rule quarantined more than `--max-reject-share`
of a file, so the file or its mapping is probably wrong."""


def _ingest(args: argparse.Namespace) -> int:
    from lotline.intake.mapping import load_mapping
    from lotline.intake.reading import printable, scan

    mapping = load_mapping(args.mapping) if args.mapping else None
    # a missing folder, an unknown file or a bad mapping fails before Dagster starts
    found = scan(args.drop_dir, mapping=mapping)
    for skipped in found.skipped:
        print(f"skipped {printable(skipped.name)}: {skipped.reason}")
    from pipelines.run import run_pipeline

    outcome = run_pipeline(
        database_url=args.database_url,
        drop_dir=args.drop_dir,
        log_level="CRITICAL",
        intake={
            "mapping": args.mapping or "",
            "strict": args.strict,
            "max_reject_share": args.max_reject_share,
        },
    )
    if not outcome.success:
        print(f"lotline: load failed, nothing was written: {outcome.error}", file=sys.stderr)
        return EXIT_INPUT
    _print_load(outcome.files, outcome.findings, outcome.snapshot_id, args.database_url)
    if outcome.suspect_files:
        for s in outcome.suspect_files:
            print(
                f"lotline: {printable(s['name'])}: rule {s['rule']} on column {s['column']} "
                f"quarantined {s['rows']} rows ({s['share']:.0%} of the file, more than "
                f"{args.max_reject_share:.0%}): the file or its mapping is probably wrong. "
                "The valid rows were loaded; see rejected_record.",
                file=sys.stderr,
            )
        return EXIT_SUSPECT
    return 0


def _print_load(
    files: list[dict], summary: list[dict], snapshot_id: str | None, database_url: str | None
) -> None:
    from lotline import store
    from lotline.intake.reading import printable

    header = (
        f"{'file':<32} {'type':<12} {'read':>8} {'loaded':>8} {'corrected':>9} {'voided':>6} "
        f"{'unchanged':>9} {'rejected':>8} {'warned':>6}"
    )
    print(header)
    print("-" * len(header))
    for f in files:
        note = "  (same content loaded before)" if f["already_loaded"] else ""
        print(
            f"{printable(f['name']):<32} {f['record_type']:<12} {f['rows_read']:>8} "
            f"{f['rows_loaded']:>8} {f.get('rows_corrected', 0):>9} {f.get('rows_voided', 0):>6} "
            f"{f['rows_unchanged']:>9} {f['rows_rejected']:>8} {f.get('rows_warned', 0):>6}{note}"
        )
    unused = [(f["name"], f.get("unused_columns") or ()) for f in files]
    for name, columns in unused:
        if columns:
            print(f"{printable(name)}: columns not used: {', '.join(map(printable, columns))}")
    if summary:
        print("\nfindings (errors are in table rejected_record, warnings in record_finding):")
        for line in summary:
            values = ", ".join(repr(v) for v in line["top_values"])
            print(
                f"  {printable(line['source_file'])}: {line['severity']} {line['rule']} "
                f"[{line['column']}]: {line['rows']} rows; most frequent: {values}"
            )
    print()
    rejected = sum(f["rows_rejected"] for f in files)
    if snapshot_id:
        print(f"snapshot: {snapshot_id}")
    elif rejected:
        print(f"no new records; {rejected} rejected rows stored in rejected_record")
    else:
        print("nothing new: the database is unchanged")
    print(f"database: {store.database_url(database_url)}")


# --- trace --------------------------------------------------------------------------------------


def _instant(text: str):  # type: ignore[no-untyped-def]
    """An ISO 8601 time with its offset (UTC when none is given)."""
    from datetime import UTC, datetime

    value = datetime.fromisoformat(text)
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _trace(args: argparse.Namespace) -> int:
    from lotline import api

    if (args.sscc is None) == (args.gtin is None):
        raise ValueError("trace needs --gtin with --lot or --serial, or --sscc alone")
    engine = api.connect(args.database_url)
    if args.sscc is not None:
        result = api.trace_sscc(engine, args.sscc, args.at, args.direction)
    elif args.lot is not None:
        result = api.trace_lot(
            engine, args.gtin, args.lot, args.direction, min_exposure=args.min_exposure
        )
    else:
        result = api.trace_serial(engine, args.gtin, args.serial, args.direction)
    if args.format == "json":
        print(json.dumps(result.as_dict(), indent=2, default=str))
    elif args.format == "csv":
        sys.stdout.write(_trace_csv(result))
    else:
        _print_trace(result)
    return 0


def _trace_csv(result) -> str:  # type: ignore[no-untyped-def]
    import polars as pl

    def part(section: str, frame: pl.DataFrame, **columns: pl.Expr) -> pl.DataFrame:
        base = {
            "section": pl.lit(section),
            "gtin": pl.col("gtin"),
            "lot": pl.col("lot"),
            "serial": pl.lit(None, pl.String),
            "depth": pl.lit(None, pl.Int64),
            "direction": pl.lit(None, pl.String),
            "document_id": pl.lit(None, pl.String),
            "from_location_id": pl.lit(None, pl.String),
            "to_location_id": pl.lit(None, pl.String),
            "date": pl.lit(None, pl.String),
            "quantity": pl.lit(None, pl.Float64),
            "uom": pl.lit(None, pl.String),
        }
        base.update(columns)
        return frame.select(**{k: v for k, v in base.items()}).cast(
            {"depth": pl.Int64, "quantity": pl.Float64, "date": pl.String}
        )

    frames = [
        part(
            "lot",
            result.lots,
            depth=pl.col("depth"),
            direction=pl.col("direction"),
            quantity=pl.col("quantity_on_hand"),
            uom=pl.col("uom"),
        ),
        part(
            "receipt",
            result.receipts,
            serial=pl.col("serial"),
            document_id=pl.col("receipt_id"),
            from_location_id=pl.col("from_location_id"),
            to_location_id=pl.col("to_location_id"),
            date=pl.col("received_at").dt.to_string(),
            quantity=pl.col("quantity"),
            uom=pl.col("uom"),
        ),
        part(
            "shipment",
            result.shipments,
            serial=pl.col("serial"),
            document_id=pl.col("shipment_id"),
            from_location_id=pl.col("from_location_id"),
            to_location_id=pl.col("to_location_id"),
            date=pl.col("shipped_at").dt.to_string(),
            quantity=pl.col("quantity"),
            uom=pl.col("uom"),
        ),
    ]
    return pl.concat(frames).write_csv()


def _print_trace(result) -> None:  # type: ignore[no-untyped-def]
    import polars as pl

    subject = result.subject
    if subject.get("sscc"):
        name = f"SSCC {subject['sscc']} as packed at {subject['at']}"
    elif subject["serial"]:
        name = f"GTIN {subject['gtin']} serial {subject['serial']} (lot {subject['lot']})"
    else:
        name = f"GTIN {subject['gtin']} lot {subject['lot']}"
    print(f"Trace of {name}, {result.direction}; snapshot {result.snapshot_id}")
    with pl.Config(
        tbl_rows=200,
        tbl_cols=12,
        fmt_str_lengths=40,
        tbl_hide_dataframe_shape=True,
        tbl_hide_column_data_types=True,
    ):
        print(f"\nLots ({result.lots.height})")
        print(
            result.lots.select(
                "direction",
                "depth",
                "exposure",
                "gtin",
                "lot",
                "product_name",
                "expiry_date",
                "quantity_on_hand",
                "status",
            )
        )
        if not result.receipts.is_empty():
            print(f"\nSupplier receipts ({result.receipts.height})")
            print(
                result.receipts.select(
                    "receipt_id",
                    "received_at",
                    "from_location_id",
                    "gtin",
                    "lot",
                    "quantity",
                    "uom",
                )
            )
        if not result.shipments.is_empty():
            print(f"\nShipments ({result.shipments.height})")
            print(
                result.shipments.select(
                    "shipment_id",
                    "shipped_at",
                    "to_location_id",
                    "gtin",
                    "lot",
                    "serial",
                    "quantity",
                    "uom",
                )
            )
            print(f"\nConsignees ({result.consignees.height})")
            print(
                result.consignees.select(
                    "to_location_id",
                    "business_name",
                    "city",
                    "country",
                    "shipments",
                    "quantity",
                    "uom",
                )
            )
    for note in result.notes:
        print(f"\nnote: {note}")


# --- reports ------------------------------------------------------------------------------------


def _report(args: argparse.Namespace) -> int:
    from pipelines.run import run_pipeline

    if args.kind == "recall":
        if not (args.gtin and args.lot):
            raise ValueError("report recall needs --gtin and --lot")
        from lotline import api, trace
        from reports.recall import RecallRequest

        RecallRequest.parse(args.request_ref, args.requester, args.received_at)  # fail early
        trace.find_lot(
            api.load_lineage(api.connect(args.database_url)), args.gtin.strip().zfill(14), args.lot
        )
        outcome = run_pipeline(
            database_url=args.database_url,
            report_dir=args.out,
            load=False,
            recall={
                "lots": [f"{args.gtin.strip().zfill(14)}/{args.lot}"],
                "direction": args.direction,
                "request_reference": args.request_ref,
                "requester": args.requester,
                "received_at": args.received_at,
                "prepared_by": args.prepared_by,
            },
            log_level="CRITICAL",
        )
    else:
        outcome = run_pipeline(
            database_url=args.database_url,
            report_dir=args.out,
            load=False,
            expiry={
                "as_of": args.as_of.isoformat() if args.as_of else "",
                "within_days": args.within_days,
            },
            log_level="CRITICAL",
        )
    if not outcome.success:
        print(f"lotline: report failed: {outcome.error}", file=sys.stderr)
        return 1
    for path in outcome.reports:
        print(path)
    return 0


def _mock_recall(args: argparse.Namespace) -> int:
    """Store the drill first, then render: a failed rendering still leaves the drill on record."""
    from lotline import api, mock_recall
    from reports.mock_recall import render_mock_recall_report

    engine = api.connect(args.database_url)
    drill = mock_recall.run_drill(engine, args.gtin, args.lot, args.direction, args.by)
    path = render_mock_recall_report(engine, drill, args.out)
    r = drill.record
    percent = "—" if r["percent_accounted"] is None else f"{r['percent_accounted']:.1f} %"
    print(
        f"drill {r['drill_id']}: {r['lots_reached']} lots, {r['shipments']} shipments, "
        f"{r['consignees']} consignees, {percent} accounted, "
        f"answered in {r['seconds_to_answer']:.3f} s"
    )
    print(path)
    return 0


def _export(args: argparse.Namespace) -> int:
    """FSMA 204 spreadsheet for a lot's trace or for a date range (1.1455(c)(3): "date ranges or
    traceability lot codes"), read straight from the lineage tables: no pipeline run."""
    from lotline import api, fsma204
    from reports.fsma204 import write_fsma204

    by_lot, by_period = bool(args.gtin or args.lot), bool(args.start or args.end)
    if by_lot == by_period or (by_lot and not (args.gtin and args.lot)):
        raise ValueError("export fsma204 needs --gtin and --lot, or --from and --to")
    if by_period and not (args.start and args.end):
        raise ValueError("export fsma204 needs both --from and --to")
    engine = api.connect(args.database_url)
    if by_lot:
        results = [api.trace_lot(engine, args.gtin, lot, args.direction) for lot in args.lot]
        frames = fsma204.for_traces(results, engine)
        lots = args.lot[0] if len(args.lot) == 1 else f"{len(args.lot)}-lots"
        name = f"fsma204_{results[0].subject['gtin']}_{lots}_{args.direction}"
    else:
        frames = fsma204.for_period(engine, args.start, args.end)
        name = f"fsma204_{args.start.isoformat()}_{args.end.isoformat()}"
    written = write_fsma204(frames, args.out, name)
    print(written["xlsx"])
    for path in written["csv"]:
        print(path)
    return 0


# --- sample data and demo -----------------------------------------------------------------------


def _generate(args: argparse.Namespace) -> int:
    from lotline.generate import generate

    paths = generate(args.out, seed=args.seed, scale=args.scale, vocabulary=args.vocabulary)
    for record_type, path in paths.items():
        print(f"{record_type:<12} {path}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from lotline import api, mock_recall, store
    from lotline.generate import DEFAULT_ANCHOR, generate
    from pipelines.run import run_pipeline
    from reports.mock_recall import render_mock_recall_report

    folder: Path = args.dir
    drop, out = folder / "drop", folder / "reports"
    database_url = args.database_url or store.sqlite_url(folder / "lotline.sqlite")
    generate(drop, seed=args.seed, scale=args.scale)
    print(f"sample data: {drop}")
    loaded = run_pipeline(database_url=database_url, drop_dir=drop, log_level="CRITICAL")
    if not loaded.success:
        print(f"lotline: demo load failed: {loaded.error}", file=sys.stderr)
        return 1
    _print_load(loaded.files, loaded.findings, loaded.snapshot_id, database_url)
    gtin, lot = demo_recall_lot(api.connect(database_url))
    outcome = run_pipeline(
        database_url=database_url,
        report_dir=out,
        load=False,
        expiry={"as_of": DEFAULT_ANCHOR.isoformat(), "within_days": 180},
        recall={
            "lots": [f"{gtin}/{lot}"],
            "direction": "both",
            "request_reference": "SAMPLE-FDA-0001",
            "requester": "FDA CORE (sample request)",
            "received_at": datetime.now().astimezone().replace(microsecond=0).isoformat(),
        },
        log_level="CRITICAL",
    )
    if not outcome.success:
        print(f"lotline: demo reports failed: {outcome.error}", file=sys.stderr)
        return 1
    engine = api.connect(database_url)
    drill = mock_recall.run_drill(engine, gtin, lot, "both", run_by="lotline demo")
    evidence = render_mock_recall_report(engine, drill, out)
    print(f"\nrecall scenario: supplier lot {lot} of GTIN {gtin}")
    print("PDF reports (recall, expiry, mock recall evidence):")
    for path in [*outcome.reports, str(evidence)]:
        print(f"  {path}")
    print(
        f"\ntry: lotline trace --database-url {database_url} --gtin {gtin} --lot {lot} "
        "--direction forward"
    )
    return 0


def demo_recall_lot(engine) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """The received lot whose forward trace reaches the most consignees: a telling recall."""
    import polars as pl

    from lotline import api, trace

    lineage = api.load_lineage(engine)
    received = lineage.lots.filter(pl.col("origin") == "received").sort("lot_key")
    best, best_reach = None, -1
    for key, gtin, lot in received.select("lot_key", "gtin", "lot").iter_rows():
        forward = trace.reachable(lineage.edges, [key], "forward")["lot_key"]
        reach = lineage.shipments.filter(pl.col("lot_key").is_in(forward.implode()))[
            "to_location_id"
        ].n_unique()
        if reach > best_reach:
            best, best_reach = (gtin, lot), reach
    if best is None:
        raise ValueError("the sample data holds no received lot to recall")
    return best


if __name__ == "__main__":
    sys.exit(main())

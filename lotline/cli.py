"""The `lotline` command: a Unix tool over `lotline.api`, the pipeline and the reports.

Heavy libraries (Dagster, Great Expectations, WeasyPrint, rich) are imported inside the commands
that need them, so `lotline trace` starts fast. Every expected failure ends in one clear line on
stderr and a non-zero exit status, never a traceback: 2 for bad input (argparse errors name the
option and the bad part, `lotline.cli_args`), 141 when stdout is closed early (`| head`). Only
data goes to stdout; progress and notes go to stderr (`lotline.console`).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from lotline import cli_args as arg

if TYPE_CHECKING:
    from lotline.console import Kind

EXIT_INPUT = 2
EXIT_PIPE = 141
"""stdout closed by its reader (`lotline trace … | head -1`): 128 + SIGPIPE, as a shell says."""
DEMO_DIR = "lotline-demo"
DIRECTIONS = ["backward", "forward", "both"]
EPCIS_FORMATS = {"jsonld": ".jsonld", "xml": ".xml"}  # lotline.gs1.epcis_export.FORMATS
TRACE_EXAMPLES = """examples, on the sample data of `lotline generate` after `lotline ingest`:
  lotline trace --gtin 08719327203019 --serial 4175433022
  lotline trace --sscc 187193271529924970 --at 2026-09-01T07:00:00+02:00
  lotline trace --gtin 04012345001044 --lot NS260309-01 --format csv > trace.csv
"""


COMMAND_MODULES: tuple[str, ...] = (
    "lotline.audit.cli",
    "lotline.portal.cli",
    "lotline.signing.cli",
    "lotline.schema_cli",
)
"""Modules that add commands of their own: each has `register(sub, command, database)`, called
with the subparsers and the `command`/`database` helpers of `_parser`."""


def main(argv: list[str] | None = None) -> int:
    try:
        code = _run(arg.attach_dash_values(sys.argv[1:] if argv is None else argv))
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        return code
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_PIPE


BUILDING_COMMANDS = frozenset({"ingest", "rebuild", "demo"})
"""Commands that may build the whole lineage (a first load, a rebuild): the largest frames
lotline holds at once."""

RELEASE_FREED_MEMORY = "dirty_decay_ms:0,muzzy_decay_ms:0"
"""Polars configures its allocator (jemalloc) to keep freed pages for 0.5–1 s, so a build that
frees one table's frames and builds the next within that time peaks at both; handing them back
at once lowers the 10M-edge build's peak (bench/RESULTS.md "Memory at 10M edges")."""


def release_freed_memory() -> None:
    """Make Polars' allocator return freed memory at once, unless the operator configured it
    (`_RJEM_MALLOC_CONF`, which Polars appends to its own). Effective only before Polars is first
    imported in this process."""
    if "polars" not in sys.modules:
        os.environ.setdefault("_RJEM_MALLOC_CONF", RELEASE_FREED_MEMORY)


def _run(argv: list[str]) -> int:
    if argv and argv[0] in BUILDING_COMMANDS:
        release_freed_memory()
    parser = _parser(argv[0] if argv else None)
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, --version, a bad option: argparse has said why
        return EXIT_INPUT if isinstance(stop.code, str) else int(stop.code or 0)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return EXIT_INPUT
    try:
        if getattr(args, "existing_database", False):
            args.database_url = existing_database(args.database_url)
        if getattr(args, "scan", None) is not None:
            subject_from_scan(args)
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


def _discard_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's last flush cannot fail again (Python docs,
    "Note on SIGPIPE")."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a file (e.g. under a test)
        pass


# --- the database -------------------------------------------------------------------------------


def existing_database(explicit: str | None) -> str:
    """The configured database URL, refusing an SQLite file that does not exist.

    Opening a missing path would create an empty database and answer "no lot": a typo in the
    path must say so instead. Only `ingest` and `demo` create a database. A plain
    `sqlite:///path` is checked without importing SQLAlchemy (`lotline trace` starts fast)."""
    from lotline.database_url import database_url, sqlite_file

    text = database_url(explicit)
    path = sqlite_file(text)
    if path is None:
        import sqlalchemy as sa

        try:
            url = sa.make_url(text)
        except sa.exc.ArgumentError:
            raise ValueError(f"not a database URL: {text!r}") from None
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return text
        database = url.database
        if database.startswith("file:"):  # sqlite:///file:path?mode=ro&uri=true
            database = database.removeprefix("file:").split("?", 1)[0]
        path = Path(database)
    if not path.exists():
        raise ValueError(
            f"no database at {path.resolve()} ({shown_url(text)}): load data first with "
            "`lotline ingest DROP_DIR` or `lotline demo`, or give --database-url"
        )
    return text


def shown_url(url: str) -> str:
    """A database URL as printed: the password masked."""
    import sqlalchemy as sa

    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<not a database URL>"


# --- scans in -----------------------------------------------------------------------------------

LOT_LISTS = frozenset({"export"})
"""Commands whose --lot is a list (repeatable): a scan gives one lot of it."""


def subject_from_scan(args: argparse.Namespace) -> None:
    """`--scan` in place of --gtin/--lot/--serial/--sscc: what it names fills those options, so
    every command reads its subject one way. A command without --serial (reports, exports) takes
    a serial's lot from the lineage tables: an EPC SGTIN URI or a DSCSA scan may name no lot."""
    key = args.scan
    given = [f"--{name}" for name in ("gtin", "lot", "serial", "sscc") if getattr(args, name, None)]
    if given:
        raise ValueError(f"--scan names the subject already: leave out {' and '.join(given)}")
    command = " ".join(str(word) for word in (args.command, getattr(args, "kind", None)) if word)
    if key.sscc:
        if not hasattr(args, "sscc"):
            raise ValueError(
                f"--scan names SSCC {key.sscc} (a pallet or case) but {command} needs a lot; "
                "`lotline trace --scan` traces a pallet"
            )
        args.sscc = key.sscc
        return
    args.gtin = key.gtin
    if key.serial and hasattr(args, "serial"):
        args.serial = key.serial
        return
    lot = key.lot
    if lot is None:
        from lotline import api

        lot = api.serial_lot(api.connect(args.database_url), key.gtin, key.serial)
        print(f"note: serial {key.serial} of GTIN {key.gtin} is in lot {lot}", file=sys.stderr)
    args.lot = [lot] if args.command in LOT_LISTS else lot


# --- the parser ---------------------------------------------------------------------------------


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Each option's default after its help (unless there is none); examples kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if (
            not action.option_strings
            or "%(default)" in text
            or action.default is None
            or action.default is False
            or action.default in ("", argparse.SUPPRESS)
        ):
            return text
        return f"{text} (default: %(default)s)"


class _Version(argparse.Action):
    def __call__(self, parser, namespace, values, option_string=None):  # type: ignore[no-untyped-def]
        print(version_text())
        parser.exit()


def version_text() -> str:
    """`lotline 0.1.0 (git 8dee5e5c1a2b)`: the package version and the checkout it runs from."""
    from lotline.provenance import code_version

    version = code_version()
    text = f"lotline {version['version']}"
    if version["git_commit"]:
        modified = ", modified" if version["dirty"] else ""
        text += f" (git {str(version['git_commit'])[:12]}{modified})"
    return text


def _parser(wanted: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser. With `wanted` a command defined here, the `COMMAND_MODULES` are
    not imported: the portal's imports the models, a good part of `lotline trace`'s start."""
    parser = argparse.ArgumentParser(
        prog="lotline",
        description="Lot and serial traceability: lineage, traces, reports.",
        epilog="Each command has its own help: lotline COMMAND --help",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument(
        "--version", action=_Version, nargs=0, help="print the version and git revision, exit"
    )
    sub = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND")

    def command(name, handler, summary, epilog=None):  # type: ignore[no-untyped-def]
        p = sub.add_parser(
            name, help=summary, description=summary, epilog=epilog, formatter_class=_HelpFormatter
        )
        p.set_defaults(handler=handler)
        return p

    def database(p: argparse.ArgumentParser, existing: bool = True) -> None:
        p.set_defaults(existing_database=existing)
        p.add_argument_group("database").add_argument(
            "--database-url",
            metavar="URL",
            help="SQLAlchemy URL, e.g. postgresql://user@host/db (default: $LOTLINE_DATABASE_URL "
            "or sqlite:///lotline.sqlite in this folder)" + ("; must exist" if existing else ""),
        )

    def subject(p: argparse.ArgumentParser, required: bool = False, scan: bool = False):  # type: ignore[no-untyped-def]
        group = p.add_argument_group("subject")
        group.add_argument(
            "--gtin", type=arg.gtin, required=required, help="GTIN-8/12/13/14 of the product"
        )
        if scan:
            scan_option(group, "the lot", "instead of --gtin and --lot")
        return group

    def scan_option(group, what: str, instead: str) -> None:  # type: ignore[no-untyped-def]
        group.add_argument(
            "--scan",
            type=arg.scan,
            metavar="TEXT",
            help=f"{what} as a scanner reads it or as printed: GS1 element string, Digital Link "
            f"or EPC URI, {instead}; e.g. '(01)04012345001044(10)NS260309-01'",
        )

    def direction(group) -> None:  # type: ignore[no-untyped-def]
        group.add_argument(
            "--direction",
            choices=DIRECTIONS,
            default="both",
            help="backward to the suppliers, forward to the consignees, or both",
        )

    def out(p: argparse.ArgumentParser, what: str) -> None:
        p.add_argument_group("output").add_argument(
            "--out",
            type=Path,
            default=Path("reports-out"),
            metavar="DIR",
            help=f"folder for {what}",
        )

    p = command(
        "ingest", _ingest, "Load a drop folder of CSV/XLSX/Parquet files into the database."
    )
    p.add_argument("drop_dir", type=Path, metavar="DROP_DIR", help="folder of files to load")
    reading = p.add_argument_group("reading")
    reading.add_argument(
        "--mapping",
        metavar="TOML",
        help="mapping file for exports that are not in the contract format, or a bundled "
        "profile: odoo, erpnext",
    )
    reading.add_argument(
        "--strict", action="store_true", help="quarantine rows with warnings too, not only errors"
    )
    reading.add_argument(
        "--max-reject-share",
        type=arg.share,
        default=0.05,
        metavar="SHARE",
        help="exit 3 when one rule quarantines more than this share of a file (0-1)",
    )
    database(p, existing=False)

    p = command(
        "rebuild",
        _rebuild,
        "Recompute every lineage table from the stored records (loads update them incrementally).",
        epilog="Safe while other loads run: it waits for the load lock. Lots keep their keys.",
    )
    database(p)

    p = command(
        "trace",
        _trace,
        "Trace a lot, a serial or a pallet (SSCC) backward/forward.",
        epilog=TRACE_EXAMPLES,
    )
    what = subject(p)
    which = what.add_mutually_exclusive_group(required=True)
    which.add_argument("--lot", type=arg.code, help="lot (batch) code, as printed")
    which.add_argument("--serial", type=arg.code, help="serial number of one item")
    which.add_argument(
        "--sscc", type=arg.sscc, help="18-digit SSCC of a pallet or case (without --gtin)"
    )
    scan_option(which, "a lot, serial or SSCC", "without --gtin")
    what.add_argument(
        "--at",
        type=arg.instant,
        metavar="TIME",
        help="with --sscc: what it held at this ISO 8601 time with UTC offset "
        "(default: when it last shipped)",
    )
    scope = p.add_argument_group("scope")
    direction(scope)
    scope.add_argument(
        "--min-exposure",
        type=arg.share,
        default=0.0,
        metavar="SHARE",
        help="recall scope: leave out downstream lots holding less than this share (0-1) of "
        "the subject's material",
    )
    output = p.add_argument_group("output")
    output.add_argument(
        "--format",
        choices=["table", "json", "csv"],
        default="table",
        help="table for people, json or csv for programs; csv cells are spreadsheet-safe",
    )
    output.add_argument(
        "--limit",
        type=arg.positive_int,
        metavar="N",
        help="list at most N rows of each table (lots, shipments, …); totals are still shown "
        f"(default: all, or {TABLE_ROWS} with --format table)",
    )
    output.add_argument(
        "--offset",
        type=int,
        default=0,
        metavar="N",
        help="skip the first N rows of each table (with --limit: the next page)",
    )
    database(p)

    p = command("report", _report, "Render a regulator-ready PDF report.")
    p.add_argument("kind", choices=["recall", "expiry"], help="which report")
    recall = subject(p, scan=True)
    recall.title = "recall"
    recall.add_argument("--lot", type=arg.code, help="lot (batch) code")
    direction(recall)
    request = p.add_argument_group("recall request")
    request.add_argument(
        "--request-ref", default="", metavar="REF", help="FDA request id or recall number"
    )
    request.add_argument(
        "--requester", default="", metavar="NAME", help="who asked (agency, customer)"
    )
    request.add_argument(
        "--received-at",
        type=arg.instant_text,
        default="",
        metavar="TIME",
        help="ISO 8601 time with UTC offset the request arrived (the answer is due 24 h later)",
    )
    request.add_argument(
        "--prepared-by", default="", metavar="NAME", help="printed name of the preparer"
    )
    expiry = p.add_argument_group("expiry")
    expiry.add_argument(
        "--as-of", type=arg.calendar_date, metavar="YYYY-MM-DD", help="report date (default: today)"
    )
    expiry.add_argument(
        "--within-days",
        type=arg.positive_int,
        default=180,  # lotline.expiry.DEFAULT_WINDOW_DAYS: every bucket up to 91-180 d
        metavar="DAYS",
        help="window: stock expiring within this many days",
    )
    out(p, "the PDF")
    database(p)

    p = command("mock-recall", _mock_recall, "Run a mock recall drill and render its evidence PDF.")
    drill = subject(p, scan=True)
    drill.add_argument("--lot", type=arg.code, help="lot (batch) code")
    direction(drill)
    p.add_argument_group("drill").add_argument(
        "--by", metavar="NAME", help="who runs the drill (default: the login name)"
    )
    out(p, "the PDF")
    database(p)

    p = command(
        "export",
        _export,
        "Export the FSMA 204 sortable spreadsheet (XLSX + CSV) or the EPCIS 2.0 events.",
    )
    p.add_argument(
        "kind",
        choices=["fsma204", "epcis"],
        help="fsma204: XLSX + CSV; epcis: one EPCISDocument, eventIDs = CBV 2.0 event hashes",
    )
    lots = subject(p, scan=True)
    lots.title = "a lot's trace"
    lots.add_argument(
        "--lot", type=arg.code, action="append", help="a lot of --gtin; repeat for a lot list"
    )
    direction(lots)
    period = p.add_argument_group("or a period")
    period.add_argument(
        "--from", dest="start", type=arg.calendar_date, metavar="YYYY-MM-DD", help="first day"
    )
    period.add_argument(
        "--to", dest="end", type=arg.calendar_date, metavar="YYYY-MM-DD", help="last day"
    )
    out(p, "the files (epcis: a folder, or the file to write)")
    p.add_argument_group("epcis").add_argument(
        "--format",
        choices=list(EPCIS_FORMATS),
        default="jsonld",
        help="epcis: JSON-LD or the XML binding",
    )
    database(p)

    p = command("generate", _generate, "Write deterministic sample data (contract CSV or EPCIS).")
    p.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="folder for the sample files"
    )
    p.add_argument("--seed", type=int, default=7, help="random seed: same seed, same data")
    p.add_argument(
        "--scale", type=float, default=1.0, help="size of the sample (1 = a few hundred lots)"
    )
    p.add_argument(
        "--vocabulary",
        choices=["contract", "erp"],
        default="contract",
        help="erp: the same records with vocabulary columns spelled as an ERP export would",
    )
    p.add_argument(
        "--format",
        choices=["csv", "epcis"],
        default="csv",
        help="epcis: products.csv, locations.csv and the events as EPCIS 2.0 JSON-LD "
        "(events.jsonld), as a partner's EPCIS repository would send them",
    )

    p = command("demo", _demo, "Generate sample data, load it into SQLite and render the PDFs.")
    p.add_argument("--dir", type=Path, default=Path(DEMO_DIR), help="folder for everything")
    p.add_argument("--seed", type=int, default=7, help="random seed of the sample data")
    p.add_argument("--scale", type=float, default=1.0, help="size of the sample (1 = a year)")
    database(p, existing=False)

    p = command("verify", _verify, "Check a lotline PDF against its provenance and the database.")
    p.add_argument("pdf", type=Path, metavar="PDF", help="a PDF lotline rendered")
    p.add_argument(
        "--trust-roots",
        type=Path,
        action="append",
        metavar="PEM",
        help="certificate(s) trusted to sign documents (default: $LOTLINE_TRUST_ROOTS)",
    )
    database(p, existing=False)  # verify says itself what it could check without the database

    p = command(
        "label",
        _label,
        "Render a PDF sheet of GS1 labels of a lot: GS1 DataMatrix and GS1-128 with "
        "(01) GTIN, (17) expiry, (10) lot.",
    )
    labelled = subject(p, scan=True)
    labelled.title = "lot"
    labelled.add_argument("--lot", type=arg.code, help="lot (batch) code")
    labelled.add_argument(
        "--expiry",
        type=arg.calendar_date,
        metavar="YYYY-MM-DD",
        help="expiry date, for a lot not loaded yet (default: the lot's expiry in the database)",
    )
    sheet = p.add_argument_group("sheet")
    sheet.add_argument(
        "--count",
        type=_label_count,
        metavar="N",
        help="number of labels (default: one full A4 sheet)",
    )
    out(p, "the PDF")
    database(p)

    mapping_help = "Mapping files for exports that are not in the contract format."
    p = sub.add_parser(
        "mapping", help=mapping_help, description=mapping_help, formatter_class=_HelpFormatter
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    suggest_help = "Draft a mapping for the exports in a folder; review the lines marked GUESS."
    p = actions.add_parser(
        "suggest", help=suggest_help, description=suggest_help, formatter_class=_HelpFormatter
    )
    p.set_defaults(handler=_mapping_suggest)
    p.add_argument("drop_dir", type=Path, metavar="DROP_DIR", help="folder of exports")
    p.add_argument("--out", type=Path, help="write the draft to this .toml file (default: stdout)")
    if wanted not in sub.choices:  # another module's command, --help, or a typo: all of them
        for name in COMMAND_MODULES:
            importlib.import_module(name).register(sub, command, database)
    return parser


def _verify(args: argparse.Namespace) -> int:
    """0 unchanged, 1 tampered or data changed since, 2 cannot verify."""
    from reports.verify import verify

    verdict = verify(args.pdf, args.database_url, args.trust_roots)
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
    """The same stages as the Dagster `ingest` job, in this process, with progress on stderr."""
    from lotline import console, store
    from lotline.intake.contract import RECORD_TYPES
    from lotline.intake.ingest import load_folder
    from lotline.intake.mapping import load_mapping
    from lotline.intake.reading import printable, scan

    mapping = load_mapping(args.mapping) if args.mapping else None
    # a missing folder, an unknown file or a bad mapping fails before the database is touched
    found = scan(args.drop_dir, mapping=mapping)
    for skipped in found.skipped:
        print(f"skipped {printable(skipped.name)}: {skipped.reason}")
    engine = store.make_engine(args.database_url)
    with console.progress(total=len(RECORD_TYPES) + 2) as stage:
        report = load_folder(
            engine,
            args.drop_dir,
            mapping=mapping,
            strict=args.strict,
            max_reject_share=args.max_reject_share,
            progress=stage,
        )
    files = [dict(f.__dict__, accounted=f.accounted) for f in report.files]
    _print_load(files, report.summary().to_dicts(), report.snapshot_id, args.database_url)
    if report.suspects:
        for s in report.suspects:
            print(
                f"lotline: {printable(s.name)}: rule {s.rule} on column {s.column} "
                f"quarantined {s.rows} rows ({s.share:.0%} of the file, more than "
                f"{args.max_reject_share:.0%}): the file or its mapping is probably wrong. "
                "The valid rows were loaded; see rejected_record.",
                file=sys.stderr,
            )
        return EXIT_SUSPECT
    return 0


def _rebuild(args: argparse.Namespace) -> int:
    from lotline import store
    from lotline.intake.ingest import rebuild

    counts = rebuild(store.make_engine(args.database_url))
    if not counts:
        print("nothing loaded yet: no lineage to rebuild")
        return 0
    for name, rows in counts.items():
        print(f"{name:<18} {rows:>12,} rows")
    return 0


LOAD_COLUMNS: list[tuple[str, str, Kind]] = [
    ("name", "file", "id"),
    ("record_type", "type", "id"),
    ("rows_read", "read", "number"),
    ("rows_loaded", "loaded", "number"),
    ("rows_corrected", "corrected", "number"),
    ("rows_voided", "voided", "number"),
    ("rows_unchanged", "unchanged", "number"),
    ("rows_rejected", "rejected", "number"),
    ("rows_warned", "warned", "number"),
]


def _print_load(
    files: list[dict], summary: list[dict], snapshot_id: str | None, database_url: str | None
) -> None:
    import polars as pl

    from lotline import console, store
    from lotline.intake.reading import printable

    rows = [
        {
            **{name: f.get(name, 0) for name, _, _ in LOAD_COLUMNS},
            "name": printable(f["name"]),
            "note": "same content loaded before" if f.get("already_loaded") else "",
        }
        for f in files
    ]
    schema = {name: pl.String if kind == "id" else pl.Int64 for name, _, kind in LOAD_COLUMNS}
    frame = pl.DataFrame(rows, schema={**schema, "note": pl.String}, orient="row")
    columns = [console.Column(name, kind, header) for name, header, kind in LOAD_COLUMNS]
    if any(r["note"] for r in rows):
        columns.append(console.Column("note", "text"))
    console.print_table(frame, columns)
    for f in files:
        if f.get("unused_columns"):
            unused = ", ".join(map(printable, f["unused_columns"]))
            print(f"{printable(f['name'])}: columns not used: {unused}")
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
    print(f"database: {shown_url(store.database_url(database_url))}")


# --- trace --------------------------------------------------------------------------------------


def _trace(args: argparse.Namespace) -> int:
    from lotline import trace, trace_json

    if (args.sscc is None) == (args.gtin is None):
        raise ValueError("trace needs --gtin with --lot or --serial, or --sscc alone")
    if args.offset < 0:
        raise ValueError("--offset must be 0 or more")
    paged = args.limit is not None or args.offset
    lot_trace = None
    if args.lot is not None and args.scan is None:
        from lotline import trace_sqlite

        lot_trace = trace_sqlite.open_lot_trace(
            args.database_url, args.gtin, args.lot, args.direction, args.min_exposure
        )
    if lot_trace is not None:
        with lot_trace:
            if args.format == "json" and not paged:  # written while the rest is still read
                head = lot_trace.result
                trace_json.write_document(
                    sys.stdout,
                    head.subject,
                    head.direction,
                    head.snapshot_id,
                    lot_trace.tables(),
                    head.notes,
                )
                return 0
            result = lot_trace.whole()
    else:
        result = _trace_through_api(args)
    page, limit = None, args.limit
    if (
        args.format == "table"
        and limit is None
        and _longest_list(result) > args.offset + TABLE_ROWS
    ):
        limit = TABLE_ROWS
    if limit is not None or args.offset:
        result, page = trace.paged(result, args.offset, limit)
    if args.format == "json":
        trace_json.write(result, sys.stdout, page)
    elif args.format == "csv":
        sys.stdout.write(_trace_csv(result))
    else:
        _print_trace(result)
    return 0


TABLE_ROWS = 100
"""Rows of each list the table format shows without --limit: a page for a person, the note
giving every list's total and the next --offset. rich lays out ~2,000 rows a second: the whole
table of the 1M-edge database's hub lot (284k rows) took 5 minutes. csv and json list all."""


def _longest_list(result) -> int:  # type: ignore[no-untyped-def]
    from lotline.trace import OUTPUT_COLUMNS

    return max(getattr(result, attribute).height for attribute, _ in OUTPUT_COLUMNS.values())


def _trace_through_api(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """Any trace, any database (`lotline.trace_sqlite` answers a lot's in an SQLite file)."""
    from lotline import api

    engine = api.connect(args.database_url)  # creates or upgrades the schema: writes, first
    from lotline import arrow_reads

    arrow_reads.enable()  # from here this process only reads (see lotline.arrow_reads)
    if args.scan is not None:  # as the options it filled, noting a label's lot the data disputes
        return api.trace_scan(
            engine, args.scan, args.direction, at=args.at, min_exposure=args.min_exposure
        )
    if args.sscc is not None:
        return api.trace_sscc(engine, args.sscc, args.at, args.direction)
    if args.lot is not None:
        return api.trace_lot(
            engine, args.gtin, args.lot, args.direction, min_exposure=args.min_exposure
        )
    return api.trace_serial(engine, args.gtin, args.serial, args.direction)


def _trace_csv(result) -> str:  # type: ignore[no-untyped-def]
    """The trace's lots, receipts and shipments as one CSV, formula-like cells neutralised."""
    import polars as pl

    from lotline.safe_csv import write_csv

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
    return write_csv(pl.concat(frames)) or ""


TRACE_TABLES: dict[str, tuple[str, list[tuple[str, Kind, int | None]]]] = {
    "lots": (
        "Lots",
        [
            ("direction", "id", 3),
            ("depth", "number", None),
            ("exposure", "share", None),
            ("gtin", "id", None),
            ("lot", "id", None),
            ("product_name", "text", 2),
            ("expiry_date", "id", 1),
            ("quantity_on_hand", "number", None),
            ("uom", "id", None),
            ("status", "id", None),
        ],
    ),
    "receipts": (
        "Supplier receipts",
        [
            ("receipt_id", "id", 1),
            ("received_at", "time", 2),
            ("from_location_id", "id", None),
            ("gtin", "id", None),
            ("lot", "id", None),
            ("quantity", "number", None),
            ("uom", "id", None),
        ],
    ),
    "shipments": (
        "Shipments",
        [
            ("shipment_id", "id", 2),
            ("shipped_at", "time", 1),
            ("to_location_id", "id", None),
            ("gtin", "id", None),
            ("lot", "id", None),
            ("serial", "id", 3),
            ("quantity", "number", None),
            ("uom", "id", None),
        ],
    ),
    "consignees": (
        "Consignees",
        [
            ("to_location_id", "id", None),
            ("business_name", "text", None),
            ("city", "text", 1),
            ("country", "id", 2),
            ("shipments", "number", None),
            ("quantity", "number", None),
            ("uom", "id", None),
        ],
    ),
}
"""What the table format shows of a trace: per frame, its title and (column, kind, order in
which it is left out when a terminal is too narrow for the identifiers)."""
SHORT_HEADERS = {
    "quantity_on_hand": "on hand",
    "product_name": "product",
    "expiry_date": "expiry",
    "from_location_id": "from",
    "to_location_id": "to",
    "business_name": "name",
}


def _print_trace(result) -> None:  # type: ignore[no-untyped-def]
    from lotline import console

    subject = result.subject
    if subject.get("sscc"):
        name = f"SSCC {subject['sscc']} as packed at {subject['at']}"
    elif subject["serial"]:
        name = f"GTIN {subject['gtin']} serial {subject['serial']} (lot {subject['lot']})"
    else:
        name = f"GTIN {subject['gtin']} lot {subject['lot']}"
    print(f"Trace of {name}, {result.direction}; snapshot {result.snapshot_id}")

    def shown(column: str, value: object) -> str:
        if column == "status" and value is None:
            return "released"  # no hold, recall or quarantine in force
        return console.cell(value, kinds.get(column, "id"))

    for attribute, (title, spec) in TRACE_TABLES.items():
        frame = getattr(result, attribute)
        if attribute != "lots" and frame.is_empty():
            continue
        if attribute == "consignees" and result.shipments.is_empty():
            continue
        kinds = {c: k for c, k, _ in spec}
        console.print_table(
            frame,
            [
                console.Column(c, k, SHORT_HEADERS.get(c), drop)
                for c, k, drop in spec
                if c in frame.columns
            ],
            title=f"\n{title} ({frame.height})",
            cells=shown,
        )
    for note in result.notes:
        print(f"\nnote: {note}")


# --- reports ------------------------------------------------------------------------------------


def _report(args: argparse.Namespace) -> int:
    """Render through the pipeline's report asset (the document register, the archive), with
    stage lines around it: the asset itself reports no progress."""
    from lotline import console

    if args.kind == "recall" and not (args.gtin and args.lot):
        raise ValueError("report recall needs --gtin and --lot, or --scan")
    with console.progress(total=3) as stage:
        if args.kind == "recall":
            from lotline import api, trace_query
            from reports.recall import RecallRequest

            RecallRequest.parse(args.request_ref, args.requester, args.received_at)  # fail early
            stage(f"finding lot {args.lot} of GTIN {args.gtin}")
            with api.connect(args.database_url).connect() as conn:  # one indexed lookup
                trace_query.find_lot_key(conn, args.gtin, args.lot)
            config = {
                "recall": {
                    "lots": [f"{args.gtin}/{args.lot}"],
                    "direction": args.direction,
                    "request_reference": args.request_ref,
                    "requester": args.requester,
                    "received_at": args.received_at,
                    "prepared_by": args.prepared_by,
                }
            }
        else:
            as_of = args.as_of.isoformat() if args.as_of else ""
            config = {"expiry": {"as_of": as_of, "within_days": args.within_days}}
        stage("starting the pipeline")
        from pipelines.run import run_pipeline

        stage(f"rendering the {args.kind} report PDF")
        outcome = run_pipeline(
            database_url=args.database_url,
            report_dir=args.out,
            load=False,
            log_level="CRITICAL",
            **config,
        )
    if not outcome.success:
        print(f"lotline: report failed: {outcome.error}", file=sys.stderr)
        return 1
    for path in outcome.reports:
        print(path)
    return 0


def _mock_recall(args: argparse.Namespace) -> int:
    """Store the drill first, then render: a failed rendering still leaves the drill on record."""
    from lotline import api, console, mock_recall

    if not (args.gtin and args.lot):
        raise ValueError("mock-recall needs --gtin and --lot, or --scan")
    with console.progress(total=2) as stage:
        engine = api.connect(args.database_url)
        stage(f"running the drill on lot {args.lot} of GTIN {args.gtin}")
        drill = mock_recall.run_drill(engine, args.gtin, args.lot, args.direction, args.by)
        stage("rendering the evidence PDF")
        from reports.mock_recall import render_mock_recall_report

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
    from lotline import api, console, fsma204
    from reports.fsma204 import write_fsma204

    by_lot, by_period = bool(args.gtin or args.lot), bool(args.start or args.end)
    if by_lot == by_period or (by_lot and not (args.gtin and args.lot)):
        raise ValueError(f"export {args.kind} needs --gtin and --lot, or --from and --to")
    if by_period and not (args.start and args.end):
        raise ValueError(f"export {args.kind} needs both --from and --to")
    if args.kind == "epcis":
        return _export_epcis(args, by_lot)
    with console.progress(total=3) as stage:
        engine = api.connect(args.database_url)
        if by_lot:
            stage(f"tracing {len(args.lot)} lot{'s' if len(args.lot) > 1 else ''}")
            results = [api.trace_lot(engine, args.gtin, lot, args.direction) for lot in args.lot]
            stage("building the FSMA 204 rows")
            frames = fsma204.for_traces(results, engine)
            lots = args.lot[0] if len(args.lot) == 1 else f"{len(args.lot)}-lots"
            name = f"fsma204_{results[0].subject['gtin']}_{lots}_{args.direction}"
        else:
            stage(f"building the FSMA 204 rows from {args.start} to {args.end}")
            frames = fsma204.for_period(engine, args.start, args.end)
            name = f"fsma204_{args.start.isoformat()}_{args.end.isoformat()}"
        stage("writing XLSX and CSV")
        written = write_fsma204(frames, args.out, name)
    print(written["xlsx"])
    for path in written["csv"]:
        print(path)
    return 0


def _export_epcis(args: argparse.Namespace, by_lot: bool) -> int:
    """One EPCISDocument of a trace or a period; --out is the file, or a folder to name it in."""
    from lotline import api, console
    from lotline.gs1 import epcis_export

    with console.progress(total=3) as stage:
        engine = api.connect(args.database_url)
        if by_lot:
            stage(f"tracing {len(args.lot)} lot{'s' if len(args.lot) > 1 else ''}")
            results = [api.trace_lot(engine, args.gtin, lot, args.direction) for lot in args.lot]
            stage("building the EPCIS events and their hashes")
            doc = epcis_export.for_traces(engine, results)
            lots = args.lot[0] if len(args.lot) == 1 else f"{len(args.lot)}-lots"
            name = f"epcis_{results[0].subject['gtin']}_{lots}_{args.direction}"
        else:
            stage(f"building the EPCIS events from {args.start} to {args.end}")
            doc = epcis_export.for_period(engine, args.start, args.end)
            name = f"epcis_{args.start.isoformat()}_{args.end.isoformat()}"
        stage(f"writing {args.format}")
        path = args.out
        if path.is_dir() or not path.suffix:
            path = path / (name + EPCIS_FORMATS[args.format])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(epcis_export.serialise(doc, args.format))
    events = len(doc["epcisBody"]["eventList"])
    print(f"{events} EPCIS events", file=sys.stderr)
    print(path)
    return 0


# --- labels -------------------------------------------------------------------------------------


def _label(args: argparse.Namespace) -> int:
    """A label sheet of one lot; its data (product name, expiry) comes from the database."""
    from lotline import api
    from reports.label import render_label_sheet

    if not (args.gtin and args.lot):
        raise ValueError("label needs --gtin and --lot, or --scan")
    engine = api.connect(args.database_url)
    path = render_label_sheet(
        engine, args.gtin, args.lot, args.out, expiry=args.expiry, count=args.count
    )
    print(path)
    return 0


def _label_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text}: must be at least 1 label")
    return value


# --- sample data and demo -----------------------------------------------------------------------


def _generate(args: argparse.Namespace) -> int:
    from lotline.generate import generate, generate_epcis

    if args.format == "epcis":
        if args.vocabulary != "contract":
            print("lotline: --vocabulary applies to --format csv only", file=sys.stderr)
            return 2
        paths = generate_epcis(args.out, seed=args.seed, scale=args.scale)
    else:
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
        f"\ntry: lotline trace --database-url {shown_url(database_url)} "
        f"--gtin {gtin} --lot {lot} --direction forward"
    )
    return 0


def demo_recall_lot(engine) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """The received lot whose forward trace reaches the most consignees: a telling recall."""
    from lotline import api

    widest = api.widest_reach(engine, n=1)
    if widest.is_empty():
        raise ValueError("the sample data holds no received lot to recall")
    return widest["gtin"][0], widest["lot"][0]


if __name__ == "__main__":
    sys.exit(main())

"""What the audit trail costs: time inside the seal during a load, and `lotline audit verify`.

    uv run --frozen python bench/audit_bench.py --generate 1 --synth 100000 \
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

`--generate S`: the sample data of `lotline generate --scale S` (what `lotline demo` loads at
S=1); `--synth N`: bench/synth.py's supply chain of N genealogy edges. Each drop folder is loaded
into a fresh database with `load_folder`; the seal (`lotline.audit.chain` appends: the SELECT
reading the rows back, hashing, the two INSERTs) is timed by wrapping its functions, so its share
of the load is measured in the same run. Then `chain.verify` on the loaded database.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))

from lineage_bench import timed_calls  # noqa: E402

SEALS = (
    "lotline.audit.chain.seal_frame",  # the records, their history, master data
    "lotline.audit.chain.seal_rows",  # the load log and snapshot
    "lotline.audit.chain.seal_deleted",  # replaced versions
)


def measure(drop: Path, url: str) -> dict[str, object]:
    from lotline import store
    from lotline.audit import chain
    from lotline.intake.ingest import load_folder

    engine = store.make_engine(url)
    with timed_calls(SEALS) as spent:
        began = time.perf_counter()
        report = load_folder(engine, drop)
        load = time.perf_counter() - began
    rows = sum(f.rows_loaded for f in report.files)
    began = time.perf_counter()
    verdict = chain.verify(engine)
    verify = time.perf_counter() - began
    with engine.connect() as conn:
        sealed = conn.execute(sa.text("SELECT sum(rows) FROM audit_entry")).scalar_one()
    engine.dispose()
    seal = sum(spent.values())
    return {
        "rows_loaded": rows,
        "load_seconds": round(load, 2),
        "seal_seconds": round(seal, 2),
        "seal_share": round(seal / load, 3),
        "rows_sealed": sealed,
        "load_rows_per_second": round(rows / load),
        "verify_seconds": round(verify, 2),
        "verify_rows_checked": verdict.rows_checked,
        "verify_ok": verdict.ok,
    }


def _postgres_database(admin_url: str) -> tuple[str, sa.Engine, str]:
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"lotline_audit_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return sa.make_url(admin_url).set(database=name).render_as_string(False), admin, name


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--generate", type=float, nargs="*", default=[1.0])
    parser.add_argument("--synth", type=int, nargs="*", default=[])
    parser.add_argument("--postgres")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        drops = []
        for scale in args.generate:
            drop = Path(tmp) / f"generate-{scale}"
            _generate(drop, scale)
            drops.append((f"generate --scale {scale}", drop))
        for edges in args.synth:
            import synth

            drop = Path(tmp) / f"synth-{edges}"
            synth.write(drop, edges)
            drops.append((f"synth {edges} edges", drop))
        for label, drop in drops:
            url = f"sqlite:///{Path(tmp) / (uuid.uuid4().hex + '.sqlite')}"
            results.append({"data": label, "database": "sqlite", **measure(drop, url)})
            print(json.dumps(results[-1]), flush=True)
            if args.postgres:
                url, admin, name = _postgres_database(args.postgres)
                try:
                    results.append({"data": label, "database": "postgresql", **measure(drop, url)})
                    print(json.dumps(results[-1]), flush=True)
                finally:
                    with admin.connect() as conn:
                        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))


def _generate(drop: Path, scale: float) -> None:
    from lotline.cli import main as lotline

    if lotline(["generate", "--out", str(drop), "--scale", str(scale)]) != 0:
        raise SystemExit(f"lotline generate --scale {scale} failed")


if __name__ == "__main__":
    main()

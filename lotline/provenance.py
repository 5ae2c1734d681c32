"""The provenance record every lotline document carries, so it can be checked years later.

A report is only evidence if one can say which data it was built from and whether it was
altered since. The record names the data snapshot and the SHA-256 of every input file of that
snapshot (what `lotline verify` compares with the database), the code that rendered it and the
SHA-256 of each embedded data file (what it compares with the PDF's own bytes). It holds no
wall-clock value except the document's own number and time, so rendering the same snapshot
again gives the same record apart from those two fields.

Building the record is pure; only `code_version` asks git, once per process.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from importlib import metadata
from pathlib import Path

FORMAT = "lotline-provenance/1"
FILE_NAME = "provenance.json"
MIME_TYPE = "application/json"


def snapshot_id_of(input_sha256: Sequence[str]) -> str:
    """The snapshot id for these input hashes, as `lotline.intake.ingest._snapshot` derives it: a
    record whose id does not match its own inputs was edited."""
    return hashlib.sha256("\n".join(sorted(input_sha256)).encode()).hexdigest()[:32]


@cache
def code_version() -> dict[str, str | bool | None]:
    """Package version plus the git commit of the checkout (None outside a git work tree, e.g.
    an installed wheel); `dirty` says tracked files differed from that commit."""
    try:
        version = metadata.version("lotline")
    except metadata.PackageNotFoundError:  # pragma: no cover - a bare checkout
        version = "unknown"
    root = Path(__file__).resolve().parents[1]
    commit: str | None = None
    dirty: bool | None = None
    try:
        run = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
        commit = run.stdout.strip() or None
        status = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        dirty = bool(status.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        commit, dirty = None, None
    return {"package": "lotline", "version": version, "git_commit": commit, "dirty": dirty}


def _iso(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def snapshot_section(snapshot: Mapping[str, object] | None) -> dict[str, object] | None:
    """The snapshot as recorded: id, when and by which load it was made, its sorted inputs."""
    if not snapshot:
        return None
    raw = snapshot.get("input_sha256")
    inputs = sorted(json.loads(raw) if isinstance(raw, str) else list(raw or []))  # type: ignore[arg-type]
    return {
        "snapshot_id": str(snapshot["snapshot_id"]),
        "created_at": _iso(snapshot.get("created_at")),
        "load_id": snapshot.get("load_id"),
        "record_count": snapshot.get("record_count"),
        "input_sha256": inputs,
    }


def build_record(
    *,
    document_number: str,
    title: str,
    generated_at: datetime,
    snapshot: Mapping[str, object] | None,
    attachments: Sequence[tuple[str, bytes, str]],
    run_id: str | None = None,
    code: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """The provenance record of one document (`attachments` are the data files it embeds)."""
    return {
        "format": FORMAT,
        "document": {
            "number": document_number,
            "title": title,
            "generated_at": generated_at.isoformat(timespec="seconds"),
        },
        "snapshot": snapshot_section(snapshot),
        "code": dict(code if code is not None else code_version()),
        "pipeline_run_id": run_id,
        "attachments": [
            {
                "name": name,
                "mime_type": mime,
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
            for name, data, mime in attachments
        ],
    }


def to_bytes(record: Mapping[str, object]) -> bytes:
    """Canonical JSON (sorted keys, fixed indent, trailing newline): same record, same bytes."""
    return (json.dumps(record, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()

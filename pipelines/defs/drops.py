"""Drops: the partitions of a load, and the pool its commit waits in.

A *drop* is a set of files exported together: each subfolder of the drop folder is one (a site's
or a partner's landing folder, `drop/site-chi/`, `drop/acme-3pl/`), and the files directly in the
drop folder are the drop `(top)`. Loads are partitioned by drop (`DROPS`, dynamic partitions
the sensor adds as folders appear), so Dagster reads and validates several drops in parallel
runs. A drop, not a site-and-day slice of the rows, is the unit because its files refer to each
other (receipts to products, consumption to its production order, shipments to packed SSCCs) and
are logged by content hash file by file: a drop validates as a whole, and each file loads once.

The commit of a drop (records, load log, snapshot, lineage) runs in the pool `LINEAGE_POOL`,
limit 1 (`deploy/dagster.yaml`): a run whose commit is next waits for a slot in Dagster's queue,
not in an open transaction on the database's load lock, which still serialises commits for
callers without Dagster (`lotline.store.lock_loads`).
"""

from pathlib import Path

import dagster as dg

DROPS = dg.DynamicPartitionsDefinition(name="drops")
TOP = "(top)"
"""The drop of the files directly in the drop folder (no folder name can be one of its files)."""
LINEAGE_POOL = "lineage_commit"
"""Dagster concurrency pool of the commit step: one at a time across runs."""
_NOT_IN_A_KEY = ("...", "\a", "\b", "\f", "\n", "\r", "\t", "\v", "\0")
"""What Dagster refuses in a partition key (`INVALID_PARTITION_SUBSTRINGS`)."""


def drop_keys(folder: Path) -> list[str]:
    """The drops of a drop folder: `(top)` first, then every visible subfolder that is a real
    folder inside it (a link is never followed) and whose name can be a partition key."""
    subfolders = sorted(
        path.name
        for path in Path(folder).iterdir()
        if path.is_dir()
        and not path.is_symlink()
        and not path.name.startswith(".")
        and path.name != TOP
        and not any(bad in path.name for bad in _NOT_IN_A_KEY)
    )
    return [TOP, *subfolders]


def drop_dir(folder: Path, key: str) -> Path:
    """The folder holding drop `key` of the drop folder `folder`."""
    if key == TOP:
        return Path(folder)
    if key != Path(key).name or key in (".", ".."):
        raise ValueError(f"drop {key!r} is not a subfolder name of the drop folder")
    return Path(folder) / key


def file_label(key: str, name: str) -> str:
    """A file as the sensor's cursor and messages name it: `name` in the top drop,
    `drop/name` in a subfolder's."""
    return name if key == TOP else f"{key}/{name}"

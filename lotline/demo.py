"""The demo database: the generated sample supply chain loaded into SQLite, built once.

`lotline demo` and the notebooks share it (`lotline-demo/lotline.sqlite`, the drop folder beside
it), so a notebook opened after the demo reuses its data, and one opened first builds it where
the demo would: never a throw-away copy in a temporary folder. Two notebooks opened at once
build it once: the build holds a lock file in the folder and the second waits for it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lotline import store

DEMO_DIR = Path("lotline-demo")
SEED = 7
SCALE = 1.0


def demo_database(folder: Path = DEMO_DIR, seed: int = SEED, scale: float = SCALE) -> str:
    """The URL of `folder/lotline.sqlite`, generating the sample data into `folder/drop` and
    loading it first when the database holds no load yet (as `lotline demo` does)."""
    from lotline import api

    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    url = store.sqlite_url(folder / "lotline.sqlite")
    with _build_lock(folder / ".build.lock"):
        engine = api.connect(url)
        try:
            if api.current_snapshot(engine) is None:
                from lotline.generate import generate
                from lotline.intake.ingest import load_folder

                generate(folder / "drop", seed=seed, scale=scale)
                load_folder(engine, folder / "drop")
        finally:
            engine.dispose()
    return url


@contextmanager
def _build_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` for the duration (released by the OS if the process dies);
    where `fcntl` is missing (Windows) the build runs unlocked."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

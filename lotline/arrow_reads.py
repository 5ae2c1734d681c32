"""Whether this process may read SQLite files through ADBC (Arrow columns, no Python rows).

ADBC's SQLite driver carries its own copy of the SQLite library. SQLite locks a database with
POSIX advisory locks, and those belong to the process, not to the library: when one copy closes
its file descriptor, every lock the other copy holds on that file is gone (the SQLite authors
list two SQLite copies in one process among the ways to corrupt a database). A process that
writes through Python's `sqlite3` — a load, the portal with its access log and sessions, a
report that registers its document — must therefore never read through ADBC. A loader that did
crashed with SIGBUS under a concurrent load in our tests. Processes that only read (`lotline
trace`, the benchmarks) switch it on once, before their first read.
"""

from __future__ import annotations

_enabled = False


def enable() -> None:
    """Allow ADBC reads of SQLite files for the rest of this process (read-only processes)."""
    global _enabled
    _enabled = True


def enabled() -> bool:
    return _enabled

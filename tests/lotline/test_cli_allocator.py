"""The building commands make Polars' allocator hand freed memory back at once (the 10M build's
peak depends on it); an operator's own setting wins, and other commands keep Polars' default."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = """
import os, sys
from lotline import cli
cli._run([sys.argv[1], "--help"])
import polars  # noqa: F401  (the allocator reads its setting here)
print(os.environ["_RJEM_MALLOC_CONF"])
"""


POLARS_DEFAULT = "dirty_decay_ms:500,muzzy_decay_ms:1000"
"""What Polars sets when nobody else did (its `__init__`); a later option of the same name wins."""


def _setting(command: str, env_value: str | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    if env_value is not None:
        env["_RJEM_MALLOC_CONF"] = env_value
    done = subprocess.run(
        [sys.executable, "-c", PROBE, command], capture_output=True, text=True, env=env, check=True
    )
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("command", ["ingest", "rebuild"])
def test_building_commands_release_freed_memory(command: str) -> None:
    from lotline.cli import RELEASE_FREED_MEMORY

    assert _setting(command).endswith("," + RELEASE_FREED_MEMORY)


def test_operator_setting_wins() -> None:
    assert _setting("rebuild", "dirty_decay_ms:5000").endswith(",dirty_decay_ms:5000")


def test_trace_keeps_polars_default() -> None:
    assert _setting("trace") == POLARS_DEFAULT

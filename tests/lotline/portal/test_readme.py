"""The README's "Portal" commands, as written: an auditor added from stdin to the demo
database, then `lotline serve` in its own process, logged into over real HTTP."""

from __future__ import annotations

import io
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from lotline.cli import main

README = Path(__file__).parents[3] / "README.md"
CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


def portal_commands() -> list[str]:
    block = README.read_text(encoding="utf-8").split("## Portal", 1)[1]
    return block.split("```sh\n", 1)[1].split("```", 1)[0].splitlines()


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_the_readme_portal_commands_run_as_written(
    small_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add, serve = portal_commands()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LOTLINE_DATABASE_URL", raising=False)
    (tmp_path / "lotline-demo").mkdir()  # the demo database, as `lotline demo` leaves it
    shutil.copy(small_database.removeprefix("sqlite:///"), tmp_path / "lotline-demo/lotline.sqlite")

    printf, command = add.split(" | ")
    password = shlex.split(printf)[1].encode().decode("unicode_escape")
    words = shlex.split(command)
    assert words[:3] == ["uv", "run", "--frozen"] and words[3] == "lotline"
    monkeypatch.setattr("sys.stdin", io.StringIO(password))
    assert main(words[4:]) == 0
    name = words[words.index("add") + 1]

    words = shlex.split(serve)
    assert words[:4] == ["uv", "run", "--frozen", "lotline"] and "serve" in words
    if not _port_free(8000):
        pytest.skip("port 8000 (the README's default) is taken on this machine")
    script = Path(sys.executable).with_name("lotline")
    server = subprocess.Popen([str(script), *words[4:]], stderr=subprocess.PIPE)
    try:
        base = "http://127.0.0.1:8000"
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"{base}/healthz")
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read().decode()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "lotline serve did not answer"
                time.sleep(0.2)
        assert health.status_code == 200
        with httpx.Client(base_url=base) as client:
            assert client.get("/").status_code in (303, 307)  # anonymous: to the login
            form = client.get("/login")
            token = CSRF.search(form.text).group(1)  # type: ignore[union-attr]
            # the cookies are Secure: a browser sends them to 127.0.0.1, httpx only if told
            cookie = form.headers["set-cookie"].split(";", 1)[0]
            done = client.post(
                "/login",
                data={"name": name, "password": password.strip(), "csrf_token": token},
                headers={"cookie": cookie},
            )
        assert done.status_code == 303, done.text[:500]
        assert "lotline_session=" in done.headers.get("set-cookie", "")
    finally:
        server.terminate()
        server.wait(timeout=20)

"""`lotline users …` and `lotline serve` as an operator runs them: `lotline.cli.main` in this
process (a subprocess per call costs seconds of imports), stdin and stdout real streams."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest

from lotline import cli, store
from lotline.portal import users


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def database(sqlite_url: str) -> str:
    store.create_schema(store.make_engine(sqlite_url))
    return sqlite_url


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    def run(*args: str, database_url: str | None = None, stdin: str = "") -> Result:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        capsys.readouterr()
        database = ["--database-url", database_url] if database_url else []
        code = cli.main([*args, *database])
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


def test_users_round_trip(database: str, run) -> None:
    password = "a passphrase from stdin"
    added = run(
        "users",
        "add",
        "ada",
        "--role",
        "auditor",
        "--password-stdin",
        database_url=database,
        stdin=password + "\n",
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout == "" and password not in added.stderr
    engine = store.make_engine(database)
    assert users.authenticate(engine, "ada", password).role == "auditor"

    issued = run("users", "token", "ada", database_url=database)
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    assert issued.stdout == token + "\n"  # only the token on stdout, for `$(...)`
    assert token not in issued.stderr and "shown this once" in issued.stderr
    assert users.principal_for_token(engine, token).name == "ada"

    listed = run("users", "list", database_url=database)
    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.splitlines()
    assert header.split()[:3] == ["NAME", "ROLE", "STATE"]
    assert row.split()[:3] == ["ada", "auditor", "enabled"]
    assert f"{token[:8]}…" in row
    assert token not in listed.stdout and "argon2" not in listed.stdout

    renewed = "a second passphrase, from stdin"
    changed = run(
        "users", "password", "ada", "--password-stdin", database_url=database, stdin=renewed
    )
    assert changed.returncode == 0, changed.stderr
    assert users.authenticate(engine, "ada", password) is None
    assert users.authenticate(engine, "ada", renewed).name == "ada"
    password = renewed

    disabled = run("users", "disable", "ada", database_url=database)
    assert disabled.returncode == 0, disabled.stderr
    assert users.authenticate(engine, "ada", password) is None
    assert users.principal_for_token(engine, token) is None
    assert (
        run("users", "list", database_url=database).stdout.splitlines()[1].split()[2] == "disabled"
    )


@pytest.mark.parametrize(
    ("stdin", "options", "message"),
    [
        ("", ["--password-stdin"], "no password on stdin"),
        ("\n", ["--password-stdin"], "no password on stdin"),
        ("short\n", ["--password-stdin"], "too short"),
        ("two lines of\npassword text\n", ["--password-stdin"], "several lines"),
        ("a long enough password\n", [], "--password-stdin"),
    ],
)
def test_add_refuses_a_bad_or_missing_password(
    database: str, run, stdin: str, options: list[str], message: str
) -> None:
    result = run(
        "users", "add", "bob", "--role", "officer", *options, database_url=database, stdin=stdin
    )
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert users.list_users(store.make_engine(database)) == []


def test_password_is_not_an_option(database: str, run) -> None:
    result = run(
        "users", "add", "bob", "--role", "officer", "--password", "x" * 20, database_url=database
    )
    assert result.returncode == 2 and "unrecognized arguments" in result.stderr


def test_unknown_user_and_role_fail_in_one_line(database: str, run) -> None:
    for args in (("users", "disable", "ghost"), ("users", "token", "ghost")):
        result = run(*args, database_url=database)
        assert result.returncode == 2
        assert result.stderr.strip() == "lotline: no user 'ghost'"
    wrong_role = run(
        "users",
        "add",
        "bob",
        "--role",
        "root",
        "--password-stdin",
        database_url=database,
        stdin="long enough password\n",
    )
    assert wrong_role.returncode == 2 and "invalid choice: 'root'" in wrong_role.stderr


def test_serve_help_names_host_and_port(run) -> None:
    result = run("serve", "--help")
    assert result.returncode == 0
    assert "--host" in result.stdout and "(default: 127.0.0.1)" in result.stdout
    assert "(default: 8000)" in result.stdout

"""``filemeta server | users | perms`` end to end, on both backends.

The last test is the set-up of docs/TEAM_SERVER.md as written: a database owner that is
not a superuser runs ``server init``, adds two guests and grants them different folders;
each guest then reaches exactly that, through the command line and through raw SQL.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.cli.support import run
from tests.support.pg import PgServer

NewLogin = Callable[[str], str]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "share"
    for folder, name in (("photos", "a.jpg"), ("photos", "b.jpg"), ("docs", "c.txt")):
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / name).write_bytes(name.encode())
    return root


def test_server_init(
    capsys: pytest.CaptureFixture[str], db_url: str, backend: str, request: pytest.FixtureRequest
) -> None:
    code, out, err = run(capsys, "--db", db_url, "server", "init")
    assert code == 0, err
    if backend == "sqlite":
        assert "needs no server set-up" in out
        return
    assert "ready for a team" in out and "admin: postgres" in out
    pg_server: PgServer = request.getfixturevalue("pg_server")
    assert "is a superuser" in err
    trusting = int(
        pg_server.run("SELECT count(*) FROM pg_hba_file_rules WHERE auth_method = 'trust'")[0][0]
    )
    assert ("trusts connections without a password" in err) == bool(trusting)
    code, out, _ = run(capsys, "--db", db_url, "server", "init")  # again: harmless
    assert code == 0 and "ready for a team" in out


@pytest.mark.parametrize("backend", ["postgresql"])
def test_only_the_owner_may_set_up_an_empty_library(
    capsys: pytest.CaptureFixture[str], db_url: str, pg_server: PgServer, new_login: NewLogin
) -> None:
    stranger = new_login("stranger")
    pg_server.run(f'CREATE ROLE "{stranger}" LOGIN')
    as_stranger = make_url(db_url).set(username=stranger).render_as_string(hide_password=False)
    code, _, err = run(capsys, "--db", as_stranger, "server", "init")
    assert code == 2 and "no users yet" in err and "database owner" in err
    code, _, err = run(capsys, "--db", as_stranger, "users", "list")
    assert code == 2 and "Only an admin" in err


def test_users_from_add_to_remove(
    capsys: pytest.CaptureFixture[str], db_url: str, new_login: NewLogin
) -> None:
    alice, bob = new_login("alice"), new_login("bob")
    assert run(capsys, "--db", db_url, "users", "add", alice, "--ip", "10.0.0.0/24")[0] == 0
    code, out, _ = run(
        capsys, "--db", db_url, "users", "add", bob, "--ip", "10.0.1.7", "--role", "admin"
    )
    assert code == 0 and "as admin" in out
    assert run(capsys, "--db", db_url, "users", "set-role", bob, "guest")[0] == 0
    assert run(capsys, "--db", db_url, "users", "set-address", alice, "10.0.2.0/24")[0] == 0
    assert run(capsys, "--db", db_url, "users", "disable", bob)[0] == 0
    code, out, _ = run(capsys, "--db", db_url, "users", "list", "--json")
    listed = {u["login"]: u for u in json.loads(out)["users"]}
    assert (listed[alice]["address"], listed[alice]["role"]) == ("10.0.2.0/24", "guest")
    assert (listed[bob]["role"], listed[bob]["disabled"]) == ("guest", True)
    assert run(capsys, "--db", db_url, "users", "enable", bob)[0] == 0
    assert run(capsys, "--db", db_url, "users", "remove", bob)[0] == 0
    code, out, _ = run(capsys, "--db", db_url, "users", "list")
    assert alice in out and bob not in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("users", "add", "{login}", "--ip", "10.0.0.256"), "not an IP address"),
        (("users", "add", "{login}", "--ip", "10.0.0.1/8"), "not an IP address"),
        (("users", "add", "bad login", "--ip", "10.0.0.1"), "not a usable login"),
        (("users", "set-role", "nobody_here", "admin"), "no user with the login"),
        (("perms", "grant", "nobody_here", "read", "{tree}"), "no user with the login"),
        (("perms", "grant", "{existing}", "read", "{tree}/nowhere"), "Not in the library"),
    ],
)
def test_bad_input_fails_with_one_line_and_changes_nothing(
    capsys: pytest.CaptureFixture[str],
    db_url: str,
    tree: Path,
    new_login: NewLogin,
    argv: tuple[str, ...],
    message: str,
) -> None:
    existing = new_login("carol")
    assert run(capsys, "--db", db_url, "users", "add", existing, "--ip", "10.0.0.3")[0] == 0
    assert run(capsys, "--db", db_url, "scan", "--no-hash", str(tree))[0] == 0
    before = run(capsys, "--db", db_url, "users", "list", "--json")[1]
    filled = [a.format(login=new_login("dan"), tree=tree, existing=existing) for a in argv]
    code, _, err = run(capsys, "--db", db_url, *filled)
    assert code == 2 and message in err and err.count("\n") == 1, err
    assert run(capsys, "--db", db_url, "users", "list", "--json")[1] == before
    assert (
        "may not use any file"
        in run(capsys, "--db", db_url, "perms", "show", "--user", existing)[1]
    )


def test_an_existing_login_is_refused(
    capsys: pytest.CaptureFixture[str], db_url: str, new_login: NewLogin
) -> None:
    login = new_login("erin")
    assert run(capsys, "--db", db_url, "users", "add", login, "--ip", "10.0.0.4")[0] == 0
    code, _, err = run(capsys, "--db", db_url, "users", "add", login, "--ip", "10.0.0.5")
    assert code == 2 and "already exists" in err


@pytest.mark.parametrize("backend", ["postgresql"])
def test_the_last_admin_stays(capsys: pytest.CaptureFixture[str], db_url: str) -> None:
    assert run(capsys, "--db", db_url, "server", "init")[0] == 0
    for argv in (
        ("set-role", "postgres", "guest"),
        ("disable", "postgres"),
        ("remove", "postgres"),
    ):
        code, _, err = run(capsys, "--db", db_url, "users", *argv)
        assert code == 2 and "last admin" in err


def test_usage_errors_exit_1(capsys: pytest.CaptureFixture[str], db_url: str) -> None:
    assert run(capsys, "--db", db_url, "perms", "show")[0] == 1
    assert run(capsys, "--db", db_url, "perms", "grant", "x", "own", "/tmp")[0] == 1
    assert (
        run(capsys, "--db", db_url, "users", "add", "x", "--ip", "10.0.0.1", "--role", "root")[0]
        == 1
    )


def test_grant_show_revoke(
    capsys: pytest.CaptureFixture[str], db_url: str, tree: Path, new_login: NewLogin
) -> None:
    login = new_login("fay")
    assert run(capsys, "--db", db_url, "scan", "--no-hash", str(tree))[0] == 0
    assert run(capsys, "--db", db_url, "users", "add", login, "--ip", "10.0.0.6")[0] == 0
    code, out, _ = run(
        capsys, "--db", db_url, "perms", "grant", login, "write", str(tree / "photos")
    )
    assert code == 0 and "write on 2 file(s) (2 changed)" in out
    run(capsys, "--db", db_url, "perms", "grant", login, "read", str(tree / "photos" / "b.jpg"))
    code, out, _ = run(capsys, "--db", db_url, "perms", "show", str(tree), "--json")
    held = {(p["path"], p["level"]) for p in json.loads(out)["permissions"]}
    assert held == {
        (str(tree / "photos" / "a.jpg"), "write"),
        (str(tree / "photos" / "b.jpg"), "read"),
    }
    code, out, _ = run(capsys, "--db", db_url, "perms", "show", "--user", login)
    assert out.split() == [
        "write",
        str(tree / "photos" / "a.jpg"),
        "read",
        str(tree / "photos" / "b.jpg"),
    ]
    code, out, _ = run(capsys, "--db", db_url, "perms", "revoke", login, str(tree))
    assert code == 0 and "lost access to 2 of 3" in out
    assert (
        "Only admins may use these 3" in run(capsys, "--db", db_url, "perms", "show", str(tree))[1]
    )


# -- the team-server set-up of docs/TEAM_SERVER.md --------------------------------------------


@pytest.fixture
def team_database(pg_server: PgServer) -> Iterator[tuple[str, str]]:
    """``CREATE ROLE owner LOGIN CREATEROLE; CREATE DATABASE ... OWNER owner``."""
    owner = f"fm_owner_{uuid.uuid4().hex[:10]}"
    pg_server.run(f'CREATE ROLE "{owner}" LOGIN CREATEROLE')
    pg_server.roles.append(owner)
    name = pg_server.create_database()
    pg_server.run(f'ALTER DATABASE "{name}" OWNER TO "{owner}"')
    yield name, owner
    pg_server.drop_database(name)


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_team_server_from_the_instructions(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    pg_server: PgServer,
    team_database: tuple[str, str],
    tree: Path,
    new_login: NewLogin,
) -> None:
    name, owner = team_database
    as_owner = pg_server.url_for(name, user=owner)
    code, out, err = run(capsys, "--db", as_owner, "server", "init")
    assert code == 0 and f"admin: {owner}" in out and "is a superuser" not in err
    assert run(capsys, "--db", as_owner, "scan", "--no-hash", str(tree))[0] == 0
    guests = {"photos": new_login("ann"), "docs": new_login("ben")}
    for folder, login in guests.items():
        monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery\n"))
        code, _, err = run(
            capsys, "--db", as_owner, "users", "add", login, "--ip", "127.0.0.1", "--password-stdin"
        )
        assert code == 0, err
        assert (
            run(capsys, "--db", as_owner, "perms", "grant", login, "read", str(tree / folder))[0]
            == 0
        )
    for folder, login in guests.items():
        as_guest = pg_server.url_for(name, user=login)
        code, out, err = run(capsys, "--db", as_guest, "ls", "--json")
        assert code == 0, err
        expected = sorted(str(p) for p in (tree / folder).iterdir())
        assert sorted(f["path"] for f in json.loads(out)["files"]) == expected
        code, _, err = run(capsys, "--db", as_guest, "users", "list")
        assert code == 2 and "Only an admin" in err
        assert sorted(_raw_paths(as_guest)) == expected


def _raw_paths(url: str) -> list[str]:
    import asyncio

    async def fetch() -> list[str]:
        connection = await asyncpg.connect(url)
        try:
            return [r[0] for r in await connection.fetch("SELECT file_path FROM files")]
        finally:
            await connection.close()

    return asyncio.run(fetch())

"""The ``filemeta`` command line, end to end on real libraries (both backends)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.support import run


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    (root / "a" / "one.txt").write_bytes(b"same content")
    (root / "b" / "two.txt").write_bytes(b"same content")
    (root / "b" / "three.txt").write_bytes(b"same content")
    (root / "a" / "unique.txt").write_bytes(b"only me")
    (root / "empty1").write_bytes(b"")
    (root / "empty2").write_bytes(b"")
    return root


def test_scan_then_dupes_json(capsys: pytest.CaptureFixture[str], db_url: str, tree: Path) -> None:
    code, out, _ = run(capsys, "--db", db_url, "scan", str(tree))
    assert code == 0, out
    assert "6 files" in out and "6 new" in out
    code, out, _ = run(capsys, "--db", db_url, "dupes", "--json")
    assert code == 0
    groups = json.loads(out)["groups"]
    assert len(groups) == 1
    assert groups[0]["size"] == len(b"same content")
    assert groups[0]["paths"] == sorted(
        str(tree / p) for p in ("a/one.txt", "b/two.txt", "b/three.txt")
    )
    code, out, _ = run(capsys, "--db", db_url, "dupes", "--json", "--include-empty")
    hashes = [g["hash"] for g in json.loads(out)["groups"]]
    assert len(hashes) == 2 and hashes == sorted(hashes)
    code, out, _ = run(capsys, "--db", db_url, "dupes")
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("3 copies of 12 B, 24 B reclaimable")
    assert [line.strip() for line in lines[1:4]] == groups[0]["paths"]  # in path order
    assert lines[-1] == "1 group, 24 B reclaimable"


def test_tags_survive_a_move_and_rescan(
    capsys: pytest.CaptureFixture[str], db_url: str, tree: Path
) -> None:
    assert run(capsys, "--db", db_url, "scan", str(tree))[0] == 0
    code, out, _ = run(capsys, "--db", db_url, "tag", "add", "keep", str(tree / "a" / "unique.txt"))
    assert code == 0, out
    (tree / "a" / "unique.txt").rename(tree / "b" / "renamed.txt")
    code, out, _ = run(capsys, "--db", db_url, "scan", str(tree))
    assert code == 0 and "1 moved" in out
    code, out, _ = run(capsys, "--db", db_url, "search", "tag:keep", "--json")
    assert [f["path"] for f in json.loads(out)["files"]] == [str(tree / "b" / "renamed.txt")]
    code, out, _ = run(capsys, "--db", db_url, "tag", "list")
    assert out.split() == ["1", "keep"]


def test_ls_sorts_and_limits(capsys: pytest.CaptureFixture[str], db_url: str, tree: Path) -> None:
    run(capsys, "--db", db_url, "scan", "--no-hash", str(tree))
    code, out, _ = run(
        capsys, "--db", db_url, "ls", "--sort", "size", "--desc", "--limit", "2", "--json"
    )
    files = json.loads(out)["files"]
    assert code == 0 and [f["size"] for f in files] == [12, 12]
    assert all(f["hash"] is None for f in files)
    code, out, _ = run(capsys, "--db", db_url, "folders")
    assert str(tree) in out and "6 files" in out


def test_search_with_percent_is_literal(
    capsys: pytest.CaptureFixture[str], db_url: str, tmp_path: Path
) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "100% done.txt").write_text("x")
    (tmp_path / "d" / "1000 done.txt").write_text("y")
    run(capsys, "--db", db_url, "scan", str(tmp_path / "d"))
    code, out, _ = run(capsys, "--db", db_url, "search", "100%", "--json")
    assert code == 0
    assert [f["name"] for f in json.loads(out)["files"]] == ["100% done.txt"]


def test_malformed_query_is_a_failure_with_one_line(
    capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    code, out, err = run(capsys, "--db", db_url, "search", "(unclosed")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("filemeta: ")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--db", "not a url", "folders"], 2),
        (["--db", "mysql://x/y", "folders"], 2),
        (["--db", "postgresql://postgres@127.0.0.1:1/none", "folders"], 2),
        (["frobnicate"], 1),
        (["ls", "--limit", "many"], 1),
    ],
)
def test_bad_input_exit_codes(
    capsys: pytest.CaptureFixture[str], argv: list[str], expected: int
) -> None:
    code, _, err = run(capsys, *argv)
    assert code == expected
    assert err.count("\n") == 1 and err.startswith("filemeta: ")


def test_scan_of_a_missing_path_fails_cleanly(
    capsys: pytest.CaptureFixture[str], db_url: str, tmp_path: Path
) -> None:
    code, _, err = run(capsys, "--db", db_url, "scan", str(tmp_path / "missing"))
    assert code == 2 and "missing" in err and err.count("\n") == 1


def test_db_commands(capsys: pytest.CaptureFixture[str], empty_db_url: str) -> None:
    code, out, _ = run(capsys, "--db", empty_db_url, "db", "current")
    assert code == 0 and out.startswith("none")
    code, out, _ = run(capsys, "--db", empty_db_url, "db", "upgrade")
    assert code == 0 and "head" in out
    code, out, _ = run(capsys, "--db", empty_db_url, "db", "current")
    assert "up to date" in out
    code, out, _ = run(capsys, "--db", empty_db_url, "db", "downgrade", "base")
    assert code == 0 and "base" in out
    code, out, _ = run(capsys, "--db", empty_db_url, "db", "history")
    assert code == 0 and out.splitlines()[0].startswith("base -> 0001")


def test_console_script_runs_without_qt(tmp_path: Path) -> None:
    """The installed ``filemeta`` works and never imports Qt (scripts run headless)."""
    code = (
        "import sys; from filemeta_gui.cli import main; rc = main(sys.argv[1:]); "
        "assert 'PySide6' not in sys.modules, 'Qt imported'; sys.exit(rc)"
    )
    url = f"sqlite:///{tmp_path / 'lib.sqlite3'}"
    done = subprocess.run(
        [sys.executable, "-c", code, "--db", url, "folders"],
        capture_output=True,
        text=True,
        env={**os.environ},
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_a_reader_that_stops_early_ends_the_command_quietly(db_url: str, tmp_path: Path) -> None:
    """``filemeta ls | head -1``: the pipe closes while filemeta still writes; it stops
    with 141, as a C tool stopped by SIGPIPE, and no traceback."""
    for n in range(3000):
        (tmp_path / f"file_{n:04d}.txt").write_bytes(b"")
    main = "import sys; from filemeta_gui.cli import main; sys.exit(main(sys.argv[1:]))"
    command = [sys.executable, "-c", main, "--db", db_url]
    subprocess.run([*command, "scan", "--no-hash", str(tmp_path)], capture_output=True, check=True)
    listing = subprocess.Popen(
        [*command, "ls", "--limit", "3000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert listing.stdout is not None and listing.stderr is not None
    first = listing.stdout.readline()
    listing.stdout.close()  # the reader goes away, as head does
    errors = listing.stderr.read().decode()
    assert listing.wait(timeout=60) == 141, errors
    assert b"file_0000" in first
    assert "Traceback" not in errors and "Broken pipe" not in errors, errors


def test_metrics_prints_prometheus_text(capsys: pytest.CaptureFixture[str], db_url: str) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    code, out, _ = run(capsys, "--db", db_url, "metrics")
    assert code == 0
    families = {family.name: family for family in text_string_to_metric_families(out)}
    assert {"query_duration_seconds", "db_connections_active"} <= set(families)
    counts = [
        s.value for s in families["query_duration_seconds"].samples if s.name.endswith("_count")
    ]
    assert counts and counts[0] >= 2  # at least the count and the first page it ran

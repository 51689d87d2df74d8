"""The PostgreSQL change listener and the SQLite data_version watch, on real databases."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from filemeta_gui.db.engine import Database
from filemeta_gui.db.listener import ChangeListener, parse_payload
from filemeta_gui.db.sqlite_watch import SqliteWatch
from filemeta_gui.domain.changes import ChangeKind, ChangeOp, ConnectionState
from filemeta_gui.repositories import TagRepository
from tests.support.live import FeedRecorder, is_status, terminate_backends
from tests.support.tcp_proxy import TcpProxy

only_postgresql = pytest.mark.parametrize("backend", ["postgresql"])
only_sqlite = pytest.mark.parametrize("backend", ["sqlite"])


def test_payload_parsing() -> None:
    one = uuid.uuid4()
    event = parse_payload(
        json.dumps(
            {"table": "file_tags", "op": "DELETE", "ids": [str(one)], "count": 1, "who": "ann"}
        )
    )
    assert event is not None
    assert (event.kind, event.op, event.ids, event.who) == (
        ChangeKind.FILE_TAGS,
        ChangeOp.DELETE,
        (one,),
        "ann",
    )
    many = parse_payload('{"table": "files", "op": "INSERT", "ids": [], "many": true, "count": 9}')
    assert many is not None and many.many and many.count == 9 and many.ids == ()
    # A table a newer FileMeta notifies about, or garbage: skipped, never a crash.
    assert parse_payload('{"table": "albums", "op": "INSERT"}') is None
    assert parse_payload("not json") is None


async def _insert_tags(database: Database, *names: str) -> None:
    async with database.session(write=True) as session:
        await TagRepository(session).get_or_create(names)


@only_postgresql
async def test_one_notification_per_statement_with_bounded_ids(database: Database) -> None:
    async with FeedRecorder(ChangeListener.for_database(database).events()) as feed:
        await feed.connected()
        await _insert_tags(database, "a", "b", "c")
        three = await feed.change()
        assert (three.kind, three.op, three.count, three.many) == (
            ChangeKind.TAGS,
            ChangeOp.INSERT,
            3,
            False,
        )
        assert len(three.ids) == 3 and three.who == "postgres"

        # A rolled-back change sends nothing: the next message is the committed marker.
        with pytest.raises(RuntimeError):
            async with database.session(write=True) as session:
                await TagRepository(session).get_or_create(["rolled back"])
                raise RuntimeError("abandon")
        # 10,000 rows in one statement: one message, "many" with the count.
        async with database.session(write=True) as session:
            await session.execute(
                text(
                    "INSERT INTO tags (id, name, created_at) SELECT gen_random_uuid(), "
                    "'bulk ' || n, now() FROM generate_series(1, 10000) AS n"
                )
            )
        bulk = await feed.change()
        assert (bulk.kind, bulk.many, bulk.count, bulk.ids) == (ChangeKind.TAGS, True, 10_000, ())

        async with database.session(write=True) as session:
            await session.execute(text("DELETE FROM tags WHERE name LIKE 'bulk %'"))
        gone = await feed.change()
        assert (gone.op, gone.count) == (ChangeOp.DELETE, 10_000)
        # Nothing else was said in between: no per-row messages, no rolled-back ones.
        changes = [e for e in feed.events if not is_status(e, ConnectionState.CONNECTED)]
        assert len(changes) == 3


@only_postgresql
async def test_the_listener_reconnects_after_its_backend_is_terminated(
    database: Database, db_url: str
) -> None:
    async with FeedRecorder(ChangeListener.for_database(database).events()) as feed:
        await feed.connected()
        assert await terminate_backends(db_url) >= 1  # the listener's own backend at least
        lost = await feed.next()
        assert is_status(lost, ConnectionState.RECONNECTING)
        await feed.next(lambda e: is_status(e, ConnectionState.RECONNECTED))
        # The pool lost its connections too; the unit of work gets a fresh one.
        await _insert_tags(database, "after the restart")
        change = await feed.change()
        assert change.kind is ChangeKind.TAGS and change.count == 1


@only_postgresql
async def test_a_silent_network_drop_is_caught_by_the_keepalive(
    database: Database, pg_server: object
) -> None:
    """The network stops carrying packets but nothing closes: only a probe can tell."""
    async with TcpProxy(database.url.host or "127.0.0.1", database.url.port or 5432) as proxy:
        url = database.url.set(host="127.0.0.1", port=proxy.port)
        listener = ChangeListener(url, keepalive_s=0.5)
        async with FeedRecorder(listener.events()) as feed:
            await feed.connected()
            proxy.blackhole_existing()  # new connections still pass
            lost = await feed.next()
            assert is_status(lost, ConnectionState.RECONNECTING)
            assert "lost" in lost.message
            await feed.next(lambda e: is_status(e, ConnectionState.RECONNECTED))
            await _insert_tags(database, "through the new connection")
            assert (await feed.change()).kind is ChangeKind.TAGS


@only_sqlite
async def test_sqlite_watch_notices_another_process_writing(database: Database) -> None:
    path = database.sqlite_path
    assert path is not None
    watch = SqliteWatch(path, poll_s=0.05)
    async with FeedRecorder(watch.events()) as feed:
        await feed.connected()
        _write_from_another_process(path)
        change = await feed.change()
        assert change.kind is ChangeKind.LIBRARY and change.is_everything
        # And a connection of this process that is not the watch's own counts too.
        await _insert_tags(database, "from the app")
        assert (await feed.change()).kind is ChangeKind.LIBRARY


def _write_from_another_process(path: Path) -> None:
    script = (
        "import sqlite3, sys, uuid\n"
        "c = sqlite3.connect(sys.argv[1])\n"
        "c.execute(\"INSERT INTO tags (id, name, created_at) VALUES (?, 'cli', "
        "'2024-01-01 00:00:00.000000')\", (uuid.uuid4().hex,))\n"
        "c.commit()\n"
    )
    subprocess.run([sys.executable, "-c", script, str(path)], check=True, timeout=60)

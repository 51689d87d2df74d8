"""A server restart is a hiccup: in-flight work fails plainly, the pool and the listener
recover, idempotent work retries once, and nothing acknowledged is lost.

"Restart" here is ``pg_terminate_backend`` on every backend of the test's database (what a
restart does to the clients) so the cluster other engineers' tests share keeps running.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from filemeta_gui.db.engine import Database
from filemeta_gui.domain.changes import ChangeKind, ConnectionState
from filemeta_gui.domain.errors import ConnectionLostError
from filemeta_gui.domain.scan import ScanOptions
from filemeta_gui.repositories import TagRepository
from filemeta_gui.services.changes import ChangeFeed
from filemeta_gui.services.folders import FolderService
from filemeta_gui.services.indexer.hooks import ScanHooks
from filemeta_gui.services.indexer.scanner import scan_folder
from filemeta_gui.services.retry import retry_once
from filemeta_gui.services.tags import TagService
from tests.support.live import (
    WAIT_S,
    FeedRecorder,
    add_file,
    admin_policy,
    count,
    is_status,
    terminate_backends,
)
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.parametrize("backend", ["postgresql"])


async def _in_flight_when_killed(database: Database, db_url: str) -> BaseException:
    """Run a unit of work, terminate every backend while it holds its connection."""
    holding = asyncio.Event()

    async def unit_of_work() -> None:
        async with database.session(write=True) as session:
            await TagRepository(session).get_or_create([f"victim {uuid.uuid4()}"])
            holding.set()
            await session.execute(text("SELECT pg_sleep(30)"))

    task = asyncio.create_task(unit_of_work())
    await asyncio.wait_for(holding.wait(), WAIT_S)
    await terminate_backends(db_url)
    with pytest.raises(ConnectionLostError) as caught:
        await asyncio.wait_for(task, WAIT_S)
    return caught.value


async def test_work_in_flight_fails_plainly_and_the_pool_recovers(
    database: Database, db_url: str
) -> None:
    # Warm the pool: idle connections the restart will kill behind its back.
    async def ping() -> int:
        async with database.session() as session:
            return int((await session.execute(text("SELECT 1"))).scalar_one())

    assert await asyncio.gather(*(ping() for _ in range(5))) == [1] * 5

    error = await _in_flight_when_killed(database, db_url)
    message = str(error)
    assert message.startswith("The connection to the database"), message
    assert "try again" in message
    assert "Traceback" not in message and "asyncpg" not in message
    # Nothing of the killed unit of work was committed.
    assert await count(database, "SELECT count(*) FROM tags WHERE name LIKE 'victim %'") == 0
    # Every pooled connection is dead; pre-ping and invalidation replace them unseen.
    assert await asyncio.gather(*(ping() for _ in range(10))) == [1] * 10
    assert database.pool_status().checked_out == 0


async def test_retry_once_redoes_an_idempotent_unit_of_work(
    database: Database, db_url: str
) -> None:
    attempts = 0

    async def tag_it() -> int:
        nonlocal attempts
        attempts += 1
        async with database.session(write=True) as session:
            tags = await TagRepository(session).get_or_create(["kept"])
            if attempts == 1:
                await terminate_backends(db_url)  # the server goes away mid-transaction
            await session.execute(text("SELECT 1"))
            return len(tags)

    retried: list[ConnectionLostError] = []
    assert await retry_once(tag_it, on_retry=retried.append, delay_s=0) == 1
    assert attempts == 2 and len(retried) == 1
    assert await count(database, "SELECT count(*) FROM tags WHERE name = 'kept'") == 1


async def test_retry_once_gives_up_after_the_second_loss(database: Database, db_url: str) -> None:
    async def always_cut() -> None:
        async with database.session() as session:
            await session.execute(text("SELECT 1"))
            await terminate_backends(db_url)
            await session.execute(text("SELECT 1"))

    with pytest.raises(ConnectionLostError):
        await retry_once(always_cut, delay_s=0)


class _Workload:
    """Workers tag files through two clients; every acknowledged write is recorded."""

    def __init__(self, clients: list[TagService], files: list[uuid.UUID], ops: int) -> None:
        self.clients = clients
        self.files = files
        self.queue: asyncio.Queue[int] = asyncio.Queue()
        for op in range(ops):
            self.queue.put_nowait(op)
        self.acknowledged: set[tuple[str, uuid.UUID]] = set()
        self.retries = 0
        self.milestones: dict[int, asyncio.Event] = {}

    def milestone(self, acknowledged: int) -> asyncio.Event:
        return self.milestones.setdefault(acknowledged, asyncio.Event())

    async def worker(self) -> None:
        while not self.queue.empty():
            op = self.queue.get_nowait()
            name, file_id = f"w{op}", self.files[op % len(self.files)]
            tags = self.clients[op % len(self.clients)]
            await self._until_acknowledged(functools.partial(tags.attach, [name], [file_id]))
            self.acknowledged.add((name, file_id))
            for reached, event in self.milestones.items():
                if len(self.acknowledged) >= reached:
                    event.set()

    async def _until_acknowledged(self, work: Callable[[], Awaitable[int]]) -> None:
        for _ in range(5):  # retry_once twice more if a second kill lands on the retry
            try:
                await retry_once(work, on_retry=self._count_retry, delay_s=0.05)
                return
            except ConnectionLostError:
                self.retries += 1
        raise AssertionError("a write never got through")

    def _count_retry(self, _error: ConnectionLostError) -> None:
        self.retries += 1


async def test_a_workload_survives_repeated_restarts_and_loses_nothing(
    database: Database, db_url: str
) -> None:
    second = await Database.open(db_url)
    try:
        policy = await admin_policy(database)
        files = [await add_file(database, f"/work/{n}.txt") for n in range(4)]
        clients = [TagService(database, policy), TagService(second, policy)]
        workload = _Workload(clients, files, ops=120)
        kills = [workload.milestone(n) for n in (30, 60, 90)]
        async with FeedRecorder(ChangeFeed(second, policy)) as feed:
            await feed.connected()
            workers = [asyncio.create_task(workload.worker()) for _ in range(8)]
            for reached in kills:
                await asyncio.wait_for(reached.wait(), WAIT_S * 3)
                # In-flight work at the moment of the "restart" fails with a plain error.
                assert isinstance(
                    await _in_flight_when_killed(database, db_url), ConnectionLostError
                )
            await asyncio.wait_for(asyncio.gather(*workers), WAIT_S * 6)

            stored = await _links(database)
            assert workload.acknowledged <= stored  # every acknowledged write is there
            assert len(workload.acknowledged) == 120
            # The listener went down with the rest and came back; it hears new changes.
            await feed.next(lambda e: is_status(e, ConnectionState.RECONNECTED))
            await clients[0].attach(["after the storm"], files[:1])
            (tag,) = [t for t in await clients[0].list() if t.name == "after the storm"]
            await feed.change(lambda e: e.kind is ChangeKind.TAGS and tag.id in e.ids)
        assert ConnectionState.RECONNECTING in feed.statuses()
    finally:
        await second.dispose()


async def _links(database: Database) -> set[tuple[str, uuid.UUID]]:
    async with database.session() as session:
        rows = await session.execute(
            text("SELECT t.name, ft.file_id FROM file_tags ft JOIN tags t ON t.id = ft.tag_id")
        )
        return {(name, uuid.UUID(str(file_id))) for name, file_id in rows}


async def test_a_scan_cut_off_by_a_restart_resumes_on_the_next_scan(
    database: Database, db_url: str, tmp_path: Path
) -> None:
    """End to end: a teammate watches while the server "restarts" in the middle of a scan;
    the next scan finishes the job and the teammate hears about it."""
    root = tmp_path / "tree"
    for n in range(300):
        (root / f"d{n % 3}").mkdir(parents=True, exist_ok=True)
        (root / f"d{n % 3}" / f"f{n:03}.txt").write_text(f"file {n}")
    policy = await admin_policy(database)
    folders = FolderService(database, policy)
    folder = await folders.add(str(root))
    options = ScanOptions(batch_size=50)

    async def restart_in_third_write(session: AsyncSession, number: int) -> None:
        if number == 3:
            await session.execute(text("SELECT 1"))  # this write now holds its connection
            await terminate_backends(db_url)

    teammate = await Database.open(db_url)
    try:
        async with FeedRecorder(ChangeFeed(teammate, policy)) as feed:
            await feed.connected()
            with pytest.raises(ConnectionLostError):
                hooks = ScanHooks(in_write=restart_in_third_write)
                async for _progress in scan_folder(database, folder.id, options, hooks=hooks):
                    pass
            committed = await count(database, "SELECT count(*) FROM files")
            assert committed == 100  # two batches committed, the third rolled back
            await feed.next(lambda e: is_status(e, ConnectionState.RECONNECTED))

            progress = [p async for p in folders.scan(folder.id, options)]
            assert progress[-1].done and not progress[-1].cancelled
            assert progress[-1].new == 300 - committed
            await feed.change(lambda e: e.kind is ChangeKind.FILES)
        hashed = "SELECT count(*) FROM files WHERE hash_value IS NOT NULL AND deleted_at IS NULL"
        assert await count(database, hashed) == 300
        assert await count(database, "SELECT count(DISTINCT file_path) FROM files") == 300
    finally:
        await teammate.dispose()


async def test_a_server_that_went_away_is_a_lost_connection_until_it_is_back(
    database: Database,
) -> None:
    """Once reached, a server that refuses connections is "lost, will come back" (the
    window's banner retries) rather than "wrong address" (a dialog for every action)."""
    async with TcpProxy(database.url.host or "127.0.0.1", database.url.port or 5432) as proxy:
        url = database.url.set(host="127.0.0.1", port=proxy.port)
        client = await Database.open(url.render_as_string(hide_password=False), upgrade=False)
        try:
            await client.ping()
            await proxy.cut()  # open connections closed, new ones refused
            for _ in range(2):  # the pooled connection, then a fresh one: both refused
                with pytest.raises(ConnectionLostError) as caught:
                    await client.ping()
                message = str(caught.value)
                assert message.startswith(f"The connection to the database {url.database!r}")
                assert "nothing answers" in message, message
            await proxy.restore()
            await client.ping()
        finally:
            await client.dispose()

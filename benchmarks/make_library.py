"""Build a 1,000,000-file library on SQLite and PostgreSQL through each one's fastest bulk path.

    python benchmarks/make_library.py --workdir /tmp/fm_bench
    python benchmarks/make_library.py --files 100000 --backends sqlite --workdir /tmp/x

Rows are synthetic (``synthetic_library.py``: realistic names, folders, sizes, ~10%
duplicate hashes, ~240 tags in a tree on ~30% of the files). The schema is made by the
app's own migrations (``Database.open``); then, like the indexer's bulk path but with
nothing else to do:

* SQLite: the FTS triggers and the secondary indexes are dropped, the rows go in with
  ``executemany`` in transactions of 100k rows (``synchronous=OFF`` for the load only), then
  the indexes and the FTS table are built once.
* PostgreSQL: the secondary and trigram indexes are dropped, the rows go in with COPY
  (``asyncpg``'s ``copy_records_to_table`` on the raw connection; triggers skipped with
  ``session_replication_role = replica``: no change notifications for a load nobody
  watches), then the indexes are built and the table vacuumed and analysed.

The library is left in place for ``bench_million.py``: a SQLite file ``library-1m.sqlite3``
in ``--workdir`` and a PostgreSQL database ``--pg-db`` (with the ``<db>_owner/_admin/
_guest/_definer`` roles migration 0004 creates). ``--drop`` removes the database and
those roles. Each phase is timed and printed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
from sqlalchemy import create_engine
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.schema import CreateIndex

from benchmarks.synthetic_library import (
    FILE_COLUMNS,
    HOME,
    ROOTS,
    LibraryGenerator,
    LibrarySpec,
)
from filemeta_gui.db.engine import Database
from filemeta_gui.db.models import File
from filemeta_gui.db.schema_filter import made_on
from filemeta_gui.db.search_index import (
    TRGM_INDEXES,
    rebuild_search_index_sync,
    suspend_search_index_sync,
    trgm_index_sql,
)

DEFAULT_PG = "postgresql://postgres@127.0.0.1/postgres"
DEFAULT_PG_DB = "filemeta_bench_1m"
SQLITE_NAME = "library-{label}.sqlite3"
SQLITE_TRANSACTION_ROWS = 100_000
ROLE_KINDS = ("owner", "admin", "guest", "definer")
# Every index the models declare on files (the primary key and unique file_path are
# constraints, not in this list): dropped for the load, built once after it.
SECONDARY_INDEXES = tuple(sorted(File.__table__.indexes, key=lambda index: str(index.name)))


@contextmanager
def phase(name: str, timings: dict[str, float]) -> Iterator[None]:
    started = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - started
    print(f"  {name}: {timings[name]:.1f} s", flush=True)


def label(files: int) -> str:
    return f"{files // 1_000_000}m" if files % 1_000_000 == 0 else f"{files // 1000}k"


def sqlite_path(workdir: Path, files: int) -> Path:
    return workdir / SQLITE_NAME.format(label=label(files))


# --- SQLite ------------------------------------------------------------------------------


def _sqlite_converter() -> Any:
    from sqlalchemy.dialects import sqlite

    dialect = sqlite.dialect()
    table = File.__table__
    uuid_bind = table.c.id.type.dialect_impl(dialect).bind_processor(dialect)
    time_bind = table.c.upload_time.type.dialect_impl(dialect).bind_processor(dialect)
    kinds = [
        uuid_bind if name in ("id", "folder_id") else time_bind if name.endswith(("_at", "_time"))
        else None
        for name in FILE_COLUMNS
    ]  # fmt: skip

    def convert(row: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(
            value if bind is None or value is None else bind(value)
            for value, bind in zip(row, kinds, strict=True)
        )

    return convert, uuid_bind, time_bind


async def build_sqlite(path: Path, spec: LibrarySpec) -> dict[str, float]:
    timings: dict[str, float] = {}
    url = f"sqlite:///{path}"
    with phase("migrate (empty schema)", timings):
        database = await Database.open(url)
        await database.dispose()
    engine = create_engine(url)
    generator = LibraryGenerator(spec)
    convert, uuid_bind, time_bind = _sqlite_converter()
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA synchronous=OFF")
            connection.commit()
            with phase("drop search triggers and secondary indexes", timings), connection.begin():
                suspend_search_index_sync(connection)
                _drop_secondary(connection)
            with phase(f"insert {spec.files:,} files + tags (executemany)", timings):
                _sqlite_reference_rows(connection, generator, uuid_bind, time_bind)
                _sqlite_files(connection, generator, convert)
                _sqlite_links(connection, generator, uuid_bind, time_bind)
            with phase("build secondary indexes", timings), connection.begin():
                for index in SECONDARY_INDEXES:
                    index.create(connection, checkfirst=True)
            with phase("build FTS5 trigram index", timings), connection.begin():
                rebuild_search_index_sync(connection)
    finally:
        engine.dispose()
    return timings


def _drop_secondary(connection: Connection) -> None:
    for index in SECONDARY_INDEXES:
        connection.exec_driver_sql(f"DROP INDEX IF EXISTS {index.name}")


def _sqlite_files(connection: Connection, generator: LibraryGenerator, convert: Any) -> None:
    names = ", ".join(FILE_COLUMNS)
    sql = f"INSERT INTO files ({names}) VALUES ({', '.join('?' * len(FILE_COLUMNS))})"
    pending = 0
    transaction = connection.begin()
    for batch in generator.batches():
        connection.exec_driver_sql(sql, [convert(row) for row in batch])
        pending += len(batch)
        if pending >= SQLITE_TRANSACTION_ROWS:
            transaction.commit()
            transaction, pending = connection.begin(), 0
    transaction.commit()


def _sqlite_reference_rows(
    connection: Connection, generator: LibraryGenerator, uuid_bind: Any, time_bind: Any
) -> None:
    now = time_bind(datetime.now(UTC))
    with connection.begin():
        connection.exec_driver_sql(
            "INSERT INTO folders (id, path, added_at, follow_symlinks, excludes) "
            "VALUES (?, ?, ?, 0, '')",
            [(uuid_bind(fid), f"{HOME}/{root}", now) for root, fid in generator.folders.items()],
        )
        connection.exec_driver_sql(
            "INSERT INTO tags (id, name, parent_id, created_at) VALUES (?, ?, ?, ?)",
            [
                (uuid_bind(t.id), t.name, t.parent_id and uuid_bind(t.parent_id), now)
                for t in generator.tags
            ],
        )


def _sqlite_links(
    connection: Connection, generator: LibraryGenerator, uuid_bind: Any, time_bind: Any
) -> None:
    now = time_bind(datetime.now(UTC))
    with connection.begin():
        connection.exec_driver_sql(
            "INSERT INTO file_tags (file_id, tag_id, tagged_at) VALUES (?, ?, ?)",
            [(uuid_bind(f), uuid_bind(t), now) for f, t in generator.tag_links()],
        )


# --- PostgreSQL ---------------------------------------------------------------------------


def pg_url(server_url: str, database: str) -> str:
    return make_url(server_url).set(database=database).render_as_string(hide_password=False)


def _plain(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def drop_pg(server_url: str, database: str) -> None:
    """Drop the benchmark database and the roles migration 0004 made for it."""
    connection = await asyncpg.connect(_plain(server_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        for kind in ROLE_KINDS:
            role = f"{database}_{kind}"
            try:
                await connection.execute(f'DROP ROLE IF EXISTS "{role}"')
            except asyncpg.DependentObjectsStillExistError as error:
                # A copy of the library (CREATE DATABASE ... TEMPLATE) shares its roles.
                print(f"  kept role {role}: {error.detail or error}", flush=True)
    finally:
        await connection.close()


async def build_pg(server_url: str, database: str, spec: LibrarySpec) -> dict[str, float]:
    timings: dict[str, float] = {}
    await drop_pg(server_url, database)
    admin = await asyncpg.connect(_plain(server_url))
    try:
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    url = pg_url(server_url, database)
    with phase("migrate (empty schema)", timings):
        db = await Database.open(url)
        await db.dispose()
    raw = await asyncpg.connect(_plain(url))
    generator = LibraryGenerator(spec)
    try:
        with phase("drop trigram and secondary indexes", timings):
            for name in [*TRGM_INDEXES, *(str(i.name) for i in SECONDARY_INDEXES)]:
                await raw.execute(f"DROP INDEX IF EXISTS {name}")
        with phase(f"COPY {spec.files:,} files + tags", timings):
            await _pg_copy(raw, generator)
        await raw.execute("SET maintenance_work_mem = '512MB'")
        with phase("build secondary indexes", timings):
            for index in SECONDARY_INDEXES:
                if made_on(index, "postgresql"):  # not SQLite's name index with the path
                    ddl = CreateIndex(index).compile(dialect=postgresql.dialect())
                    await raw.execute(str(ddl))
        with phase("build trigram indexes + VACUUM ANALYZE", timings):
            await raw.execute("SET maintenance_work_mem = '512MB'")
            await _pg_search_index(raw)
    finally:
        await raw.close()
    return timings


async def _pg_copy(raw: asyncpg.Connection, generator: LibraryGenerator) -> None:
    now = datetime.now(UTC)
    async with raw.transaction():
        await raw.execute("SET LOCAL session_replication_role = replica")
        folders = [(i, f"{HOME}/{root}", now, False, "") for root, i in generator.folders.items()]
        await raw.copy_records_to_table(
            "folders", records=folders,
            columns=("id", "path", "added_at", "follow_symlinks", "excludes"),
        )  # fmt: skip
        tags = [(t.id, t.name, t.parent_id, now) for t in generator.tags]
        await raw.copy_records_to_table(
            "tags", records=tags, columns=("id", "name", "parent_id", "created_at")
        )
        for batch in generator.batches():
            await raw.copy_records_to_table("files", records=batch, columns=FILE_COLUMNS)
        links = [(f, t, now) for f, t in generator.tag_links()]
        await raw.copy_records_to_table(
            "file_tags", records=links, columns=("file_id", "tag_id", "tagged_at")
        )


async def _pg_search_index(raw: asyncpg.Connection) -> None:
    # The statements rebuild_search_index_sync runs (it needs a sync connection, and the
    # project has no sync PostgreSQL driver).
    await raw.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in TRGM_INDEXES.items():
        await raw.execute(trgm_index_sql(name, column))
    # ANALYZE is what the app's bulk path runs; VACUUM sets the visibility map that
    # index-only scans need, which autovacuum would do on its own a little later.
    await raw.execute("VACUUM (ANALYZE)")


# --- main ---------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/fm_bench"))
    parser.add_argument("--pg-url", default=DEFAULT_PG, help="server to create the database on")
    parser.add_argument("--pg-db", default=DEFAULT_PG_DB)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--force", action="store_true", help="rebuild what exists")
    parser.add_argument("--drop", action="store_true", help="drop the PostgreSQL library, roles")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> int:
    if args.drop:
        await drop_pg(args.pg_url, args.pg_db)
        print(f"dropped {args.pg_db} and its roles (but those kept above)")
        return 0
    spec = LibrarySpec(files=args.files, seed=args.seed)
    backends = args.backends.split(",")
    args.workdir.mkdir(parents=True, exist_ok=True)
    if "sqlite" in backends:
        path = sqlite_path(args.workdir, args.files)
        if path.exists() and not args.force:
            print(f"{path} exists (--force rebuilds it)")
        else:
            for stale in args.workdir.glob(path.name + "*"):
                stale.unlink()
            _report("SQLite", path.name, spec, await build_sqlite(path, spec))
    if "postgresql" in backends:
        _report("PostgreSQL", args.pg_db, spec, await build_pg(args.pg_url, args.pg_db, spec))
    return 0


def _report(backend: str, where: str, spec: LibrarySpec, timings: dict[str, float]) -> None:
    total = sum(timings.values())
    print(f"{backend}: {spec.files:,} files into {where} in {total:.1f} s "
          f"({spec.files / total:,.0f} files/s)", flush=True)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    print(f"roots: {', '.join(ROOTS)}")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())

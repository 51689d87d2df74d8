"""``BaseRepository``: the CRUD every table needs, plus helpers shared by the repositories.

Repositories take an ``AsyncSession`` and never commit: the caller's unit of work
(``Database.session()``) decides. Writes are flushed at once, so a broken rule of the data
surfaces inside that unit of work, which then rolls back as a whole.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Result,
    Select,
    Uuid,
    any_,
    bindparam,
    column,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.orm.interfaces import ORMOption

from filemeta_gui.db.models import Base
from filemeta_gui.domain.errors import NotFoundError, ValidationError

ModelT = TypeVar("ModelT", bound=Base)
T = TypeVar("T")

# SQLite (32766) and asyncpg (32767) cap the bind parameters of one statement; id lists
# and multi-row VALUES are cut into chunks that stay well below both.
MAX_PARAMETERS = 30_000
ID_CHUNK = 5_000

UpsertInsert = postgresql.Insert | sqlite.Insert


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of at most ``size`` items."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def among_ids(
    id_column: InstrumentedAttribute[uuid.UUID], ids: Sequence[uuid.UUID], dialect: str
) -> ColumnElement[bool]:
    """``id_column IN ids`` with the ids as one bind parameter, however many there are:
    PostgreSQL's ``= ANY(uuid[])``, SQLite's ``IN (SELECT value FROM json_each(...))``
    (UUIDs are stored there as 32 hex digits). For a page's 200 ids, ``IN (?, ?, ...)``
    cost ~2 ms more a query: rendering and binding each parameter."""
    if dialect == "postgresql":
        array = bindparam(None, list(ids), type_=postgresql.ARRAY(Uuid()))
        return id_column == any_(array)
    return id_column.in_(json_values(json.dumps([file_id.hex for file_id in ids])))


def json_values(array: Any) -> Select[Any]:
    """SQLite: the values of a JSON array (text or an expression) as a one-column select,
    for ``IN``: a whole list of values in one bind parameter."""
    return select(column("value")).select_from(func.json_each(array))


def unique_ids(ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    """The ids once each, in their first order (duplicates would only waste parameters)."""
    return list(dict.fromkeys(ids))


def rowcount(result: Result[Any]) -> int:
    """Rows touched by an INSERT/UPDATE/DELETE (``session.execute`` hides the cursor type)."""
    return max(cast(CursorResult[Any], result).rowcount, 0)


def dialect_name(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def upsert_insert(session: AsyncSession, model: type[Base]) -> UpsertInsert:
    """The dialect's ``INSERT`` that knows ``ON CONFLICT`` (SQLite and PostgreSQL only)."""
    if dialect_name(session) == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


class BaseRepository(Generic[ModelT]):
    """Generic CRUD over one mapped class; subclasses set ``model`` (and ``noun``)."""

    model: type[ModelT]
    noun = "record"
    """What a row is called in messages ("No file with id ...")."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _pk(self) -> ColumnElement[uuid.UUID]:
        return cast(ColumnElement[uuid.UUID], sa_inspect(self.model).primary_key[0])

    def _check_columns(self, names: Iterable[str]) -> None:
        known = set(sa_inspect(self.model).column_attrs.keys())
        unknown = sorted(set(names) - known)
        if unknown:
            raise ValidationError(f"A {self.noun} has no field {', '.join(unknown)}.")

    async def create(self, **values: Any) -> ModelT:
        self._check_columns(values)
        row = self.model(**values)
        self.session.add(row)
        await self.session.flush()
        return row

    async def get(self, id_: uuid.UUID, *options: ORMOption) -> ModelT | None:
        """The row, or None. ``options`` (e.g. ``selectinload``) re-load it if already seen."""
        return await self.session.get(
            self.model, id_, options=options or None, populate_existing=bool(options)
        )

    async def require(self, id_: uuid.UUID, *options: ORMOption) -> ModelT:
        """Like :meth:`get`, but a missing row raises ``NotFoundError``."""
        row = await self.get(id_, *options)
        if row is None:
            raise NotFoundError(f"No {self.noun} with id {id_} exists (it may have been removed).")
        return row

    async def update(self, id_: uuid.UUID, **values: Any) -> ModelT:
        self._check_columns(values)
        row = await self.require(id_)
        for name, value in values.items():
            setattr(row, name, value)
        await self.session.flush()
        return row

    async def delete(self, id_: uuid.UUID) -> bool:
        """Delete one row; children go with it through ON DELETE CASCADE in the database."""
        result = await self.session.execute(delete(self.model).where(self._pk == id_))
        return rowcount(result) > 0

    async def count(self, *where: ColumnElement[bool]) -> int:
        query = select(func.count()).select_from(self.model).where(*where)
        return int((await self.session.execute(query)).scalar_one())

    async def exists(self, *where: ColumnElement[bool]) -> bool:
        query = select(self._pk).where(*where).limit(1)
        return (await self.session.execute(query)).first() is not None

    async def find_by(self, **equals: Any) -> list[ModelT]:
        self._check_columns(equals)
        query = select(self.model).filter_by(**equals).order_by(self._pk)
        return list((await self.session.scalars(query)).all())

    async def bulk_create(self, rows: Sequence[Mapping[str, Any]]) -> list[ModelT]:
        """Insert many rows in multi-row statements (SQLAlchemy's "insertmanyvalues")."""
        if not rows:
            return []
        self._check_columns({name for row in rows for name in row})
        query = insert(self.model).returning(self.model, sort_by_parameter_order=True)
        return list((await self.session.scalars(query, [dict(row) for row in rows])).all())

    async def bulk_update(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """Update many rows by primary key; each mapping carries ``id`` and the new values.

        Rows already loaded in this session keep their old attribute values.
        """
        if not rows:
            return 0
        self._check_columns({name for row in rows for name in row})
        await self.session.execute(update(self.model), [dict(row) for row in rows])
        return len(rows)

    async def bulk_delete(self, ids: Iterable[uuid.UUID]) -> int:
        deleted = 0
        for batch in chunked(unique_ids(ids), ID_CHUNK):
            result = await self.session.execute(delete(self.model).where(self._pk.in_(batch)))
            deleted += rowcount(result)
        return deleted

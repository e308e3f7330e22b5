"""How the queries run their prebuilt ``SELECT`` statements (docs/decisions/0027), and a unit of
work its prebuilt ``INSERT`` statements (docs/decisions/0053).

``ConnectionReader`` runs them through SQLAlchemy's ``AsyncConnection``: SQLite's path.

``AsyncpgReader`` is PostgreSQL's: the same Core statement, compiled
once for the asyncpg dialect, sent straight to the pooled asyncpg connection. No transaction
(asyncpg runs a lone statement in autocommit; under READ COMMITTED each statement sees its own
snapshot either way), no execution context, no result proxy: on a two-query request this was
most of the CPU SQLAlchemy spent. Rows come back as ``asyncpg.Record``, which indexes like a
``Row``; the repositories read columns by position. An integrity violation leaves as SQLAlchemy's
``IntegrityError`` (the driver's error as its ``orig``), as it does through SQLAlchemy, so the
repositories translate both paths' alike. Each value goes through its column type's bind
processor (JSON's serialises it) as SQLAlchemy would do; rows come back unprocessed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

import asyncpg
from sqlalchemy import Insert, Select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from application.errors import StorageUnavailable

# The connection itself failed: it goes back to the pool invalidated, the caller sees a 503.
# InternalClientError ("cannot switch to state 12; another operation (2) is in progress") is what
# a pooled connection says when the server's shutdown notice reached it while it sat idle: its
# protocol state is broken, whatever the server does next (found by the outage test).
CONNECTION_FAILURES = (
    asyncpg.exceptions.InterfaceError,  # incl. ConnectionDoesNotExistError
    asyncpg.exceptions.InternalClientError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
    OSError,
    TimeoutError,
)


# A prebuilt SELECT, or an INSERT ... RETURNING of a unit of work.
Statement = Select[Any] | Insert


class Reader(Protocol):
    async def one(
        self, statement: Statement, parameters: Mapping[str, Any]
    ) -> Sequence[Any] | None: ...

    async def all(
        self, statement: Statement, parameters: Mapping[str, Any]
    ) -> Sequence[Sequence[Any]]: ...


class ConnectionReader:
    """Statements through SQLAlchemy. A read that had to begin a transaction ends it: on SQLite
    every transaction takes the write lock (``BEGIN IMMEDIATE``, see engine.py), which a read
    that shares its connection with the rest of a request must not keep. In a unit of work
    (``in_transaction=True``) the transaction is the unit of work's to end."""

    def __init__(self, connection: AsyncConnection, *, in_transaction: bool = False) -> None:
        self._connection = connection
        self._in_transaction = in_transaction

    async def one(
        self, statement: Statement, parameters: Mapping[str, Any]
    ) -> Sequence[Any] | None:
        began = not self._in_transaction and not self._connection.in_transaction()
        row: Sequence[Any] | None = (await self._connection.execute(statement, parameters)).first()
        if began:
            await self._connection.rollback()
        return row

    async def all(
        self, statement: Statement, parameters: Mapping[str, Any]
    ) -> Sequence[Sequence[Any]]:
        began = not self._in_transaction and not self._connection.in_transaction()
        rows: Sequence[Sequence[Any]] = (
            await self._connection.execute(statement, parameters)
        ).all()
        if began:
            await self._connection.rollback()
        return rows


# A statement's SQL for the asyncpg dialect, its parameters' names in order, and each one's bind
# processor (the column type's own: JSON's serialises; most types have none).
_Compiled = tuple[str, tuple[str, ...], tuple[Callable[[Any], Any] | None, ...] | None]
_COMPILED: dict[Statement, _Compiled] = {}


class AsyncpgReader:
    """Reads on a pooled asyncpg connection that ``on_failure`` invalidates if it breaks."""

    def __init__(
        self, driver: asyncpg.Connection, dialect: Dialect, on_failure: Callable[[], None]
    ) -> None:
        self._driver = driver
        self._dialect = dialect
        self._on_failure = on_failure

    def _sql(self, statement: Statement, parameters: Mapping[str, Any]) -> tuple[str, list[Any]]:
        compiled = _COMPILED.get(statement)
        if compiled is None:
            sql = statement.compile(dialect=self._dialect)
            names = tuple(sql.positiontup or ())
            processors = tuple(sql.binds[name].type.bind_processor(self._dialect) for name in names)
            compiled = _COMPILED[statement] = (
                sql.string,
                names,
                processors if any(processors) else None,
            )
        text, names, processing = compiled
        if processing is None:
            return text, [parameters[name] for name in names]
        return text, [
            parameters[name] if process is None else process(parameters[name])
            for name, process in zip(names, processing, strict=True)
        ]

    async def one(
        self, statement: Statement, parameters: Mapping[str, Any]
    ) -> Sequence[Any] | None:
        text, arguments = self._sql(statement, parameters)
        with self._guarded():
            row: Sequence[Any] | None = await self._driver.fetchrow(text, *arguments)
        return row

    async def all(
        self, statement: Statement, parameters: Mapping[str, Any]
    ) -> Sequence[Sequence[Any]]:
        text, arguments = self._sql(statement, parameters)
        with self._guarded():
            rows: Sequence[Sequence[Any]] = await self._driver.fetch(text, *arguments)
        return rows

    @contextmanager
    def _guarded(self) -> Iterator[None]:
        """A server-side error (``PostgresError``) leaves the connection usable: asyncpg has read
        up to ReadyForQuery before raising it. Anything else during a statement (a broken
        connection, a timeout, the request's task cancelled half-way) leaves it in an unknown
        protocol state, so it must not go back to the pool as it is."""
        try:
            yield
        except CONNECTION_FAILURES as error:
            self._on_failure()
            raise StorageUnavailable from error
        except asyncpg.IntegrityConstraintViolationError as error:
            raise IntegrityError(None, None, error) from error
        except asyncpg.PostgresError:
            raise
        except BaseException:
            self._on_failure()
            raise

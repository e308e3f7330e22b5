"""The SQLAlchemy unit of work: one pooled ``AsyncConnection`` and one transaction."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.engine.interfaces import PoolProxiedConnection
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.util import greenlet_spawn

from adapters.sqlalchemy.account_tokens import SqlAlchemyAccountTokenRepository
from adapters.sqlalchemy.outbox import SqlAlchemyOutbox
from adapters.sqlalchemy.readers import CONNECTION_FAILURES, AsyncpgReader
from adapters.sqlalchemy.refresh_tokens import SqlAlchemyRefreshTokenRepository
from adapters.sqlalchemy.repositories import SqlAlchemyItemRepository, SqlAlchemyUserRepository
from application.errors import StorageUnavailable

# What "the database is not there" looks like from below: refused or dropped connections,
# a pool that hands out nothing in time, the server shutting down.
_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeoutError, OSError, TimeoutError)
# SQLSTATEs of a server that is going away or not back yet, which asyncpg raises as plain
# errors: class 08 (connection exception), admin/crash shutdown, "the database system is
# starting up / shutting down" (57P03), too many connections.
_UNAVAILABLE_SQLSTATES = {"57P01", "57P02", "57P03", "53300"}


def _is_unavailable(error: BaseException) -> bool:
    """Whether ``error``, or an error it wraps, says the database is not there.

    SQLAlchemy wraps driver errors in ``DBAPIError`` on a ``Connection``; a raw pool checkout
    (``engine.raw_connection()``) raises the driver's own error, so the chain is searched for a
    SQLSTATE or a known connection failure either way.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, _UNAVAILABLE + CONNECTION_FAILURES):
            return True
        sqlstate = getattr(current, "sqlstate", None) or ""
        if sqlstate.startswith("08") or sqlstate in _UNAVAILABLE_SQLSTATES:
            return True
        current = getattr(current, "orig", None) or current.__cause__
    return False


class SqlAlchemyUnitOfWork:
    """Connection-level Core rather than an ORM ``AsyncSession``: the repositories map rows to
    dataclasses themselves, so an identity map and unit-of-work flushes would be pure cost.

    The transaction begins on the first statement (SQLAlchemy's autobegin) and is rolled back on
    leaving the block unless ``commit()`` was called; the connection returns to the pool.

    ``read_only=True`` is for use cases that only read (docs/decisions/0025): writes and
    ``commit()`` are refused. On PostgreSQL it checks a raw asyncpg connection out of the same
    pool and reads on it directly (``AsyncpgReader``): no BEGIN and no ROLLBACK round trip
    (under READ COMMITTED each statement sees its own snapshot either way) and none of
    SQLAlchemy's per-statement machinery. On SQLite, where a transaction costs no round trip,
    it behaves like the default.
    """

    users: SqlAlchemyUserRepository
    items: SqlAlchemyItemRepository
    refresh_tokens: SqlAlchemyRefreshTokenRepository
    outbox: SqlAlchemyOutbox
    account_tokens: SqlAlchemyAccountTokenRepository

    def __init__(self, engine: AsyncEngine, *, read_only: bool = False) -> None:
        self._engine = engine
        self._read_only = read_only
        self._raw_reads = read_only and engine.dialect.driver == "asyncpg"
        self._connection: AsyncConnection | None = None
        self._raw: PoolProxiedConnection | None = None
        self._raw_broken = False

    async def __aenter__(self) -> Self:
        if self._raw_reads:
            return await self._enter_raw()
        try:
            self._connection = await self._engine.connect()
        except Exception as error:
            if _is_unavailable(error):
                raise StorageUnavailable from error
            raise
        self.users = SqlAlchemyUserRepository(self._connection)
        self.items = SqlAlchemyItemRepository(self._connection)
        self.refresh_tokens = SqlAlchemyRefreshTokenRepository(self._connection)
        self.outbox = SqlAlchemyOutbox(self._connection)
        self.account_tokens = SqlAlchemyAccountTokenRepository(self._connection)
        return self

    async def _enter_raw(self) -> Self:
        try:
            raw = self._raw = await self._engine.raw_connection()
        except Exception as error:
            if _is_unavailable(error):
                raise StorageUnavailable from error
            raise
        self._raw_broken = False
        reader = AsyncpgReader(raw.driver_connection, self._engine.dialect, self._mark_broken)
        self.users = SqlAlchemyUserRepository(None, reader)
        self.items = SqlAlchemyItemRepository(None, reader)
        return self

    def _mark_broken(self) -> None:
        self._raw_broken = True

    async def _exit_raw(self, exc: BaseException | None) -> None:
        raw, self._raw = self._raw, None
        if raw is None:
            return
        broken = self._raw_broken or isinstance(exc, CONNECTION_FAILURES)

        def give_back() -> None:
            if broken:
                raw.invalidate(exc if isinstance(exc, Exception) else None)
            raw.close()

        # Inside SQLAlchemy's greenlet: a connection the pool does not keep (an overflow one, an
        # invalidated one) is really closed, and closing an asyncpg connection awaits IO.
        await greenlet_spawn(give_back)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._raw_reads:
            await self._exit_raw(exc)
            return
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            try:
                if connection.in_transaction():
                    await connection.rollback()
            finally:
                await connection.close()
        except Exception as cleanup_error:
            # With an error already in flight, that one is the one to report; the pool drops
            # the broken connection on its own.
            if exc is None:
                if _is_unavailable(cleanup_error):
                    raise StorageUnavailable from cleanup_error
                raise
        if exc is not None and _is_unavailable(exc):
            raise StorageUnavailable from exc

    async def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("commit() on a read-only unit of work")
        if self._connection is None:
            raise RuntimeError("commit() outside 'async with uow'")
        await self._connection.commit()

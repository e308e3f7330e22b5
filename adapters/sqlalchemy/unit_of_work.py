"""The SQLAlchemy unit of work: one pooled ``AsyncConnection`` and one transaction."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.sqlalchemy.repositories import SqlAlchemyItemRepository, SqlAlchemyUserRepository
from application.errors import StorageUnavailable

# What "the database is not there" looks like from below: refused or dropped connections,
# a pool that hands out nothing in time, the server shutting down.
_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeoutError, OSError, TimeoutError)


def _is_unavailable(error: BaseException) -> bool:
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, _UNAVAILABLE)


class SqlAlchemyUnitOfWork:
    """Connection-level Core rather than an ORM ``AsyncSession``: the repositories map rows to
    dataclasses themselves, so an identity map and unit-of-work flushes would be pure cost.

    The transaction begins on the first statement (SQLAlchemy's autobegin) and is rolled back on
    leaving the block unless ``commit()`` was called; the connection returns to the pool.

    ``read_only=True`` is for use cases that only read: on PostgreSQL the connection runs in
    autocommit, so there is no BEGIN and no ROLLBACK round trip around the reads (under READ
    COMMITTED each statement sees its own snapshot either way), and ``commit()`` is refused. On
    SQLite, where a transaction costs no round trip, it behaves like the default.
    """

    users: SqlAlchemyUserRepository
    items: SqlAlchemyItemRepository

    def __init__(self, engine: AsyncEngine, *, read_only: bool = False) -> None:
        self._engine = engine
        self._read_only = read_only
        self._autocommit = read_only and engine.dialect.name == "postgresql"
        self._connection: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        try:
            self._connection = await self._engine.connect()
            if self._autocommit:
                # No round trip: asyncpg's adapter only skips its BEGIN; the pool resets the
                # level when the connection is returned.
                await self._connection.execution_options(isolation_level="AUTOCOMMIT")
        except Exception as error:
            if _is_unavailable(error):
                raise StorageUnavailable from error
            raise
        self.users = SqlAlchemyUserRepository(self._connection)
        self.items = SqlAlchemyItemRepository(self._connection)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
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
        if self._connection is None:
            raise RuntimeError("commit() outside 'async with uow'")
        if self._read_only:
            raise RuntimeError("commit() on a read-only unit of work")
        await self._connection.commit()

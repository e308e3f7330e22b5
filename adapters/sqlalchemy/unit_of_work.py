"""The SQLAlchemy unit of work: one connection and one transaction, the write repositories."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sqlalchemy.account_tokens import SqlAlchemyAccountTokenRepository
from adapters.sqlalchemy.database import SqlAlchemyDatabase
from adapters.sqlalchemy.outbox import SqlAlchemyOutbox
from adapters.sqlalchemy.refresh_tokens import SqlAlchemyRefreshTokenRepository
from adapters.sqlalchemy.repositories import SqlAlchemyItemRepository, SqlAlchemyUserRepository


class SqlAlchemyUnitOfWork:
    """Connection-level Core rather than an ORM ``AsyncSession``: the repositories map rows to
    dataclasses themselves, so an identity map and unit-of-work flushes would be pure cost.

    The connection is the request's shared one inside ``SqlAlchemyDatabase.shared_connection()``,
    else one of its own. The transaction begins on the first statement (SQLAlchemy's autobegin)
    and is rolled back on leaving the block unless ``commit()`` was called.
    """

    users: SqlAlchemyUserRepository
    items: SqlAlchemyItemRepository
    refresh_tokens: SqlAlchemyRefreshTokenRepository
    outbox: SqlAlchemyOutbox
    account_tokens: SqlAlchemyAccountTokenRepository

    def __init__(self, database: SqlAlchemyDatabase) -> None:
        self._database = database
        self._checkout: AbstractAsyncContextManager[AsyncConnection] | None = None
        self._connection: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        checkout = self._database.connection()
        connection = self._connection = await checkout.__aenter__()
        self._checkout = checkout
        self.users = SqlAlchemyUserRepository(connection)
        self.items = SqlAlchemyItemRepository(connection)
        self.refresh_tokens = SqlAlchemyRefreshTokenRepository(connection)
        self.outbox = SqlAlchemyOutbox(connection)
        self.account_tokens = SqlAlchemyAccountTokenRepository(connection)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        checkout, self._checkout, self._connection = self._checkout, None, None
        if checkout is not None:
            await checkout.__aexit__(exc_type, exc, tb)

    async def commit(self) -> None:
        if self._connection is None:
            raise RuntimeError("commit() outside 'async with uow'")
        await self._connection.commit()

"""The SQLAlchemy unit of work: one connection and one transaction, the write repositories."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Self, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.repository_registry import Repositories, RepositoryRegistry
from adapters.sqlalchemy.database import SqlAlchemyDatabase

R = TypeVar("R")

# Every SQL repository, by the port it implements: ``@sql_repository(TagRepository)`` on its
# class, which takes the unit of work's connection (adapters/repository_registry.py).
SQL_REPOSITORIES = RepositoryRegistry[AsyncConnection](
    package="adapters.sqlalchemy", decorator="sql_repository"
)
sql_repository = SQL_REPOSITORIES.implements


class SqlAlchemyUnitOfWork:
    """Connection-level Core rather than an ORM ``AsyncSession``: the repositories map rows to
    dataclasses themselves, so an identity map and unit-of-work flushes would be pure cost.

    The connection is the request's shared one inside ``SqlAlchemyDatabase.shared_connection()``,
    else one of its own. The transaction begins on the first statement (SQLAlchemy's autobegin)
    and is rolled back on leaving the block unless ``commit()`` was called.
    """

    def __init__(self, database: SqlAlchemyDatabase) -> None:
        self._database = database
        self._checkout: AbstractAsyncContextManager[AsyncConnection] | None = None
        self._connection: AsyncConnection | None = None
        self._repositories: Repositories[AsyncConnection] | None = None

    def repository(self, port: type[R]) -> R:
        if self._repositories is None:
            raise RuntimeError("uow.repository() outside 'async with uow'")
        return self._repositories.get(port)

    async def __aenter__(self) -> Self:
        checkout = self._database.connection()
        connection = self._connection = await checkout.__aenter__()
        self._checkout = checkout
        self._repositories = SQL_REPOSITORIES.over(connection)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        checkout, self._checkout, self._connection = self._checkout, None, None
        self._repositories = None
        if checkout is not None:
            await checkout.__aexit__(exc_type, exc, tb)

    async def commit(self) -> None:
        if self._connection is None:
            raise RuntimeError("commit() outside 'async with uow'")
        await self._connection.commit()

"""The SQLAlchemy unit of work: one connection and one transaction, the write repositories."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Self, TypeVar

from adapters.repository_registry import Repositories, RepositoryRegistry
from adapters.sqlalchemy.database import SqlAlchemyDatabase, SqlTransaction

R = TypeVar("R")

# Every SQL repository, by the port it implements: ``@sql_repository(TagRepository)`` on its
# class, which takes the unit of work's transaction (adapters/repository_registry.py).
SQL_REPOSITORIES = RepositoryRegistry[SqlTransaction](
    package="adapters.sqlalchemy", decorator="sql_repository"
)
sql_repository = SQL_REPOSITORIES.implements


class SqlAlchemyUnitOfWork:
    """Connection-level Core rather than an ORM ``AsyncSession``: the repositories map rows to
    dataclasses themselves, so an identity map and unit-of-work flushes would be pure cost.

    The connection is the request's shared one inside ``SqlAlchemyDatabase.shared_connection()``,
    else one of its own. The transaction (``SqlAlchemyDatabase.transaction()``: the driver's own
    on PostgreSQL, SQLAlchemy's autobegin on SQLite) is rolled back on leaving the block unless
    ``commit()`` was called. Repositories run statements through SQLAlchemy
    (``transaction.connection``) and, for their hot prebuilt ones, ``transaction.statements``.
    """

    def __init__(self, database: SqlAlchemyDatabase) -> None:
        self._database = database
        self._checkout: AbstractAsyncContextManager[SqlTransaction] | None = None
        self._transaction: SqlTransaction | None = None
        self._repositories: Repositories[SqlTransaction] | None = None

    def repository(self, port: type[R]) -> R:
        if self._repositories is None:
            raise RuntimeError("uow.repository() outside 'async with uow'")
        return self._repositories.get(port)

    async def __aenter__(self) -> Self:
        checkout = self._database.transaction()
        transaction = self._transaction = await checkout.__aenter__()
        self._checkout = checkout
        self._repositories = SQL_REPOSITORIES.over(transaction)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        checkout, self._checkout, self._transaction = self._checkout, None, None
        self._repositories = None
        if checkout is not None:
            await checkout.__aexit__(exc_type, exc, tb)

    async def commit(self) -> None:
        if self._transaction is None:
            raise RuntimeError("commit() outside 'async with uow'")
        await self._transaction.commit()

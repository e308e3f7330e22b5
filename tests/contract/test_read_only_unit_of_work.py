"""The read-only SQLAlchemy unit of work (autocommit on PostgreSQL), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.engine import PoolOptions, create_engine
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.pagination import PageRequest
from tests.conftest import empty_tables
from tests.contract.support import add_item, add_user, all_users, new_user


@pytest.fixture
async def one_connection_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A pool of exactly one connection, so every unit of work reuses the same one."""
    engine = create_engine(database_url, PoolOptions(size=1, max_overflow=0))
    await empty_tables(engine)
    yield engine
    await engine.dispose()


async def test_reads_what_was_committed(one_connection_engine: AsyncEngine) -> None:
    def factory() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(one_connection_engine)

    ada = await add_user(factory, "ada")
    item = await add_item(factory, ada.id)

    async with SqlAlchemyUnitOfWork(one_connection_engine, read_only=True, raw_reads=True) as uow:
        assert await uow.users.get(ada.id) == ada
        assert await uow.items.get(item.id) == item
        assert list(await uow.items.list_by_owner(ada.id, PageRequest())) == [item]


async def test_refuses_to_commit(one_connection_engine: AsyncEngine) -> None:
    async with SqlAlchemyUnitOfWork(one_connection_engine, read_only=True, raw_reads=True) as uow:
        with pytest.raises(RuntimeError, match="read-only"):
            await uow.commit()


async def test_leaves_the_pooled_connection_transactional(
    one_connection_engine: AsyncEngine,
) -> None:
    """The autocommit setting must not outlive the read-only unit of work: a later writer on
    the same pooled connection still rolls back what it does not commit."""

    def factory() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(one_connection_engine)

    ada = await add_user(factory, "ada")
    async with SqlAlchemyUnitOfWork(one_connection_engine, read_only=True, raw_reads=True) as uow:
        await uow.users.get(ada.id)

    async with factory() as uow:
        await uow.users.add(new_user("grace"))  # never committed

    assert await all_users(factory) == [ada]

"""The read-only SQLAlchemy unit of work (raw asyncpg reads on PostgreSQL), on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.engine import PoolOptions, create_engine
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.errors import StorageUnavailable
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

    async with SqlAlchemyUnitOfWork(one_connection_engine, read_only=True) as uow:
        assert await uow.users.get(ada.id) == ada
        assert await uow.items.get(item.id) == item
        assert list(await uow.items.list_by_owner(ada.id, PageRequest())) == [item]


async def test_refuses_to_commit(one_connection_engine: AsyncEngine) -> None:
    async with SqlAlchemyUnitOfWork(one_connection_engine, read_only=True) as uow:
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
    async with SqlAlchemyUnitOfWork(one_connection_engine, read_only=True) as uow:
        await uow.users.get(ada.id)

    async with factory() as uow:
        await uow.users.add(new_user("grace"))  # never committed

    assert await all_users(factory) == [ada]


@pytest.mark.postgres
async def test_a_read_cancelled_half_way_does_not_hand_on_a_busy_connection(
    postgres_url: str,
) -> None:
    """A request cancelled while its read waits (a client gone, a shutdown) leaves the asyncpg
    connection mid-statement; the next unit of work on the same pooled connection must still
    read, not fail with "another operation is in progress"."""
    engine = create_engine(postgres_url, PoolOptions(size=1, max_overflow=0))
    try:
        await empty_tables(engine)
        ada = await add_user(lambda: SqlAlchemyUnitOfWork(engine), "ada")
        blocker = await asyncpg.connect(postgres_url.replace("+asyncpg", ""))
        try:
            locked = blocker.transaction()
            await locked.start()
            await blocker.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")

            waiting = asyncio.create_task(read_user(engine, ada.id))
            await asyncio.sleep(0.3)
            assert not waiting.done()  # held by the lock, mid-statement
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            await locked.rollback()
        finally:
            await blocker.close()

        assert await read_user(engine, ada.id) == ada
    finally:
        await engine.dispose()


async def read_user(engine: AsyncEngine, user_id: int) -> object:
    async with SqlAlchemyUnitOfWork(engine, read_only=True) as uow:
        return await uow.users.get(user_id)


@pytest.mark.postgres
async def test_a_pooled_connection_the_server_dropped_is_unavailable_once_then_replaced(
    postgres_url: str,
) -> None:
    """What a PostgreSQL restart does to idle pooled connections: the server ends them. The read
    on such a connection is a StorageUnavailable (a 503), never a driver error (a 500), and the
    connection is not handed out again."""
    engine = create_engine(postgres_url, PoolOptions(size=1, max_overflow=0))
    try:
        await empty_tables(engine)
        ada = await add_user(lambda: SqlAlchemyUnitOfWork(engine), "ada")
        async with engine.connect() as connection:  # the pool's one connection
            backend = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        terminator = await asyncpg.connect(postgres_url.replace("+asyncpg", ""))
        try:
            assert await terminator.fetchval("SELECT pg_terminate_backend($1)", backend)
        finally:
            await terminator.close()
        await asyncio.sleep(0.2)  # the server's notice reaches the idle connection

        with pytest.raises(StorageUnavailable):
            await read_user(engine, ada.id)
        assert await read_user(engine, ada.id) == ada
    finally:
        await engine.dispose()

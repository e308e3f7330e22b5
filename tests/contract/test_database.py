"""How the SQL adapters take and give back connections (adapters/sqlalchemy/database.py), on
SQLite and PostgreSQL: one connection per scope, and a pool that stays whole whatever happens to
a connection (overflow, cancellation, a server that dropped it)."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.database import SqlAlchemyDatabase, fair_admission
from adapters.sqlalchemy.engine import PoolOptions, create_engine
from adapters.sqlalchemy.queries import SqlAlchemyItemQueries, SqlAlchemyUserQueries
from adapters.sqlalchemy.repositories import SqlAlchemyItemRepository
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.errors import StorageUnavailable
from application.pagination import PageRequest
from application.ports import ItemRepository, UserRepository
from domain.user import User
from tests.conftest import empty_tables
from tests.contract.support import add_item, add_user, new_item, new_user


@pytest.fixture
async def one_connection(database_url: str) -> AsyncIterator[SqlAlchemyDatabase]:
    """A pool of exactly one connection that gives up waiting for it after half a second."""
    engine = create_engine(database_url, PoolOptions(size=1, max_overflow=0, timeout_seconds=0.5))
    await empty_tables(engine)
    yield SqlAlchemyDatabase(engine)
    await engine.dispose()


@pytest.fixture
async def admitted_pool_of_one(postgres_url: str) -> AsyncIterator[SqlAlchemyDatabase]:
    """PostgreSQL through a pool of one connection, first come first served (as ``serve``
    runs it, at the smallest size), on empty tables."""
    pool = PoolOptions(size=1, max_overflow=0)
    engine = create_engine(postgres_url, pool)
    await empty_tables(engine)
    yield SqlAlchemyDatabase(engine, fair_admission(engine, pool))
    await engine.dispose()


def checked_out(engine: AsyncEngine) -> int:
    return engine.sync_engine.pool.checkedout()  # type: ignore[attr-defined, no-any-return]


async def end_the_pools_one_connection(engine: AsyncEngine, postgres_url: str) -> None:
    """What a PostgreSQL restart does to an idle pooled connection: the server ends it."""
    async with engine.connect() as connection:  # the pool's one connection
        backend = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    terminator = await asyncpg.connect(postgres_url.replace("+asyncpg", ""))
    try:
        assert await terminator.fetchval("SELECT pg_terminate_backend($1)", backend)
    finally:
        await terminator.close()
    await asyncio.sleep(0.2)  # the server's notice reaches the idle connection


async def test_a_scope_shares_one_connection_between_queries_and_a_unit_of_work(
    one_connection: SqlAlchemyDatabase,
) -> None:
    """With a pool of one, a second checkout inside the scope would time out: a 503."""
    ada = await add_user(lambda: SqlAlchemyUnitOfWork(one_connection), "ada")
    users = SqlAlchemyUserQueries(one_connection)
    items = SqlAlchemyItemQueries(one_connection)

    async with one_connection.shared_connection():
        assert await users.get(ada.id) == ada
        assert checked_out(one_connection.engine) == 1
        async with SqlAlchemyUnitOfWork(one_connection) as uow:
            lamp = await uow.repository(ItemRepository).add(new_item(ada.id, "Lamp"))
            await uow.commit()
        assert list(await items.page_of_owner(ada.id, PageRequest())) == [lamp]
        async with SqlAlchemyUnitOfWork(one_connection) as uow:
            await uow.repository(UserRepository).add(
                new_user("grace")
            )  # never committed: rolled back at the end
        assert [user.username for user in await users.page(PageRequest())] == ["ada"]

    assert checked_out(one_connection.engine) == 0
    assert list(await items.page(PageRequest())) == [lamp]


async def test_outside_a_scope_each_read_and_unit_of_work_gives_its_connection_back(
    one_connection: SqlAlchemyDatabase,
) -> None:
    ada = await add_user(lambda: SqlAlchemyUnitOfWork(one_connection), "ada")
    users = SqlAlchemyUserQueries(one_connection)

    assert await users.get(ada.id) == ada
    assert checked_out(one_connection.engine) == 0
    await add_item(lambda: SqlAlchemyUnitOfWork(one_connection), ada.id)
    assert checked_out(one_connection.engine) == 0


async def test_an_error_inside_a_scope_rolls_back_and_gives_the_connection_back(
    one_connection: SqlAlchemyDatabase,
) -> None:
    users = SqlAlchemyUserQueries(one_connection)

    async def failing_request() -> None:
        async with one_connection.shared_connection(), SqlAlchemyUnitOfWork(one_connection) as uow:
            await uow.repository(UserRepository).add(new_user("ada"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await failing_request()

    assert checked_out(one_connection.engine) == 0
    assert list(await users.page(PageRequest())) == []


@pytest.mark.postgres
async def test_overflow_connections_are_closed_cleanly_after_use(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Four scopes at once on a pool of one plus three overflow: the overflow connections are
    really closed when given back (on asyncpg that is IO inside SQLAlchemy's greenlet), and
    nothing is logged about it."""
    engine = create_engine(postgres_url, PoolOptions(size=1, max_overflow=3))
    database = SqlAlchemyDatabase(engine)
    users = SqlAlchemyUserQueries(database)
    try:
        await empty_tables(engine)
        ada = await add_user(lambda: SqlAlchemyUnitOfWork(database), "ada")
        started = asyncio.Barrier(4)

        async def request() -> User | None:
            async with database.shared_connection():
                user = await users.get(ada.id)
                await started.wait()  # all four hold a connection at once
                return user

        with caplog.at_level(logging.WARNING):
            assert await asyncio.gather(*(request() for _ in range(4))) == [ada] * 4

        assert engine.sync_engine.pool.overflow() == 0  # type: ignore[attr-defined]
        assert checked_out(engine) == 0
        assert [r.getMessage() for r in caplog.records if r.name.startswith("sqlalchemy")] == []
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_under_load_a_connection_given_back_goes_to_the_next_in_line(
    postgres_url: str,
) -> None:
    """A pool of 1 + 1 and eight scopes that finish two by two, in one turn of the event loop.
    Given back through the pool, the second connection of each pair would find the pool's one
    place taken by the first (its next owner has not run yet) and be closed as overflow, and
    the next pair would open a new one; handed on, the eight scopes run on the two connections
    opened first."""
    pool = PoolOptions(size=1, max_overflow=1)
    engine = create_engine(postgres_url, pool)
    database = SqlAlchemyDatabase(engine, fair_admission(engine, pool))
    users = SqlAlchemyUserQueries(database)
    opened: list[object] = []
    event.listen(engine.sync_engine, "connect", lambda connection, _record: opened.append(1))
    try:
        await empty_tables(engine)
        ada = await add_user(lambda: SqlAlchemyUnitOfWork(database), "ada")
        in_pairs = asyncio.Barrier(2)

        async def request() -> User | None:
            async with database.shared_connection():
                user = await users.get(ada.id)
                await in_pairs.wait()
                return user

        assert await asyncio.gather(*(request() for _ in range(8))) == [ada] * 8

        assert len(opened) == 2
        assert checked_out(engine) == 0  # the last ones, with nobody waiting, went to the pool
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_a_read_cancelled_half_way_does_not_hand_on_a_busy_connection(
    postgres_url: str,
) -> None:
    """A request cancelled while its read waits (a client gone, a shutdown) leaves the asyncpg
    connection mid-statement; it is invalidated, and the next read on the pool still works."""
    engine = create_engine(postgres_url, PoolOptions(size=1, max_overflow=0))
    database = SqlAlchemyDatabase(engine)
    users = SqlAlchemyUserQueries(database)
    try:
        await empty_tables(engine)
        ada = await add_user(lambda: SqlAlchemyUnitOfWork(database), "ada")
        blocker = await asyncpg.connect(postgres_url.replace("+asyncpg", ""))
        try:
            locked = blocker.transaction()
            await locked.start()
            await blocker.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")

            async def request() -> User | None:
                async with database.shared_connection():
                    return await users.get(ada.id)

            waiting = asyncio.create_task(request())
            await asyncio.sleep(0.3)
            assert not waiting.done()  # held by the lock, mid-statement
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            await locked.rollback()
        finally:
            await blocker.close()

        assert checked_out(engine) == 0
        assert await users.get(ada.id) == ada
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_a_pooled_connection_the_server_dropped_is_unavailable_once_then_replaced(
    postgres_url: str,
) -> None:
    """What a PostgreSQL restart does to idle pooled connections: the server ends them. The read
    on such a connection is a StorageUnavailable (a 503), never a driver error (a 500), and the
    connection is not handed out again."""
    engine = create_engine(postgres_url, PoolOptions(size=1, max_overflow=0))
    database = SqlAlchemyDatabase(engine)
    users = SqlAlchemyUserQueries(database)
    try:
        await empty_tables(engine)
        ada = await add_user(lambda: SqlAlchemyUnitOfWork(database), "ada")
        await end_the_pools_one_connection(engine, postgres_url)

        with pytest.raises(StorageUnavailable):
            async with database.shared_connection():
                await users.get(ada.id)
        assert checked_out(engine) == 0
        assert await users.get(ada.id) == ada
    finally:
        await engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("work", ["read", "write"])
async def test_a_connection_the_server_dropped_is_not_handed_on_to_the_next_in_line(
    admitted_pool_of_one: SqlAlchemyDatabase, postgres_url: str, work: str
) -> None:
    """A pool of one, its connection ended by the server while idle, and two requests at once:
    the first finds it dead (a 503); the second, waiting for that connection, gets a new one
    instead of the dead one."""
    engine = admitted_pool_of_one.engine
    database = admitted_pool_of_one
    users = SqlAlchemyUserQueries(database)
    ada = await add_user(lambda: SqlAlchemyUnitOfWork(database), "ada")
    await end_the_pools_one_connection(engine, postgres_url)

    async def first() -> None:
        async with database.shared_connection():
            if work == "read":
                await users.get(ada.id)
            else:
                await add_item(lambda: SqlAlchemyUnitOfWork(database), ada.id)

    async def second() -> User | None:
        async with database.shared_connection():
            return await users.get(ada.id)

    failed, read = await asyncio.gather(first(), second(), return_exceptions=True)

    assert isinstance(failed, StorageUnavailable)
    assert read == ada
    assert checked_out(engine) == 0


async def test_no_database_is_unavailable_for_reads_and_writes() -> None:
    engine = create_engine("postgresql://nobody@127.0.0.1:1/none", PoolOptions(timeout_seconds=0.5))
    database = SqlAlchemyDatabase(engine)
    try:
        with pytest.raises(StorageUnavailable):
            await SqlAlchemyUserQueries(database).get(1)
        with pytest.raises(StorageUnavailable):
            async with database.shared_connection(), SqlAlchemyUnitOfWork(database) as uow:
                await uow.repository(UserRepository).get(1)
    finally:
        await engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("refused", ["database", "username"])
async def test_a_server_that_refuses_the_connection_is_unavailable(
    postgres_url: str, refused: str
) -> None:
    """The server answers, but the connection is refused: no such database (3D000, dropped or
    misnamed) or no such role (28000). Readiness already says "unavailable"; requests get a
    503 too, not a 500 with a traceback each, and the worker waits for the database as for an
    outage (decision 0060)."""
    server, gone = make_url(postgres_url), f"gone_{os.getpid()}"
    url = server.set(database=gone) if refused == "database" else server.set(username=gone)
    engine = create_engine(url.render_as_string(hide_password=False))
    database = SqlAlchemyDatabase(engine)
    try:
        with pytest.raises(StorageUnavailable):
            await SqlAlchemyUserQueries(database).get(1)
        with pytest.raises(StorageUnavailable):
            async with SqlAlchemyUnitOfWork(database) as uow:
                await uow.repository(UserRepository).get(1)
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_a_unit_of_work_cancelled_mid_transaction_leaves_nothing_behind(
    admitted_pool_of_one: SqlAlchemyDatabase,
) -> None:
    """A request cancelled while its unit of work holds a transaction on the driver connection
    (decision 0053): nothing it wrote stays, and the pool's one connection is clean for the
    next unit of work (no transaction left open on it, no lock held)."""
    engine = admitted_pool_of_one.engine
    database = admitted_pool_of_one
    items = SqlAlchemyItemQueries(database)
    ada = await add_user(lambda: SqlAlchemyUnitOfWork(database), "ada")
    written = asyncio.Event()

    async def stuck() -> None:
        async with database.shared_connection(), SqlAlchemyUnitOfWork(database) as uow:
            await uow.repository(ItemRepository).add(new_item(ada.id))
            written.set()
            await asyncio.Event().wait()  # until cancelled, before any commit

    task = asyncio.create_task(stuck())
    await written.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert checked_out(engine) == 0
    item = await add_item(lambda: SqlAlchemyUnitOfWork(database), ada.id, "after")
    assert list(await items.page_of_owner(ada.id, PageRequest(limit=10))) == [item]
    async with engine.connect() as connection:
        states = (
            await connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND state LIKE 'idle in transaction%'"
                )
            )
        ).scalar_one()
    assert states == 0


async def backend_pid(database: SqlAlchemyDatabase) -> int:
    async with database.reader() as reader:
        row = await reader.one(select(func.pg_backend_pid()), {})
    assert row is not None
    return int(row[0])


@pytest.mark.postgres
async def test_a_unit_of_work_left_without_commit_gives_its_connection_back_whole(
    postgres_url: str,
) -> None:
    """Its transaction on the driver is rolled back, so the pool keeps the connection (the same
    server session serves the next request) instead of closing it."""
    engine = create_engine(postgres_url, PoolOptions(size=1, max_overflow=0))
    database = SqlAlchemyDatabase(engine)
    try:
        await empty_tables(engine)
        ada = await add_user(lambda: SqlAlchemyUnitOfWork(database), "ada")
        before = await backend_pid(database)
        async with SqlAlchemyUnitOfWork(database) as uow:
            await uow.repository(ItemRepository).add(new_item(ada.id))
        assert await backend_pid(database) == before
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_a_connection_given_back_inside_a_driver_transaction_is_not_reused(
    admitted_pool_of_one: SqlAlchemyDatabase,
) -> None:
    """Whatever left a transaction open on the driver (here a transaction block never ended),
    the connection is not handed on nor pooled as it is: SQLAlchemy's own return would not know
    of that transaction."""
    engine = admitted_pool_of_one.engine
    database = admitted_pool_of_one
    items = SqlAlchemyItemQueries(database)
    ada = await add_user(lambda: SqlAlchemyUnitOfWork(database), "ada")
    async with database.shared_connection():
        block = database.transaction()
        transaction = await block.__aenter__()
        await SqlAlchemyItemRepository(transaction).add(new_item(ada.id))
    assert checked_out(engine) == 0
    assert list(await items.page_of_owner(ada.id, PageRequest(limit=10))) == []


@pytest.mark.parametrize("scoped", [True, False])
async def test_a_read_the_database_cannot_serve_is_storage_unavailable(
    tmp_path: Path, scoped: bool
) -> None:
    """SQLite without the schema (what a read meets while the file is replaced or not yet
    migrated): the driver's OperationalError leaves as StorageUnavailable, a 503, inside a
    request's scope and outside one."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    database = SqlAlchemyDatabase(engine)
    users = SqlAlchemyUserQueries(database)

    async def read() -> User | None:
        if not scoped:
            return await users.get(1)
        async with database.shared_connection():
            return await users.get(1)

    try:
        with pytest.raises(StorageUnavailable):
            await read()
    finally:
        await engine.dispose()

"""The service's data access through PgBouncer in transaction pooling mode (Debian ships 1.18,
which does not track prepared statements): DB_STATEMENT_CACHE_SIZE=0 is what makes it work."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import pytest

from adapters.sqlalchemy.database import SqlAlchemyDatabase
from adapters.sqlalchemy.engine import PoolOptions, create_engine
from adapters.sqlalchemy.queries import SqlAlchemyItemQueries, SqlAlchemyUserQueries
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.pagination import PageRequest
from application.ports import ItemRepository, UserRepository
from tests.support.pgbouncer import find_pgbouncer, pgbouncer

pytestmark = pytest.mark.postgres

CLIENTS = 8
ROUNDS = 20


@pytest.fixture
def bounced_url(postgres_url: str) -> Iterator[str]:
    """The test database through a PgBouncer with two server connections for eight clients."""
    binary = find_pgbouncer()
    if binary is None:
        if os.environ.get("REQUIRE_PGBOUNCER") == "1":
            pytest.fail(
                "REQUIRE_PGBOUNCER=1 but no pgbouncer binary (Debian: apt-get install pgbouncer)"
            )
        pytest.skip("no pgbouncer binary (Debian: apt-get install pgbouncer)")
    with pgbouncer(binary, postgres_url, pool_mode="transaction", server_connections=2) as url:
        yield url


async def _errors_under_load(url: str, statement_cache_size: int) -> list[str]:
    """Eight clients, each doing what an authenticated request of the service does: queries
    (raw asyncpg reads) and a unit of work (SQLAlchemy's adapter) on one shared connection."""
    engine = create_engine(
        url,
        PoolOptions(size=CLIENTS, max_overflow=0, statement_cache_size=statement_cache_size),
    )
    database = SqlAlchemyDatabase(engine)
    users, items = SqlAlchemyUserQueries(database), SqlAlchemyItemQueries(database)
    errors: list[str] = []

    async def client() -> None:
        for _ in range(ROUNDS):
            try:
                async with database.shared_connection():
                    await users.get(1)
                    await items.page(PageRequest())
                    async with SqlAlchemyUnitOfWork(database) as uow:
                        await uow.repository(UserRepository).get_by_username("nobody")
                        await uow.repository(ItemRepository).get(1)
                    await items.page_of_owner(1, PageRequest())
            except Exception as error:
                errors.append(f"{type(error).__name__}: {error}")

    try:
        await asyncio.gather(*(client() for _ in range(CLIENTS)))
    finally:
        await engine.dispose()
    return errors


async def test_without_statement_caches_every_statement_works_through_pgbouncer(
    bounced_url: str,
) -> None:
    assert await _errors_under_load(bounced_url, statement_cache_size=0) == []


async def test_with_the_default_caches_prepared_statements_go_astray(bounced_url: str) -> None:
    """Why the setting exists: with the caches on, a statement prepared on one server
    connection is executed on another."""
    errors = await _errors_under_load(bounced_url, statement_cache_size=100)

    assert errors
    assert all("prepared statement" in error for error in errors), errors[:3]

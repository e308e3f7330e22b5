"""Shared fixtures: databases (SQLite file, PostgreSQL), unit-of-work factories, the real app.

PostgreSQL comes from ``tests/support/postgres.py`` (TEST_DATABASE_URL, else testcontainers,
else local binaries). When none is available its tests skip naming the reason, unless
``REQUIRE_POSTGRES=1``, which turns that skip into a failure (CI sets it).

Every fixture and test shares one event loop (see pyproject's asyncio settings), so the
session-wide engines are safe to reuse; each test starts from empty tables.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from dependency_injector import providers
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.argon2_hasher import Argon2PasswordHasher
from adapters.memory import (
    InMemoryDatabase,
    InMemoryItemQueries,
    InMemoryUnitOfWork,
    InMemoryUserQueries,
)
from adapters.sqlalchemy.database import SqlAlchemyDatabase
from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.migrate import upgrade_to_head
from adapters.sqlalchemy.queries import SqlAlchemyItemQueries, SqlAlchemyUserQueries
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.ports import ItemQueries, UnitOfWork, UserQueries
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.support.postgres import PostgresUnavailable, provide_postgres

TEST_JWT_SECRET = "test-secret-that-is-at-least-32-bytes-long"

UowFactory = Callable[[], UnitOfWork]
Q = TypeVar("Q")


@dataclass(frozen=True)
class Store:
    """One backend's write side (fresh units of work) and read side (the query ports)."""

    uow: UowFactory
    users: UserQueries
    items: ItemQueries
    memory: InMemoryDatabase | None = None
    sql: SqlAlchemyDatabase | None = None

    def queries(
        self,
        port: type[Q],
        memory: Callable[[InMemoryDatabase], Q],
        sql: Callable[[SqlAlchemyDatabase], Q],
    ) -> Q:
        """A query port on this store's backend, for instance
        ``store.queries(TagQueries, InMemoryTagQueries, SqlAlchemyTagQueries)``: mypy checks
        both implementations against the port. (Without ``port``, mypy infers the join of the
        two classes, ``object``, whatever the annotation of the variable it is assigned to.)"""
        if self.memory is not None:
            return memory(self.memory)
        assert self.sql is not None
        return sql(self.sql)


def cheap_hasher() -> Argon2PasswordHasher:
    """Real argon2id with tiny parameters: the tests check behaviour, not hashing cost."""
    return Argon2PasswordHasher(time_cost=1, memory_cost_kib=1024, parallelism=1)


# --- databases -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A migrated PostgreSQL database for the whole session, or a skip that names the reason."""
    try:
        with provide_postgres() as url:
            upgrade_to_head(url)
            yield url
    except PostgresUnavailable as error:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"REQUIRE_POSTGRES=1 but no PostgreSQL: {error.reason}")
        pytest.skip(f"no PostgreSQL: {error.reason}")


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("sqlite") / "users-items-test.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade_to_head(url)
    return url


@pytest.fixture(
    scope="session",
    params=[pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test that uses this runs once on SQLite and once on PostgreSQL."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


async def empty_tables(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execute(text("TRUNCATE outbox, items, users RESTART IDENTITY CASCADE"))
        else:
            await connection.execute(text("DELETE FROM outbox"))
            await connection.execute(text("DELETE FROM items"))
            await connection.execute(text("DELETE FROM users"))


@pytest.fixture
async def clean_engine(engine: AsyncEngine) -> AsyncEngine:
    """The session engine over empty tables."""
    await empty_tables(engine)
    return engine


# --- units of work ---------------------------------------------------------------------------


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend_url(request: pytest.FixtureRequest) -> str | None:
    """The database URL a contract test runs on; None for the in-memory adapters.

    A sync fixture, so the URL fixtures (which run Alembic, with its own event loop) are never
    first requested from inside the running loop.
    """
    if request.param == "memory":
        return None
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
async def store(backend_url: str | None) -> AsyncIterator[Store]:
    """One empty store, in memory, on SQLite or on PostgreSQL: its units of work and queries."""
    if backend_url is None:
        memory = InMemoryDatabase()
        yield Store(
            lambda: InMemoryUnitOfWork(memory),
            InMemoryUserQueries(memory),
            InMemoryItemQueries(memory),
            memory=memory,
        )
        return
    engine = create_engine(backend_url)
    await empty_tables(engine)
    database = SqlAlchemyDatabase(engine)
    yield Store(
        lambda: SqlAlchemyUnitOfWork(database),
        SqlAlchemyUserQueries(database),
        SqlAlchemyItemQueries(database),
        sql=database,
    )
    await engine.dispose()


@pytest.fixture
def uow_factory(store: Store) -> UowFactory:
    """Fresh units of work over the test's store."""
    return store.uow


# --- the real app over HTTP ------------------------------------------------------------------


def build_container(database_url: str, **settings: object) -> Container:
    container = Container()
    container.settings.override(
        providers.Object(
            Settings(
                database_url=database_url,
                environment="test",
                jwt_secret=TEST_JWT_SECRET,
                **settings,  # type: ignore[arg-type]
            )
        )
    )
    container.password_hasher.override(providers.Singleton(cheap_hasher))
    return container


@pytest.fixture
async def container(database_url: str, clean_engine: AsyncEngine) -> AsyncIterator[Container]:
    container = build_container(database_url)
    container.engine.override(providers.Object(clean_engine))  # share the session engine
    yield container
    container.password_hasher().close()


@pytest.fixture
async def client(container: Container) -> AsyncIterator[httpx.AsyncClient]:
    """The real app over HTTP (httpx's ASGI transport), on SQLite and on PostgreSQL."""
    app = create_app(container)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client

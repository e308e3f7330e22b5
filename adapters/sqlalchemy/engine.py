"""Engine construction: URL normalisation, pool settings, SQLite connection pragmas."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./users-items.db"

_ASYNC_DRIVERS = {
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+psycopg": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
}


def to_async_url(url: str) -> URL:
    """Accept the usual URL forms (``postgresql://``, ``postgres://``, ``sqlite:///``) and
    return the async-driver form the service runs on (asyncpg, aiosqlite)."""
    parsed = make_url(url)
    driver = _ASYNC_DRIVERS.get(parsed.drivername)
    if driver is None:
        raise ValueError(
            f"unsupported database URL scheme {parsed.drivername!r}: use postgresql:// or sqlite://"
        )
    parsed = parsed.set(drivername=driver)
    if driver == "postgresql+asyncpg" and "sslmode" in parsed.query:
        # libpq spells it sslmode; asyncpg takes the same values as ssl.
        sslmode = parsed.query["sslmode"]
        parsed = parsed.difference_update_query(["sslmode"]).update_query_dict({"ssl": sslmode})
    return parsed


def is_sqlite(url: str) -> bool:
    return to_async_url(url).get_backend_name() == "sqlite"


@dataclass(frozen=True, slots=True)
class PoolOptions:
    """Applied on PostgreSQL only; SQLite uses SQLAlchemy's defaults for it."""

    size: int = 10
    max_overflow: int = 0
    recycle_seconds: int = 1800
    pre_ping: bool = False
    timeout_seconds: float = 5.0
    command_timeout_seconds: float = 10.0
    # Prepared statements cached per connection, by asyncpg (raw reads) and by SQLAlchemy's
    # asyncpg adapter (everything else). 0 turns both off and names each statement uniquely:
    # what PgBouncer before 1.21 needs in transaction pooling mode (tests/integration/
    # test_pgbouncer.py), at the price of a prepare per statement.
    statement_cache_size: int = 100


def create_engine(url: str, pool: PoolOptions | None = None, *, echo: bool = False) -> AsyncEngine:
    async_url = to_async_url(url)
    if async_url.get_backend_name() == "sqlite":
        engine = create_async_engine(async_url, echo=echo)
        _configure_sqlite(engine)
        return engine
    pool = pool or PoolOptions()
    connect_args: dict[str, Any] = {
        "timeout": pool.timeout_seconds,  # TCP connect + authentication
        # A statement on a server that stopped answering (no RST: a partition, a frozen host)
        # fails with TimeoutError, a 503, instead of holding the request forever.
        "command_timeout": pool.command_timeout_seconds,
        "server_settings": {"application_name": "users-items"},
        "statement_cache_size": pool.statement_cache_size,
        "prepared_statement_cache_size": pool.statement_cache_size,
    }
    if pool.statement_cache_size == 0:
        connect_args["prepared_statement_name_func"] = _unique_statement_name
    return create_async_engine(
        async_url,
        echo=echo,
        pool_size=pool.size,
        max_overflow=pool.max_overflow,
        pool_recycle=pool.recycle_seconds,
        pool_pre_ping=pool.pre_ping,
        pool_timeout=pool.timeout_seconds,
        connect_args=connect_args,
    )


def _unique_statement_name() -> str:
    """A name no other client of a shared server connection can have chosen."""
    return f"__asyncpg_{uuid.uuid4().hex}__"


def _configure_sqlite(engine: AsyncEngine) -> None:
    """Foreign keys on, WAL, a busy timeout, and ``BEGIN IMMEDIATE`` for every transaction.

    pysqlite's own deferred BEGIN lets two transactions read, then fail to upgrade to a write
    lock (SQLITE_BUSY at once, no waiting). Taking the write lock up front makes concurrent
    transactions queue on the busy timeout instead: slower, always correct. SQLite is the
    zero-setup default; PostgreSQL is what runs under load.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

from __future__ import annotations

import pytest

from adapters.sqlalchemy.engine import to_async_url


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://app:secret@db.example.com:5432/app",
        "postgres://app:secret@db.example.com:5432/app",
    ],
)
def test_postgres_urls_use_asyncpg_and_keep_the_rest(url: str) -> None:
    parsed = to_async_url(url)

    assert parsed.drivername == "postgresql+asyncpg"
    assert (parsed.username, parsed.password, parsed.host) == ("app", "secret", "db.example.com")
    assert (parsed.port, parsed.database) == (5432, "app")


def test_sqlite_urls_use_aiosqlite() -> None:
    parsed = to_async_url("sqlite:///./users-items.db")

    assert parsed.drivername == "sqlite+aiosqlite"
    assert parsed.database == "./users-items.db"


def test_libpq_sslmode_becomes_asyncpg_ssl() -> None:
    parsed = to_async_url("postgresql://app@db.example.com/app?sslmode=require")

    assert dict(parsed.query) == {"ssl": "require"}


def test_other_query_parameters_are_kept_beside_ssl() -> None:
    parsed = to_async_url("postgres://app@db.example.com/app?sslmode=verify-full&timeout=5")

    assert dict(parsed.query) == {"ssl": "verify-full", "timeout": "5"}


@pytest.mark.parametrize(
    "url", ["mysql://app@db.example.com/app", "oracle://app@db/app", "mssql+pyodbc://app@db/app"]
)
def test_unknown_schemes_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="unsupported database URL scheme"):
        to_async_url(url)

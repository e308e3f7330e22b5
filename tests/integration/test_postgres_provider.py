"""The test suite's own PostgreSQL sources work: CI runs on TEST_DATABASE_URL, and this proves
the local-binaries path (what a machine without TEST_DATABASE_URL or Docker falls back to)."""

from __future__ import annotations

import asyncio
import os

import asyncpg
import pytest

from tests.support import postgres
from tests.support.postgres import (
    PostgresUnavailable,
    database_on_server,
    find_bin_dir,
    local_cluster,
    provide_postgres,
)


def _answers(url: str) -> bool:
    async def probe() -> bool:
        plain = url.replace("postgresql+asyncpg://", "postgresql://")
        try:
            connection = await asyncpg.connect(plain, timeout=5)
        except (OSError, asyncpg.PostgresError):
            return False
        try:
            tables = await connection.fetchval(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
            )
            return bool(tables == 0)
        finally:
            await connection.close()

    return asyncio.run(probe())


def test_a_throwaway_cluster_from_the_local_binaries_starts_empty_and_goes_away() -> None:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binaries on this machine")

    with local_cluster(bin_dir) as url:
        assert _answers(url)  # a real, empty database

    assert not _answers(url)  # stopped


@pytest.mark.postgres
def test_test_database_url_gets_a_fresh_database_that_is_dropped_after(
    postgres_url: str,
) -> None:
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        pytest.skip("TEST_DATABASE_URL is not set")

    with database_on_server(server) as url:
        assert url.rsplit("/", 1)[-1] != server.rsplit("/", 1)[-1]
        assert _answers(url)

    assert not _answers(url)  # dropped


def test_with_no_source_at_all_the_reason_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEST_DATABASE_URL", raising=False)
    monkeypatch.setattr(postgres, "_docker_answers", lambda: False)
    monkeypatch.setattr(postgres, "find_bin_dir", lambda: None)

    with pytest.raises(PostgresUnavailable, match="no TEST_DATABASE_URL"), provide_postgres():
        pass

"""The ``users-items`` command against a real database."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from alembic import command
from alembic.migration import MigrationContext
from typer.testing import CliRunner

from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.migrate import alembic_config
from entrypoints.cli import app

runner = CliRunner()


def _revision(url: str) -> str | None:
    async def run() -> str | None:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(
                    lambda sync: MigrationContext.configure(sync).get_current_revision()
                )
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_migrate_brings_an_empty_database_to_head(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)

    result = runner.invoke(app, ["migrate"])

    assert result.exit_code == 0, result.output
    assert _revision(url) is not None


@pytest.mark.parametrize(
    ("secret", "expected"),
    [(None, "development default"), ("too-short", "shorter than 32 bytes")],
)
def test_serve_refuses_a_weak_secret_in_production(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, secret: str | None, expected: str
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'never.db'}")
    if secret is None:
        monkeypatch.delenv("JWT_SECRET", raising=False)
    else:
        monkeypatch.setenv("JWT_SECRET", secret)

    result = runner.invoke(app, ["serve"])

    assert result.exit_code == 2
    assert "JWT_SECRET" in result.output
    assert expected in result.output
    assert not (tmp_path / "never.db").exists()  # refused before touching anything


def test_an_unknown_database_scheme_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://root@localhost/db")

    result = runner.invoke(app, ["migrate"])

    assert result.exit_code == 2
    assert "unsupported database URL scheme" in result.output


def test_migrate_names_look_alike_accounts_in_one_line_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    command.upgrade(alembic_config(url), "0003")
    with sqlite3.connect(tmp_path / "cli.db") as connection:
        for user_id, email in [(1, "ada@example.com"), (2, "\uff41da@example.com")]:
            connection.execute(
                "INSERT INTO users (id, email, email_key, username, hashed_password, is_active,"
                " created_at) VALUES (?, ?, ?, ?, 'x', 1, '2026-01-01 00:00:00')",
                (user_id, email, email.lower(), f"user{user_id}"),
            )

    result = runner.invoke(app, ["migrate"])

    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("users-items: migration refused:")
    assert "users 1, 2" in result.stderr
    assert "Traceback" not in result.output
    assert _revision(url) == "0003"

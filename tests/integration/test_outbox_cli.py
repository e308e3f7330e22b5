"""``users-items outbox list|retry|prune`` against a real SQLite database."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.sqlalchemy.database import SqlAlchemyDatabase
from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.migrate import upgrade_to_head
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.ports import (
    NewOutboxMessage,
    Outbox,
    OutboxDestination,
    OutboxMessage,
    OutboxStatus,
)
from entrypoints.cli import app
from tests.support.outbox import delivered_message

runner = CliRunner()


async def _seed(url: str) -> None:
    """Two events; the first is dead after eight failures."""
    engine = create_engine(url)
    try:
        async with SqlAlchemyUnitOfWork(SqlAlchemyDatabase(engine)) as uow:
            now = datetime.now(UTC)
            for n in (1, 2):
                await uow.repository(Outbox).add(
                    NewOutboxMessage(str(uuid.uuid4()), "UserRegistered", {"n": n}, now)
                )
            [first, _] = await uow.repository(Outbox).claim(now, now, 2)
            await uow.repository(Outbox).mark_dead(first.id, attempts=8, error="550 no such user")
            # An event, waiting for the broker (id 3).
            await uow.repository(Outbox).add(
                NewOutboxMessage(
                    str(uuid.uuid4()),
                    "user.deleted",
                    {"user_id": 7},
                    now,
                    destination=OutboxDestination.EVENTS,
                    ordering_key="7",
                )
            )
            await uow.commit()
    finally:
        await engine.dispose()


async def _all_messages(url: str) -> list[OutboxMessage]:
    engine = create_engine(url)
    try:
        async with SqlAlchemyUnitOfWork(SqlAlchemyDatabase(engine)) as uow:
            return [
                m for status in OutboxStatus for m in await uow.repository(Outbox).list(status, 100)
            ]
    finally:
        await engine.dispose()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    upgrade_to_head(url)
    monkeypatch.setenv("DATABASE_URL", url)
    asyncio.run(_seed(url))
    return url


def test_list_dead_shows_only_dead_messages_with_their_error(database: str) -> None:
    result = runner.invoke(app, ["outbox", "list", "--dead"])

    assert result.exit_code == 0, result.output
    [line] = result.output.splitlines()
    assert line.startswith("1\temail\tUserRegistered\t")
    assert "attempts=8" in line
    assert "550 no such user" in line


def test_list_without_dead_shows_pending_messages(database: str) -> None:
    result = runner.invoke(app, ["outbox", "list"])

    assert result.exit_code == 0, result.output
    assert [line.split("\t")[0] for line in result.output.splitlines()] == ["2", "3"]


def test_list_shows_event_rows_with_their_user(database: str) -> None:
    result = runner.invoke(app, ["outbox", "list", "--destination", "events"])

    assert result.exit_code == 0, result.output
    [line] = result.output.splitlines()
    assert line.startswith("3\tevents\tuser.deleted\t")
    assert "\tuser=7\t" in line
    assert "attempts=0" in line


def test_retry_requeues_a_dead_message(database: str) -> None:
    result = runner.invoke(app, ["outbox", "retry", "1"])

    assert result.exit_code == 0, result.output
    assert "requeued" in result.output
    statuses = {m.id: (m.status, m.attempts) for m in asyncio.run(_all_messages(database))}
    assert statuses[1] == (OutboxStatus.PENDING, 0)
    assert runner.invoke(app, ["outbox", "list", "--dead"]).output == ""


@pytest.mark.parametrize("message_id", ["2", "99"])
def test_retry_refuses_a_message_that_is_not_dead(database: str, message_id: str) -> None:
    result = runner.invoke(app, ["outbox", "retry", message_id])

    assert result.exit_code == 1
    assert "not dead" in result.output


def test_prune_deletes_delivered_messages_past_their_retention_only(database: str) -> None:
    old_id = asyncio.run(delivered_message(database, days_ago=10))  # past the default 7

    result = runner.invoke(app, ["outbox", "prune"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "1 delivered outbox messages pruned"
    left = {m.id: m.status for m in asyncio.run(_all_messages(database))}
    assert old_id not in left
    assert left == {1: OutboxStatus.DEAD, 2: OutboxStatus.PENDING, 3: OutboxStatus.PENDING}

"""``users-items worker`` as a real process: on the default SQLite database, and on a PostgreSQL
database that was never migrated."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from adapters.sqlalchemy.database import SqlAlchemyDatabase
from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.migrate import upgrade_to_head
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.ports import Outbox, OutboxStatus
from tests.support.outbox import delivered_message, sign_up_users

COMMAND = str(Path(sys.executable).with_name("users-items"))


async def _delivered(url: str) -> int:
    engine = create_engine(url)
    try:
        async with SqlAlchemyUnitOfWork(SqlAlchemyDatabase(engine)) as uow:
            return len(await uow.repository(Outbox).list(OutboxStatus.DELIVERED, 1000))
    finally:
        await engine.dispose()


def _text(log: Path) -> str:
    return log.read_text()


async def _run_worker_until(
    done: Callable[[], bool], env: dict[str, str], cwd: Path, log: Path
) -> None:
    """Start ``users-items worker``, wait (up to 30 s) until ``done()``, stop it with SIGTERM:
    it must exit 0 within 15 s."""
    with log.open("ab") as out:
        worker = subprocess.Popen(  # noqa: S603, ASYNC220 - our own command; returns at once
            [COMMAND, "worker"], cwd=cwd, env=env, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 30
        while not done():
            assert worker.poll() is None, _text(log)
            assert time.monotonic() < deadline, _text(log)
            await asyncio.sleep(0.05)
        worker.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(worker.wait, 15) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


async def test_the_worker_delivers_to_the_log_prunes_and_stops_cleanly_on_sigterm(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'users-items.db'}"
    await asyncio.to_thread(upgrade_to_head, url)
    await delivered_message(
        url, days_ago=3
    )  # past a 2-day retention: pruned on the first idle pass
    await sign_up_users(url, 3)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "OUTBOX_POLL_SECONDS": "0.1",
        "OUTBOX_RETENTION_DAYS": "2",
    }
    env.pop("SMTP_URL", None)
    log = tmp_path / "worker.log"
    # The first pass delivers all three; the next finds nothing and prunes the old one.
    await _run_worker_until(
        lambda: "pruned 1 delivered outbox messages" in log.read_text(), env, tmp_path, log
    )

    text = log.read_text()
    assert all(f"notification to user{n}@example.com" in text for n in range(3))
    assert await _delivered(url) == 3  # the three new ones; the old one is gone
    assert "outbox worker stopped" in text


@pytest.mark.postgres
async def test_a_worker_on_a_database_without_the_schema_logs_one_traceback_and_backs_off(
    postgres_url: str, tmp_path: Path
) -> None:
    """A database that answers but cannot do the work (here: never migrated; a role without
    rights is the same): each pass fails the same way. The first failure is logged with its
    traceback, the next ones on one line, and the passes slow down (decision 0060)."""
    name = f"unmigrated_{os.getpid()}"
    server = make_url(postgres_url)
    admin = await asyncpg.connect(server.set(drivername="postgresql").render_as_string(False))
    await admin.execute(f'CREATE DATABASE "{name}"')
    env = {
        **os.environ,
        "DATABASE_URL": server.set(database=name).render_as_string(False),
        "OUTBOX_POLL_SECONDS": "0.05",
        "LOG_FORMAT": "json",
    }
    log = tmp_path / "worker.log"

    def failed_passes() -> list[dict[str, object]]:
        lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        return [line for line in lines if str(line["event"]).startswith("outbox pass failed")]

    try:
        await _run_worker_until(lambda: len(failed_passes()) >= 4, env, tmp_path, log)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

    failed = failed_passes()
    assert ["exception" in line for line in failed[:4]] == [True, False, False, False]
    assert 'relation "outbox" does not exist' in str(failed[0]["exception"])
    waits = [re.search(r"next try in ([0-9.]+)s", str(line["event"])) for line in failed[:4]]
    assert [float(wait[1]) for wait in waits if wait] == [0.05, 0.1, 0.2, 0.4]
    assert all('relation "outbox" does not exist' in str(line["event"]) for line in failed[1:])

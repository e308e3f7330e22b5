"""``users-items worker`` as a real process on the default SQLite database."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.migrate import upgrade_to_head
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.create_user import CreateUser, CreateUserCommand
from application.ports import NewOutboxMessage, OutboxStatus
from tests.conftest import cheap_hasher

COMMAND = str(Path(sys.executable).with_name("users-items"))


async def _sign_up(url: str, count: int) -> None:
    engine = create_engine(url)
    hasher = cheap_hasher()
    try:
        create_user = CreateUser(SqlAlchemyUnitOfWork(engine), hasher)
        for n in range(count):
            await create_user.execute(
                CreateUserCommand(f"user{n}@example.com", f"user{n}", "correct horse")
            )
    finally:
        hasher.close()
        await engine.dispose()


async def _delivered(url: str) -> int:
    engine = create_engine(url)
    try:
        async with SqlAlchemyUnitOfWork(engine) as uow:
            return len(await uow.outbox.list(OutboxStatus.DELIVERED, 1000))
    finally:
        await engine.dispose()


async def _delivered_days_ago(url: str, days: int) -> None:
    engine = create_engine(url)
    then = datetime.now(UTC) - timedelta(days=days)
    try:
        async with SqlAlchemyUnitOfWork(engine) as uow:
            await uow.outbox.add(NewOutboxMessage(str(uuid.uuid4()), "UserRegistered", {}, then))
            for message in await uow.outbox.claim(then, then, 1):
                await uow.outbox.mark_delivered(message.id, then)
            await uow.commit()
    finally:
        await engine.dispose()


async def test_the_worker_delivers_to_the_log_prunes_and_stops_cleanly_on_sigterm(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'users-items.db'}"
    await asyncio.to_thread(upgrade_to_head, url)
    await _delivered_days_ago(url, 3)  # past a 2-day retention: pruned on the first idle pass
    await _sign_up(url, 3)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "OUTBOX_POLL_SECONDS": "0.1",
        "OUTBOX_RETENTION_DAYS": "2",
    }
    env.pop("SMTP_URL", None)
    log = tmp_path / "worker.log"
    with log.open("ab") as out:
        worker = subprocess.Popen(  # noqa: S603, ASYNC220 - our own command; returns at once
            [COMMAND, "worker"], cwd=tmp_path, env=env, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 30
        # The first pass delivers all three; the next finds nothing and prunes the old one.
        while "pruned 1 delivered outbox messages" not in log.read_text():
            assert worker.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            await asyncio.sleep(0.1)
        worker.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(worker.wait, 15) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()

    text = log.read_text()
    assert all(f"notification to user{n}@example.com" in text for n in range(3))
    assert await _delivered(url) == 3  # the three new ones; the old one is gone
    assert "outbox worker stopped" in text

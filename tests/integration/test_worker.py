"""``users-items worker`` as a real process on the default SQLite database."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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

"""The outbox end to end: real signups, real worker processes, a real SMTP server; the worker is
killed with SIGKILL mid-batch, and two workers run side by side."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from adapters.notifiers.smtp_notifier import EVENT_ID_HEADER
from adapters.sqlalchemy.database import SqlAlchemyDatabase
from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.ports import Outbox, OutboxMessage, OutboxStatus
from tests.reliability.conftest import Start, plain_url, results_line, serve
from tests.support.outbox import sign_up_users
from tests.support.postgres import LocalCluster
from tests.support.smtp import SmtpServer

pytestmark = [pytest.mark.reliability, pytest.mark.postgres]

SIGNUPS = 200


async def outbox_by_status(url: str) -> dict[OutboxStatus, list[OutboxMessage]]:
    engine = create_engine(url)
    try:
        async with SqlAlchemyUnitOfWork(SqlAlchemyDatabase(engine)) as uow:
            return {
                s: list(await uow.repository(Outbox).list(s, 10 * SIGNUPS)) for s in OutboxStatus
            }
    finally:
        await engine.dispose()


async def wait_until_all_delivered(url: str, deadline_s: float = 180) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        messages = await outbox_by_status(url)
        if len(messages[OutboxStatus.DELIVERED]) == SIGNUPS:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"not all delivered in time: { {s: len(m) for s, m in messages.items()} }")


def worker_env(cluster: LocalCluster, smtp: SmtpServer) -> dict[str, str]:
    return {
        "DATABASE_URL": plain_url(cluster),
        "SMTP_URL": smtp.url(),
        "MAIL_FROM": "users-items <no-reply@example.com>",
        "OUTBOX_LEASE_SECONDS": "5",  # a killed worker's claims come back after 5 s
        "OUTBOX_POLL_SECONDS": "0.2",
        "OUTBOX_BATCH_SIZE": "10",
    }


async def sign_up(base_url: str, count: int) -> list[str]:
    """``count`` signups over HTTP, 8 at a time; returns the emails that got a 201."""
    emails = [f"user{n}@example.com" for n in range(count)]
    gate = asyncio.Semaphore(8)

    async def one(client: httpx.AsyncClient, email: str) -> None:
        async with gate:
            body = {"email": email, "username": email.split("@")[0], "password": "correct horse"}
            response = await client.post("/users", json=body)
            assert response.status_code == 201, response.text

    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        await asyncio.gather(*(one(client, email) for email in emails))
    return emails


async def wait_for_mails(smtp: SmtpServer, count: int, deadline_s: float = 120) -> None:
    deadline = time.monotonic() + deadline_s
    while len(smtp.handler.messages()) < count:
        assert time.monotonic() < deadline, f"fewer than {count} mails in time"
        await asyncio.sleep(0.05)


def delivered_lines(log: Path) -> int:
    return sum("delivered outbox message" in line for line in log.read_text().splitlines())


@pytest.fixture
def slow_smtp(smtp: SmtpServer) -> SmtpServer:
    smtp.handler.delay_seconds = 0.05  # ~20 mails/s: the kill lands in the middle of a batch
    return smtp


async def test_a_worker_killed_mid_batch_loses_no_welcome_email(
    cluster: LocalCluster, slow_smtp: SmtpServer, users_items: Start, tmp_path: Path
) -> None:
    started = time.monotonic()
    api = serve(users_items, plain_url(cluster))
    first = users_items("worker", env=worker_env(cluster, slow_smtp), name="worker-1")

    signups = asyncio.create_task(sign_up(api.base_url, SIGNUPS))
    await wait_for_mails(slow_smtp, 40)
    first.process.send_signal(signal.SIGKILL)
    assert first.process.wait(timeout=10) == -signal.SIGKILL
    mails_at_kill = len(slow_smtp.handler.messages())
    recorded_at_kill = len((await outbox_by_status(cluster.url))[OutboxStatus.DELIVERED])
    emails = await signups

    second = users_items("worker", env=worker_env(cluster, slow_smtp), name="worker-2")
    await wait_until_all_delivered(cluster.url)
    assert second.terminate() == 0  # SIGTERM: a clean exit

    messages = await outbox_by_status(cluster.url)
    assert len(messages[OutboxStatus.DELIVERED]) == SIGNUPS
    assert messages[OutboxStatus.PENDING] == messages[OutboxStatus.DEAD] == []
    event_of = {m.event_id: m.payload["email"] for m in messages[OutboxStatus.DELIVERED]}
    mails = slow_smtp.handler.messages()
    assert {mail["To"] for mail in mails} == set(emails)  # every user got a welcome email
    assert all(event_of[mail[EVENT_ID_HEADER]] == mail["To"] for mail in mails)
    duplicates = len(mails) - len({mail[EVENT_ID_HEADER] for mail in mails})
    results_line(
        tmp_path,
        f"outbox kill -9: {SIGNUPS} signups, killed after {mails_at_kill} mails "
        f"({recorded_at_kill} recorded delivered), {len(mails)} mails in all, "
        f"{duplicates} redelivered (at least once), {time.monotonic() - started:.1f} s",
    )
    assert api.terminate() in (0, -signal.SIGTERM)


async def test_two_workers_side_by_side_deliver_no_message_twice(
    cluster: LocalCluster, smtp: SmtpServer, users_items: Start, tmp_path: Path
) -> None:
    await sign_up_users(cluster.url, SIGNUPS)
    smtp.handler.delay_seconds = 0.01
    started = time.monotonic()

    workers = [
        users_items("worker", env=worker_env(cluster, smtp), name=f"worker-{n}") for n in (1, 2)
    ]
    await wait_until_all_delivered(cluster.url)
    elapsed = time.monotonic() - started

    assert [w.process.poll() for w in workers] == [None, None]  # neither crashed
    assert [w.terminate() for w in workers] == [0, 0]
    per_event = Counter(mail[EVENT_ID_HEADER] for mail in smtp.handler.messages())
    assert len(per_event) == SIGNUPS
    assert per_event.most_common(1)[0][1] == 1  # no message delivered twice
    shares = [delivered_lines(w.log) for w in workers]
    assert sum(shares) == SIGNUPS
    assert min(shares) > 0  # both really worked
    results_line(
        tmp_path,
        f"two workers: {SIGNUPS} messages in {elapsed:.1f} s, split {shares[0]}/{shares[1]}, "
        "no duplicates",
    )

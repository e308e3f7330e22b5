"""PruneOutbox on the in-memory adapters: batches until nothing old is left."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from adapters.memory import InMemoryDatabase, InMemoryUnitOfWork
from application.manage_outbox import PruneOutbox
from application.ports import NewOutboxMessage, Outbox, OutboxStatus

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
RETENTION = timedelta(days=7)


async def _delivered(db: InMemoryDatabase, count: int, at: datetime) -> None:
    async with InMemoryUnitOfWork(db) as uow:
        for _ in range(count):
            await uow.repository(Outbox).add(
                NewOutboxMessage(str(uuid.uuid4()), "UserRegistered", {}, at)
            )
        for message in await uow.repository(Outbox).claim(at, at, count):
            await uow.repository(Outbox).mark_delivered(message.id, at)
        await uow.commit()


async def _counts(db: InMemoryDatabase) -> dict[OutboxStatus, int]:
    async with InMemoryUnitOfWork(db) as uow:
        return {status: await uow.repository(Outbox).count(status) for status in OutboxStatus}


async def test_deletes_every_message_past_its_retention_in_batches(
    db: InMemoryDatabase,
) -> None:
    await _delivered(db, 5, NOW - RETENTION - timedelta(seconds=1))
    await _delivered(db, 2, NOW - RETENTION + timedelta(seconds=1))  # still within retention

    deleted = await PruneOutbox(
        InMemoryUnitOfWork(db), RETENTION, batch_size=2, clock=lambda: NOW
    ).execute()

    assert deleted == 5
    assert (await _counts(db))[OutboxStatus.DELIVERED] == 2


async def test_nothing_to_prune_is_no_error(db: InMemoryDatabase) -> None:
    prune = PruneOutbox(InMemoryUnitOfWork(db), RETENTION, clock=lambda: NOW)

    assert await prune.execute() == 0


async def test_by_default_a_transaction_deletes_a_thousand_messages(db: InMemoryDatabase) -> None:
    """Short transactions, so a large backlog never holds locks long: 2,000 old messages are two
    full batches and a last, empty one."""
    await _delivered(db, 2000, NOW - RETENTION - timedelta(seconds=1))
    commits_before = db.commits

    deleted = await PruneOutbox(InMemoryUnitOfWork(db), RETENTION, clock=lambda: NOW).execute()

    assert deleted == 2000
    assert db.commits - commits_before == 3

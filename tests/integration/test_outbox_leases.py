"""What the outbox's PostgreSQL schema promises the event relay (decision 0058): leasing a row
writes no index entry, and the claim's lease and its heads are two statements that still lease
each head once, whatever claims run beside them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from adapters.sqlalchemy.database import SqlAlchemyDatabase
from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.outbox import SqlAlchemyOutbox
from application.ports.outbox import NewOutboxMessage, OutboxDestination
from tests.conftest import empty_tables

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


def event(user_id: int) -> NewOutboxMessage:
    return NewOutboxMessage(
        event_id=str(uuid.uuid4()),
        event_type="item.created",
        payload={"user_id": user_id},
        created_at=NOW,
        destination=OutboxDestination.EVENTS,
        ordering_key=str(user_id),
    )


@pytest.fixture
async def database(postgres_url: str) -> AsyncIterator[SqlAlchemyDatabase]:
    """The outbox empty; a pool of 10, enough for eight claimers at once."""
    engine = create_engine(postgres_url)
    await empty_tables(engine)
    yield SqlAlchemyDatabase(engine)
    await engine.dispose()


async def record(database: SqlAlchemyDatabase, users: range) -> None:
    async with database.transaction() as transaction:
        for user_id in users:
            await SqlAlchemyOutbox(transaction).add(event(user_id))
        await transaction.commit()


async def test_a_lease_is_a_heap_only_update(database: SqlAlchemyDatabase) -> None:
    await record(database, range(1, 4))
    async with database.transaction() as transaction:
        claimed = await SqlAlchemyOutbox(transaction).claim(
            NOW, NOW + LEASE, 10, OutboxDestination.EVENTS
        )
        # This transaction's own counts: every leased row stayed on its page, and no index
        # holds the column a lease moves, so no index got a new entry.
        updated, heap_only = (
            await transaction.connection.execute(
                text(
                    "SELECT pg_stat_get_xact_tuples_updated('outbox'::regclass), "
                    "pg_stat_get_xact_tuples_hot_updated('outbox'::regclass)"
                )
            )
        ).one()
    assert [m.ordering_key for m in claimed] == ["1", "2", "3"]
    assert (updated, heap_only) == (3, 3)


async def test_concurrent_claims_lease_each_head_once(database: SqlAlchemyDatabase) -> None:
    """Each claimer finds the heads, then leases them by id under SKIP LOCKED with the row's
    state checked again: a head leased by another claimer in between is not leased twice."""
    await record(database, range(1, 41))

    async def claim() -> list[int]:
        async with database.transaction() as transaction:
            claimed = await SqlAlchemyOutbox(transaction).claim(
                NOW, NOW + LEASE, 10, OutboxDestination.EVENTS
            )
            await transaction.commit()
        return [m.id for m in claimed]

    for _ in range(5):  # rounds of eight claimers racing over the same forty heads
        async with database.transaction() as transaction:
            await transaction.connection.execute(
                text("UPDATE outbox SET available_at = :t"), {"t": NOW}
            )
            await transaction.commit()
        batches = await asyncio.gather(*(claim() for _ in range(8)))
        leased = [i for batch in batches for i in batch]
        assert len(leased) == len(set(leased))
        assert len(leased) == 40  # four full batches; the other claimers found them taken

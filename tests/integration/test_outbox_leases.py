"""What the outbox's PostgreSQL schema promises the event relay (decision 0058): leasing a row
writes no index entry, and the claim's lease and its heads are two statements that still lease
each head once, whatever claims run beside them."""

from __future__ import annotations

import asyncio
import uuid
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


async def test_a_lease_is_a_heap_only_update(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    await empty_tables(engine)
    database = SqlAlchemyDatabase(engine)
    try:
        async with database.transaction() as transaction:
            for user_id in (1, 2, 3):
                await SqlAlchemyOutbox(transaction).add(event(user_id))
            await transaction.commit()
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
    finally:
        await engine.dispose()


async def test_concurrent_claims_lease_each_head_once(postgres_url: str) -> None:
    """Each claimer finds the heads, then leases them by id under SKIP LOCKED with the row's
    state checked again: a head leased by another claimer in between is not leased twice."""
    engine = create_engine(postgres_url)  # a pool of 10: the eight claimers at once
    await empty_tables(engine)
    database = SqlAlchemyDatabase(engine)
    try:
        async with database.transaction() as transaction:
            for user_id in range(1, 41):
                await SqlAlchemyOutbox(transaction).add(event(user_id))
            await transaction.commit()

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
    finally:
        await engine.dispose()

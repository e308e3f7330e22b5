"""The outbox as Core statements on the unit of work's connection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, func, insert, or_, select, update

from adapters.sqlalchemy.database import SqlTransaction
from adapters.sqlalchemy.rows import utc
from adapters.sqlalchemy.tables import outbox
from adapters.sqlalchemy.unit_of_work import sql_repository
from application.ports.outbox import (
    NewOutboxMessage,
    Outbox,
    OutboxDestination,
    OutboxMessage,
    OutboxStatus,
)

_COLUMNS = (
    outbox.c.id,
    outbox.c.event_id,
    outbox.c.event_type,
    outbox.c.payload,
    outbox.c.status,
    outbox.c.attempts,
    outbox.c.available_at,
    outbox.c.created_at,
    outbox.c.delivered_at,
    outbox.c.last_error,
    outbox.c.destination,
    outbox.c.ordering_key,
)


def _message(row: Any) -> OutboxMessage:
    return OutboxMessage(
        id=row.id,
        event_id=row.event_id,
        event_type=row.event_type,
        payload=row.payload,
        status=OutboxStatus(row.status),
        attempts=row.attempts,
        available_at=utc(row.available_at),
        created_at=utc(row.created_at),
        delivered_at=utc(row.delivered_at),
        last_error=row.last_error,
        destination=OutboxDestination(row.destination),
        ordering_key=row.ordering_key,
    )


def _of(destination: OutboxDestination | None) -> list[Any]:
    return [] if destination is None else [outbox.c.destination == destination.value]


def _contiguous(
    heads: Sequence[OutboxMessage], followers: Sequence[OutboxMessage]
) -> list[OutboxMessage]:
    """Heads and followers in id order. The followers were cut at the batch size, which may
    leave a key with a gap-free run only: every follower was taken in id order per key, so any
    cut is a prefix of each key's run."""
    return sorted([*heads, *followers], key=lambda m: m.id)


def _replacing(payload: Mapping[str, Any] | None) -> dict[str, Any]:
    return {} if payload is None else {"payload": dict(payload)}


@sql_repository(Outbox)
class SqlAlchemyOutbox:
    def __init__(self, transaction: SqlTransaction) -> None:
        self._connection = transaction.connection

    async def add(self, message: NewOutboxMessage) -> None:
        # No lock per key: ids come from a sequence as rows are inserted, so an event caused by
        # another (its transaction read the other's committed change) always has the higher id.
        # Only changes that did not see each other can commit in the other order than their
        # ids, and then either order is theirs (docs/decisions/0043).
        values = {
            "event_id": message.event_id,
            "event_type": message.event_type,
            "payload": dict(message.payload),
            "status": OutboxStatus.PENDING.value,
            "attempts": 0,
            "available_at": message.created_at,
            "created_at": message.created_at,
            "destination": message.destination.value,
            "ordering_key": message.ordering_key,
        }
        await self._connection.execute(insert(outbox).values(**values))

    async def claim(
        self,
        now: datetime,
        lease_until: datetime,
        limit: int,
        destination: OutboxDestination = OutboxDestination.EMAIL,
    ) -> Sequence[OutboxMessage]:
        # Lock the due heads nobody else holds (SKIP LOCKED; SQLite ignores the clause and
        # serialises writers with BEGIN IMMEDIATE) and push their availability to the end of
        # the lease, so a claim survives this transaction's commit. A row with an ordering key
        # is a head when no earlier row of its key is still undelivered (pending or dead).
        earlier = outbox.alias("earlier")
        blocked = exists().where(
            earlier.c.ordering_key == outbox.c.ordering_key,
            earlier.c.id < outbox.c.id,
            earlier.c.status != OutboxStatus.DELIVERED.value,
        )
        due = (
            select(outbox.c.id)
            .where(
                outbox.c.destination == destination.value,
                outbox.c.status == OutboxStatus.PENDING.value,
                outbox.c.available_at <= now,
                or_(outbox.c.ordering_key.is_(None), ~blocked),
            )
            .order_by(outbox.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        result = await self._connection.execute(
            update(outbox)
            .where(outbox.c.id.in_(due))
            .values(available_at=lease_until)
            .returning(*_COLUMNS)
        )
        heads = sorted((_message(row) for row in result), key=lambda m: m.id)
        keys = {m.ordering_key for m in heads if m.ordering_key is not None}
        if not keys or len(heads) >= limit:
            return heads
        # The claimer owns these keys while the heads' leases last: take each key's next
        # pending rows with them (whatever their availability: a follower's own lease or
        # backoff means nothing while its head is undelivered), up to the batch size.
        head_ids = [m.id for m in heads]
        followers = (
            select(outbox.c.id)
            .where(
                outbox.c.ordering_key.in_(keys),
                outbox.c.destination == destination.value,
                outbox.c.status == OutboxStatus.PENDING.value,
                outbox.c.id.not_in(head_ids),
                outbox.c.id > min(head_ids),
            )
            .order_by(outbox.c.id)
            .limit(limit - len(heads))
            .scalar_subquery()
        )
        more = await self._connection.execute(
            update(outbox)
            .where(outbox.c.id.in_(followers))
            .values(available_at=lease_until)
            .returning(*_COLUMNS)
        )
        return _contiguous(heads, [_message(row) for row in more])

    async def mark_delivered(
        self, message_id: int, at: datetime, *, payload: Mapping[str, Any] | None = None
    ) -> None:
        await self._update(
            message_id,
            status=OutboxStatus.DELIVERED.value,
            delivered_at=at,
            **_replacing(payload),
        )

    async def schedule_retry(
        self, message_id: int, *, attempts: int, available_at: datetime, error: str
    ) -> None:
        await self._update(
            message_id, attempts=attempts, available_at=available_at, last_error=error
        )

    async def mark_dead(
        self,
        message_id: int,
        *,
        attempts: int,
        error: str,
        payload: Mapping[str, Any] | None = None,
    ) -> None:
        await self._update(
            message_id,
            status=OutboxStatus.DEAD.value,
            attempts=attempts,
            last_error=error,
            **_replacing(payload),
        )

    async def release(self, message_id: int, available_at: datetime) -> None:
        await self._connection.execute(
            update(outbox)
            .where(outbox.c.id == message_id, outbox.c.status == OutboxStatus.PENDING.value)
            .values(available_at=available_at)
        )

    async def requeue(self, message_id: int, now: datetime) -> bool:
        result = await self._connection.execute(
            update(outbox)
            .where(outbox.c.id == message_id, outbox.c.status == OutboxStatus.DEAD.value)
            .values(status=OutboxStatus.PENDING.value, attempts=0, available_at=now)
            .returning(outbox.c.id)
        )
        return result.first() is not None

    async def get(self, message_id: int) -> OutboxMessage | None:
        row = (
            await self._connection.execute(select(*_COLUMNS).where(outbox.c.id == message_id))
        ).first()
        return None if row is None else _message(row)

    async def list(
        self, status: OutboxStatus, limit: int, destination: OutboxDestination | None = None
    ) -> Sequence[OutboxMessage]:
        result = await self._connection.execute(
            select(*_COLUMNS)
            .where(outbox.c.status == status.value, *_of(destination))
            .order_by(outbox.c.id)
            .limit(limit)
        )
        return [_message(row) for row in result]

    async def count(
        self, status: OutboxStatus, destination: OutboxDestination | None = None
    ) -> int:
        result = await self._connection.execute(
            select(func.count())
            .select_from(outbox)
            .where(outbox.c.status == status.value, *_of(destination))
        )
        return int(result.scalar_one())

    async def oldest_undelivered(self, destination: OutboxDestination) -> datetime | None:
        result = await self._connection.execute(
            select(func.min(outbox.c.created_at)).where(
                outbox.c.destination == destination.value,
                outbox.c.status != OutboxStatus.DELIVERED.value,
            )
        )
        oldest: datetime | None = utc(result.scalar_one())
        return oldest

    async def _update(self, message_id: int, **values: Any) -> None:
        await self._connection.execute(
            update(outbox).where(outbox.c.id == message_id).values(**values)
        )

    async def delete_delivered_before(self, cutoff: datetime, limit: int) -> int:
        # A bounded batch per statement: a long retention backlog is deleted in short
        # transactions, never in one that locks the table for minutes.
        oldest = (
            select(outbox.c.id)
            .where(
                outbox.c.status == OutboxStatus.DELIVERED.value,
                outbox.c.delivered_at < cutoff,
            )
            .order_by(outbox.c.id)
            .limit(limit)
        )
        result = await self._connection.execute(delete(outbox).where(outbox.c.id.in_(oldest)))
        deleted: int = result.rowcount
        return deleted

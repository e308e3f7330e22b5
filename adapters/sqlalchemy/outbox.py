"""The outbox as Core statements on the unit of work's connection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sqlalchemy.rows import utc
from adapters.sqlalchemy.tables import outbox
from adapters.sqlalchemy.unit_of_work import sql_repository
from application.ports.outbox import NewOutboxMessage, Outbox, OutboxMessage, OutboxStatus

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
    )


def _replacing(payload: Mapping[str, Any] | None) -> dict[str, Any]:
    return {} if payload is None else {"payload": dict(payload)}


@sql_repository(Outbox)
class SqlAlchemyOutbox:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, message: NewOutboxMessage) -> None:
        await self._connection.execute(
            insert(outbox).values(
                event_id=message.event_id,
                event_type=message.event_type,
                payload=dict(message.payload),
                status=OutboxStatus.PENDING.value,
                attempts=0,
                available_at=message.created_at,
                created_at=message.created_at,
            )
        )

    async def claim(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> Sequence[OutboxMessage]:
        # One statement: lock the due rows nobody else holds (SKIP LOCKED; SQLite ignores the
        # clause and serialises writers with BEGIN IMMEDIATE) and push their availability to the
        # end of the lease, so a claim survives this transaction's commit.
        due = (
            select(outbox.c.id)
            .where(outbox.c.status == OutboxStatus.PENDING.value, outbox.c.available_at <= now)
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
        return sorted((_message(row) for row in result), key=lambda m: m.id)

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

    async def list(self, status: OutboxStatus, limit: int) -> Sequence[OutboxMessage]:
        result = await self._connection.execute(
            select(*_COLUMNS)
            .where(outbox.c.status == status.value)
            .order_by(outbox.c.id)
            .limit(limit)
        )
        return [_message(row) for row in result]

    async def count(self, status: OutboxStatus) -> int:
        result = await self._connection.execute(
            select(func.count()).select_from(outbox).where(outbox.c.status == status.value)
        )
        return int(result.scalar_one())

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

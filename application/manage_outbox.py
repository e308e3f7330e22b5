"""Operator use cases on the outbox: list messages by status, requeue a dead one, prune the
delivered ones past their retention."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from application.clock import Clock, utc_now
from application.errors import ApplicationError, OutboxMessageNotDead
from application.ports import Outbox, OutboxDestination, OutboxMessage, OutboxStatus, UnitOfWork


class ListOutboxMessages:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(
        self,
        status: OutboxStatus,
        limit: int = 100,
        destination: OutboxDestination | None = None,
    ) -> Sequence[OutboxMessage]:
        async with self._uow:
            return await self._uow.repository(Outbox).list(status, limit, destination)


class CountOutboxMessages:
    """How many messages wait (pending) or gave up (dead): the outbox gauges of /metrics."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(
        self, status: OutboxStatus, destination: OutboxDestination | None = None
    ) -> int:
        async with self._uow:
            return await self._uow.repository(Outbox).count(status, destination)


class MeasureEventLag:
    """Seconds since the oldest event not yet published was recorded; 0 when none waits (the
    lag an operator alerts on)."""

    def __init__(self, uow: UnitOfWork, clock: Clock = utc_now) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self) -> float:
        async with self._uow:
            oldest = await self._uow.repository(Outbox).oldest_undelivered(OutboxDestination.EVENTS)
        return 0.0 if oldest is None else max(0.0, (self._clock() - oldest).total_seconds())


class RequeueOutboxMessage:
    """Give a dead message a fresh set of attempts, due now."""

    raises: ClassVar[tuple[type[ApplicationError], ...]] = (OutboxMessageNotDead,)

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, message_id: int) -> None:
        async with self._uow:
            if not await self._uow.repository(Outbox).requeue(message_id, datetime.now(UTC)):
                raise OutboxMessageNotDead(message_id)
            await self._uow.commit()


class PruneOutbox:
    """Delete messages delivered more than ``retention`` ago, ``batch_size`` per transaction,
    until none is left; pending and dead messages stay. Returns how many were deleted."""

    def __init__(
        self,
        uow: UnitOfWork,
        retention: timedelta,
        batch_size: int = 1000,
        clock: Clock = utc_now,
    ) -> None:
        self._uow = uow
        self._retention = retention
        self._batch_size = batch_size
        self._clock = clock

    async def execute(self) -> int:
        cutoff = self._clock() - self._retention
        deleted = 0
        while True:
            async with self._uow:
                batch = await self._uow.repository(Outbox).delete_delivered_before(
                    cutoff, self._batch_size
                )
                await self._uow.commit()
            deleted += batch
            if batch < self._batch_size:
                return deleted

"""Operator use cases on the outbox: list messages by status, requeue a dead one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from application.errors import OutboxMessageNotDead
from application.ports import OutboxMessage, OutboxStatus, UnitOfWork


class ListOutboxMessages:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, status: OutboxStatus, limit: int = 100) -> Sequence[OutboxMessage]:
        async with self._uow:
            return await self._uow.outbox.list(status, limit)


class CountOutboxMessages:
    """How many messages wait (pending) or gave up (dead): the outbox gauges of /metrics."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, status: OutboxStatus) -> int:
        async with self._uow:
            return await self._uow.outbox.count(status)


class RequeueOutboxMessage:
    """Give a dead message a fresh set of attempts, due now."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, message_id: int) -> None:
        async with self._uow:
            if not await self._uow.outbox.requeue(message_id, datetime.now(UTC)):
                raise OutboxMessageNotDead(message_id)
            await self._uow.commit()

"""The in-memory outbox, over the unit of work's copied state."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from adapters.memory.database import InMemoryState
from adapters.memory.unit_of_work import memory_repository
from application.ports.outbox import (
    NewOutboxMessage,
    Outbox,
    OutboxDestination,
    OutboxMessage,
    OutboxStatus,
)


def _replacing(payload: Mapping[str, Any] | None) -> dict[str, Any]:
    return {} if payload is None else {"payload": dict(payload)}


@memory_repository(Outbox)
class InMemoryOutbox:
    """Transactions over ``InMemoryDatabase`` are serialised, so claims are disjoint as they
    are on PostgreSQL with ``SKIP LOCKED``."""

    def __init__(self, state: InMemoryState) -> None:
        self._state = state

    async def add(self, message: NewOutboxMessage) -> None:
        if any(m.event_id == message.event_id for m in self._state.outbox.values()):
            raise ValueError(f"outbox event {message.event_id} is already recorded")
        self._state.last_outbox_id += 1
        self._state.outbox[self._state.last_outbox_id] = OutboxMessage(
            id=self._state.last_outbox_id,
            event_id=message.event_id,
            event_type=message.event_type,
            payload=dict(message.payload),
            status=OutboxStatus.PENDING,
            attempts=0,
            available_at=message.created_at,
            created_at=message.created_at,
            destination=message.destination,
            ordering_key=message.ordering_key,
        )

    async def claim(
        self,
        now: datetime,
        lease_until: datetime,
        limit: int,
        destination: OutboxDestination = OutboxDestination.EMAIL,
    ) -> Sequence[OutboxMessage]:
        mine = sorted(
            (m for m in self._state.outbox.values() if m.destination is destination),
            key=lambda m: m.id,
        )
        undelivered_keys: set[str] = set()
        heads: list[OutboxMessage] = []
        for m in mine:
            blocked = m.ordering_key is not None and m.ordering_key in undelivered_keys
            if m.ordering_key is not None and m.status is not OutboxStatus.DELIVERED:
                undelivered_keys.add(m.ordering_key)
            due = m.status is OutboxStatus.PENDING and m.available_at <= now
            if len(heads) < limit and due and not blocked:
                heads.append(m)
        keys = {m.ordering_key for m in heads if m.ordering_key is not None}
        head_ids = {m.id for m in heads}
        followers = [
            m
            for m in mine
            if m.ordering_key in keys and m.id not in head_ids and m.status is OutboxStatus.PENDING
        ][: limit - len(heads)]
        claimed = sorted(
            (replace(m, available_at=lease_until) for m in [*heads, *followers]),
            key=lambda m: m.id,
        )
        for message in claimed:
            self._state.outbox[message.id] = message
        return claimed

    async def mark_delivered(
        self, message_id: int, at: datetime, *, payload: Mapping[str, Any] | None = None
    ) -> None:
        self._update(
            message_id, status=OutboxStatus.DELIVERED, delivered_at=at, **_replacing(payload)
        )

    async def mark_delivered_many(self, message_ids: Sequence[int], at: datetime) -> None:
        for message_id in message_ids:
            self._update(message_id, status=OutboxStatus.DELIVERED, delivered_at=at)

    async def schedule_retry(
        self, message_id: int, *, attempts: int, available_at: datetime, error: str
    ) -> None:
        self._update(message_id, attempts=attempts, available_at=available_at, last_error=error)

    async def mark_dead(
        self,
        message_id: int,
        *,
        attempts: int,
        error: str,
        payload: Mapping[str, Any] | None = None,
    ) -> None:
        self._update(
            message_id,
            status=OutboxStatus.DEAD,
            attempts=attempts,
            last_error=error,
            **_replacing(payload),
        )

    async def release_many(self, message_ids: Sequence[int], available_at: datetime) -> None:
        for message_id in message_ids:
            message = self._state.outbox.get(message_id)
            if message is not None and message.status is OutboxStatus.PENDING:
                self._update(message_id, available_at=available_at)

    async def requeue(self, message_id: int, now: datetime) -> bool:
        message = self._state.outbox.get(message_id)
        if message is None or message.status is not OutboxStatus.DEAD:
            return False
        self._update(message_id, status=OutboxStatus.PENDING, attempts=0, available_at=now)
        return True

    async def get(self, message_id: int) -> OutboxMessage | None:
        return self._state.outbox.get(message_id)

    async def list(
        self, status: OutboxStatus, limit: int, destination: OutboxDestination | None = None
    ) -> Sequence[OutboxMessage]:
        return sorted((m for m in self._of(destination) if m.status is status), key=lambda m: m.id)[
            :limit
        ]

    async def count(
        self, status: OutboxStatus, destination: OutboxDestination | None = None
    ) -> int:
        return sum(1 for m in self._of(destination) if m.status is status)

    async def oldest_undelivered(self, destination: OutboxDestination) -> datetime | None:
        return min(
            (m.created_at for m in self._of(destination) if m.status is not OutboxStatus.DELIVERED),
            default=None,
        )

    def _of(self, destination: OutboxDestination | None) -> Sequence[OutboxMessage]:
        return [
            m
            for m in self._state.outbox.values()
            if destination is None or m.destination is destination
        ]

    async def delete_delivered_before(self, cutoff: datetime, limit: int) -> int:
        old = sorted(
            m.id
            for m in self._state.outbox.values()
            if m.status is OutboxStatus.DELIVERED
            and m.delivered_at is not None
            and m.delivered_at < cutoff
        )[:limit]
        for message_id in old:
            del self._state.outbox[message_id]
        return len(old)

    def _update(self, message_id: int, **changes: object) -> None:
        message = self._state.outbox.get(message_id)
        if message is not None:
            self._state.outbox[message_id] = replace(message, **changes)  # type: ignore[arg-type]

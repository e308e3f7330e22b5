"""The outbox port: events recorded in the same transaction as the change that caused them, and
delivered afterwards by the worker (at least once; receivers de-duplicate by ``event_id``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class OutboxStatus(StrEnum):
    PENDING = "pending"  # waiting for its first or next delivery attempt
    DELIVERED = "delivered"
    DEAD = "dead"  # gave up after OUTBOX_MAX_ATTEMPTS; kept until requeued


@dataclass(frozen=True, slots=True)
class NewOutboxMessage:
    event_id: str  # a UUID, unique per event: what a receiver de-duplicates on
    event_type: str
    payload: Mapping[str, Any]  # JSON-serialisable
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    id: int
    event_id: str
    event_type: str
    payload: Mapping[str, Any]
    status: OutboxStatus
    attempts: int  # failed deliveries so far
    available_at: datetime  # not claimed before this moment (retry backoff, or a claim's lease)
    created_at: datetime
    delivered_at: datetime | None = None
    last_error: str | None = None


class Outbox(Protocol):
    """Writes take effect when the unit of work commits, like every repository's."""

    async def add(self, message: NewOutboxMessage) -> None: ...

    async def claim(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> Sequence[OutboxMessage]:
        """Up to ``limit`` pending messages available at ``now``, oldest first, made unavailable
        to every other claimer until ``lease_until`` (their ``available_at``). Concurrent claimers
        get disjoint messages: on PostgreSQL ``FOR UPDATE SKIP LOCKED``; SQLite and memory
        serialise transactions."""
        ...

    async def mark_delivered(
        self, message_id: int, at: datetime, *, payload: Mapping[str, Any] | None = None
    ) -> None:
        """Record the delivery; a ``payload`` replaces the stored one (to remove a token)."""
        ...

    async def schedule_retry(
        self, message_id: int, *, attempts: int, available_at: datetime, error: str
    ) -> None:
        """Record a failed attempt; the message is claimable again from ``available_at``."""
        ...

    async def mark_dead(
        self,
        message_id: int,
        *,
        attempts: int,
        error: str,
        payload: Mapping[str, Any] | None = None,
    ) -> None:
        """Give up on the message; a ``payload`` replaces the stored one (to remove a token)."""
        ...

    async def release(self, message_id: int, available_at: datetime) -> None:
        """Hand a claimed, unattempted message back (the worker is stopping)."""
        ...

    async def requeue(self, message_id: int, now: datetime) -> bool:
        """Make a dead message pending again with no attempts counted; False if no dead message
        has this id."""
        ...

    async def get(self, message_id: int) -> OutboxMessage | None: ...

    async def list(self, status: OutboxStatus, limit: int) -> Sequence[OutboxMessage]:
        """Up to ``limit`` messages in ``status``, ascending id."""
        ...

    async def count(self, status: OutboxStatus) -> int:
        """How many messages are in ``status`` (for the metrics)."""
        ...

    async def delete_delivered_before(self, cutoff: datetime, limit: int) -> int:
        """Delete up to ``limit`` delivered messages delivered before ``cutoff``, lowest ids
        first; return how many. Pending and dead messages are never deleted."""
        ...

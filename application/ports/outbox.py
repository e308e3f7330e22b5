"""The outbox port: events recorded in the same transaction as the change that caused them, and
delivered afterwards by the worker (at least once; receivers de-duplicate by ``event_id``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class OutboxDestination(StrEnum):
    """Where a message goes. Each destination is claimed and delivered on its own (one row per
    destination, docs/decisions/0043): an SMTP outage never holds an event back, nor a broker
    outage an email."""

    EMAIL = "email"  # the notifier (SMTP or the log)
    EVENTS = "events"  # the event publisher (NATS JetStream)


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
    destination: OutboxDestination = OutboxDestination.EMAIL
    # Messages of one key go out in id order, one after the other (events: the user id); a
    # message waits while an earlier message of its key is not delivered. None: no order.
    ordering_key: str | None = None


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
    destination: OutboxDestination = OutboxDestination.EMAIL
    ordering_key: str | None = None


class Outbox(Protocol):
    """Writes take effect when the unit of work commits, like every repository's."""

    async def add(self, message: NewOutboxMessage) -> None: ...

    async def claim(
        self,
        now: datetime,
        lease_until: datetime,
        limit: int,
        destination: OutboxDestination = OutboxDestination.EMAIL,
    ) -> Sequence[OutboxMessage]:
        """Up to ``limit`` pending messages of ``destination`` available at ``now``, oldest
        first, made unavailable to every other claimer until ``lease_until`` (their
        ``available_at``). Concurrent claimers get disjoint messages: on PostgreSQL ``FOR UPDATE
        SKIP LOCKED``; SQLite and memory serialise transactions.

        Messages with an ordering key: only the head of a key (no earlier message of the key is
        pending or dead) is claimable, and with it the claimer takes the key's next pending
        messages in id order (a contiguous run, whatever their ``available_at``), all leased.
        The claimer owns the key while the head's lease lasts: no one else can claim any of
        its messages, so they go out in order. Returned in id order."""
        ...

    async def mark_delivered(
        self, message_id: int, at: datetime, *, payload: Mapping[str, Any] | None = None
    ) -> None:
        """Record the delivery; a ``payload`` replaces the stored one (to remove a token)."""
        ...

    async def mark_delivered_many(self, message_ids: Sequence[int], at: datetime) -> None:
        """Record the delivery of every message of ``message_ids`` at once (one statement: the
        event relay records a pass's published rows together); payloads are kept."""
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

    async def release_many(self, message_ids: Sequence[int], available_at: datetime) -> None:
        """Hand claimed, unattempted messages back (the worker is stopping), due again at
        ``available_at``; one statement. A message that is no longer pending is left alone."""
        ...

    async def requeue(self, message_id: int, now: datetime) -> bool:
        """Make a dead message pending again with no attempts counted; False if no dead message
        has this id."""
        ...

    async def get(self, message_id: int) -> OutboxMessage | None: ...

    async def list(
        self, status: OutboxStatus, limit: int, destination: OutboxDestination | None = None
    ) -> Sequence[OutboxMessage]:
        """Up to ``limit`` messages in ``status`` (of ``destination``; None: any), ascending
        id."""
        ...

    async def count(
        self, status: OutboxStatus, destination: OutboxDestination | None = None
    ) -> int:
        """How many messages are in ``status`` (for the metrics)."""
        ...

    async def oldest_undelivered(self, destination: OutboxDestination) -> datetime | None:
        """When the oldest pending or dead message of ``destination`` was recorded; None when
        every one is delivered (the lag gauge of /metrics)."""
        ...

    async def delete_delivered_before(self, cutoff: datetime, limit: int) -> int:
        """Delete up to ``limit`` delivered messages delivered before ``cutoff``, lowest ids
        first; return how many. Pending and dead messages are never deleted."""
        ...

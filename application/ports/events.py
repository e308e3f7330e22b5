"""The event port: what the outbox relay needs from a message broker.

Events are recorded in the outbox in the transaction of their change (``application.events``);
the relay (``PublishEvents``) hands each to an ``EventPublisher``, which returns only once the
broker has acknowledged it (stored it). The adapter is NATS JetStream
(``adapters/nats_events.py``); any broker that acknowledges and de-duplicates on the event id
fits the same port.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class CloudEvent:
    """One event as CloudEvents 1.0 describes it; the adapter serialises it (structured JSON)."""

    id: str  # a UUID: the event's identity, the same on every repeat
    type: str  # "users-items.user.registered"
    source: str
    subject: str  # the user's id, as a decimal string
    time: datetime  # UTC, when the change was recorded in its transaction
    data: Mapping[str, Any]
    specversion: str = "1.0"
    datacontenttype: str = "application/json"

    def to_json_object(self) -> dict[str, Any]:
        return {
            "specversion": self.specversion,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "subject": self.subject,
            "time": self.time.isoformat().replace("+00:00", "Z"),
            "datacontenttype": self.datacontenttype,
            "data": dict(self.data),
        }


class PublisherUnavailable(Exception):
    """The broker cannot be reached now (not connected, no acknowledgement in time): nothing is
    wrong with the event. The relay counts no attempt, hands its batch back and waits."""


class EventRejected(Exception):
    """The broker answered and refused this event: one failed attempt of this event."""


@dataclass(frozen=True, slots=True)
class NamedEvent:
    name: str  # its bare type, "user.registered": the adapter makes the subject of it
    event: CloudEvent


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """How a run went: its first ``acknowledged`` events are stored by the broker; ``error``
    is why the next one was not (None: all were)."""

    acknowledged: int
    error: Exception | None = None


class EventPublisher(Protocol):
    async def publish_run(self, events: Sequence[NamedEvent]) -> RunOutcome:
        """Publish ``events`` (one user's, in order) so that the broker stores them in this
        order, and return once each is acknowledged or the first failure is known. The adapter
        may send several before the first acknowledgement (pipelining) as long as the order
        holds. A repeat of an ``id`` is dropped by the broker within its duplicate window. The
        error is ``PublisherUnavailable``, ``EventRejected`` or anything else (counted as a
        rejection)."""
        ...

    async def close(self) -> None: ...

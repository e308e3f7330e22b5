"""The notifier port: tells a person something (a welcome email, ...)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Notification:
    event_id: str  # the outbox event's id: a receiver de-duplicates repeated deliveries by it
    recipient: str  # an email address
    subject: str
    body: str


class NotificationFailed(Exception):
    """The notification was not accepted (server down, refused, timed out); it may be retried."""


class Notifier(Protocol):
    async def send(self, notification: Notification) -> None:
        """Return once the notification is accepted; raise ``NotificationFailed`` otherwise."""
        ...

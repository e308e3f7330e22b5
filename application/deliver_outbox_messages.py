"""DeliverOutboxMessages: one pass of the outbox worker.

Claim a batch of due messages in a short transaction (the claim is a lease: ``available_at`` moves
to now + lease), deliver each outside any transaction, and record each outcome in its own short
transaction. A worker killed mid-batch leaves its claims to expire; another pass delivers them
again: at least once, which is why every notification carries the event id.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from application.account_emails import (
    EMAIL_CHANGED,
    EMAIL_VERIFICATION_REQUESTED,
    PASSWORD_CHANGED,
    PASSWORD_RESET_REQUESTED,
    TOKEN_KEY,
    USER_REGISTERED,
)
from application.clock import Clock, utc_now
from application.ports import Notification, Notifier, Outbox, OutboxMessage, UnitOfWork
from application.second_factor import MFA_NOTICES

logger = logging.getLogger("users_items.outbox")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter: the n-th failure waits between half and all of
    ``min(max_delay, base_delay * 2**(n-1))``; after ``max_attempts`` failures the message is
    dead."""

    max_attempts: int = 8
    base_delay_seconds: float = 2.0
    max_delay_seconds: float = 300.0

    def delay_seconds(self, failures: int, rng: random.Random) -> float:
        ceiling: float = min(self.max_delay_seconds, self.base_delay_seconds * 2 ** (failures - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    released: int = 0


class UndeliverableMessage(Exception):
    """A message no attempt can deliver: retrying is pointless, it is dead at once."""


class UnknownEventType(UndeliverableMessage):
    pass


_SIGNATURE = "\n-- \nusers-items\n"


def _link(app_base_url: str, path: str, message: OutboxMessage) -> str:
    token = message.payload.get(TOKEN_KEY)
    if not isinstance(token, str):
        # Removed when the message was delivered or died; a requeued copy cannot be sent.
        raise UndeliverableMessage(f"event {message.event_id} no longer holds its token")
    return f"{app_base_url.rstrip('/')}/{path}?token={token}"


def notification_for(message: OutboxMessage, app_base_url: str) -> Notification:
    """What to tell whom for an event; ``app_base_url`` is where the links point (the front
    end). Raises ``UndeliverableMessage`` for an event no one sends, or one whose token is gone."""
    payload = message.payload
    username = payload.get("username", "")
    if message.event_type == USER_REGISTERED:
        subject = "Welcome to users-items"
        body = f"Hello {username},\n\nyour account is ready. Welcome aboard!\n"
        # Welcome messages recorded before verification existed hold no token: they are
        # still welcome.
        if TOKEN_KEY in payload:
            body += (
                "\nPlease confirm your email address by opening this link:\n"
                f"{_link(app_base_url, 'verify-email', message)}\n"
            )
    elif message.event_type == EMAIL_VERIFICATION_REQUESTED:
        subject = "Confirm your email address"
        body = (
            f"Hello {username},\n\nplease confirm your email address by opening this link:\n"
            f"{_link(app_base_url, 'verify-email', message)}\n"
        )
    elif message.event_type == PASSWORD_RESET_REQUESTED:
        subject = "Reset your password"
        body = (
            f"Hello {username},\n\nsomeone (we hope you) asked to reset your password. Open "
            f"this link to choose a new one:\n{_link(app_base_url, 'reset-password', message)}"
            "\n\nIf it was not you, ignore this email: your password stays as it is.\n"
        )
    elif message.event_type == PASSWORD_CHANGED:
        subject = "Your password was changed"
        body = (
            f"Hello {username},\n\nthe password of your account was just changed, and every "
            "session was logged out.\nIf it was not you, reset your password now.\n"
        )
    elif message.event_type == EMAIL_CHANGED:
        subject = "Your email address was changed"
        body = (
            f"Hello {username},\n\nthe email address of your account was just changed from "
            "this one to another.\nIf it was not you, reset your password and contact us.\n"
        )
    elif message.event_type in MFA_NOTICES:
        subject, notice = MFA_NOTICES[message.event_type]
        body = f"Hello {username},\n\n{notice}"
    else:
        raise UnknownEventType(f"no notification for event type {message.event_type!r}")
    return Notification(
        event_id=message.event_id,
        recipient=payload["email"],
        subject=subject,
        body=body + _SIGNATURE,
    )


def without_token(payload: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The payload less its token, or None when it holds none (nothing to scrub)."""
    if TOKEN_KEY not in payload:
        return None
    return {key: value for key, value in payload.items() if key != TOKEN_KEY}


class DeliverOutboxMessages:
    def __init__(
        self,
        uow: UnitOfWork,
        notifier: Notifier,
        policy: RetryPolicy | None = None,
        *,
        app_base_url: str = "http://localhost:3000",
        batch_size: int = 10,
        lease_seconds: float = 60.0,
        clock: Clock = utc_now,
        rng: random.Random | None = None,
    ) -> None:
        self._uow = uow
        self._notifier = notifier
        self._app_base_url = app_base_url
        self._policy = policy or RetryPolicy()
        self._batch_size = batch_size
        self._lease = timedelta(seconds=lease_seconds)
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy

    async def execute(self, should_stop: Callable[[], bool] = lambda: False) -> DeliveryReport:
        """Deliver up to one batch. Between messages, ``should_stop()`` is asked; when it says
        yes, the message in hand is finished and the rest of the batch is handed back. So is the
        rest once half the lease has passed: a message is only started while at least half its
        lease remains, so no other worker can claim it while it is being delivered (as long as
        one delivery takes less than half the lease)."""
        now = self._clock()
        async with self._uow:
            batch = await self._uow.repository(Outbox).claim(
                now, now + self._lease, self._batch_size
            )
            await self._uow.commit()
        delivered = retried = dead = released = 0
        start_by = now + self._lease / 2
        for index, message in enumerate(batch):
            if should_stop() or self._clock() >= start_by:
                released = await self._release(batch[index:])
                break
            outcome = await self._deliver(message)
            delivered += outcome == "delivered"
            retried += outcome == "retried"
            dead += outcome == "dead"
        return DeliveryReport(len(batch), delivered, retried, dead, released)

    async def _deliver(self, message: OutboxMessage) -> str:
        try:
            await self._notifier.send(notification_for(message, self._app_base_url))
        except UndeliverableMessage as error:
            await self._record_failure(message, str(error), permanent=True)
            return "dead"
        except Exception as error:
            # Any failure, expected (NotificationFailed) or not, is one failed attempt: the
            # worker keeps going and the message is retried or, eventually, dead.
            permanent = message.attempts + 1 >= self._policy.max_attempts
            await self._record_failure(message, f"{type(error).__name__}: {error}", permanent)
            return "dead" if permanent else "retried"
        async with self._uow:
            # The token (a credential) leaves the database with the delivery's record.
            await self._uow.repository(Outbox).mark_delivered(
                message.id, self._clock(), payload=without_token(message.payload)
            )
            await self._uow.commit()
        logger.info("delivered outbox message %s (event %s)", message.id, message.event_id)
        return "delivered"

    async def _record_failure(self, message: OutboxMessage, error: str, permanent: bool) -> None:
        attempts = message.attempts + 1
        async with self._uow:
            if permanent:
                # A dead message's token is removed too: requeued, it dies again at once (the
                # person asks for a new email; the old token would have expired by then anyway).
                await self._uow.repository(Outbox).mark_dead(
                    message.id,
                    attempts=attempts,
                    error=error,
                    payload=without_token(message.payload),
                )
            else:
                delay = self._policy.delay_seconds(attempts, self._rng)
                await self._uow.repository(Outbox).schedule_retry(
                    message.id,
                    attempts=attempts,
                    available_at=self._clock() + timedelta(seconds=delay),
                    error=error,
                )
            await self._uow.commit()
        logger.warning(
            "outbox message %s failed (attempt %s): %s%s",
            message.id,
            attempts,
            error,
            "; now dead" if permanent else "",
        )

    async def _release(self, messages: Sequence[OutboxMessage]) -> int:
        now = self._clock()
        async with self._uow:
            await self._uow.repository(Outbox).release_many([m.id for m in messages], now)
            await self._uow.commit()
        return len(messages)

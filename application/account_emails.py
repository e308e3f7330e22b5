"""Account emails: the events that carry them through the outbox, and the tokens they carry.

Every account email is an outbox message recorded in the transaction of the change that causes
it, and sent by the worker (``DeliverOutboxMessages``), never from inside a request. An email
that carries a token (verification, reset) holds it in its payload under ``token``: the worker
needs it to write the link, and removes it from the payload when it records the delivery (or
gives up on the message), so the plaintext does not stay in the database.

A token is ``secrets.token_urlsafe(32)`` (256 random bits, 43 URL-safe characters); only its
SHA-256 is stored, it is single-use, expires, and issuing a new one voids the user's older ones
of its kind.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Any

from application.clock import Clock, utc_now
from application.ports import NewOutboxMessage, Outbox, UnitOfWork
from application.ports.account_tokens import (
    AccountTokenKind,
    AccountTokenRepository,
    NewAccountToken,
)
from application.token_pairs import hash_token
from domain.user import User

ACCOUNT_TOKEN_BYTES = 32  # 256 bits
TOKEN_KEY = "token"  # noqa: S105 - the payload key, not a secret

# Event types. USER_REGISTERED is the welcome email, which carries the first verification link.
USER_REGISTERED = "UserRegistered"
EMAIL_VERIFICATION_REQUESTED = "EmailVerificationRequested"
PASSWORD_RESET_REQUESTED = "PasswordResetRequested"  # noqa: S105 - an event type
PASSWORD_CHANGED = "PasswordChanged"  # noqa: S105 - an event type
EMAIL_CHANGED = "EmailChanged"  # the notice to the old address


class AccountEmails:
    """Issues account tokens and records account emails in the caller's unit of work (the
    caller commits: the token and its email exist only if the change that caused them does)."""

    def __init__(
        self,
        *,
        verification_ttl_seconds: int,
        reset_ttl_seconds: int,
        clock: Clock = utc_now,
    ) -> None:
        self._ttls = {
            AccountTokenKind.VERIFICATION: timedelta(seconds=verification_ttl_seconds),
            AccountTokenKind.RESET: timedelta(seconds=reset_ttl_seconds),
        }
        self.clock = clock

    async def issue_token(self, uow: UnitOfWork, user_id: int, kind: AccountTokenKind) -> str:
        """A new token of ``kind`` for the user, voiding their older ones of that kind."""
        token = secrets.token_urlsafe(ACCOUNT_TOKEN_BYTES)
        now = self.clock()
        await uow.repository(AccountTokenRepository).void(user_id, kind)
        await uow.repository(AccountTokenRepository).add(
            NewAccountToken(
                kind=kind,
                user_id=user_id,
                token_hash=hash_token(token),
                created_at=now,
                expires_at=now + self._ttls[kind],
            )
        )
        return token

    async def queue(
        self,
        uow: UnitOfWork,
        event_type: str,
        user: User,
        *,
        to: str | None = None,
        token_kind: AccountTokenKind | None = None,
        **extra: Any,
    ) -> None:
        """Record an email to ``to`` (the user's address by default); with ``token_kind``, a new
        token of that kind goes into it."""
        payload: dict[str, Any] = {
            "user_id": user.id,
            "email": to or user.email,
            "username": user.username,
            **extra,
        }
        if token_kind is not None:
            payload[TOKEN_KEY] = await self.issue_token(uow, user.id, token_kind)
        await uow.repository(Outbox).add(
            NewOutboxMessage(
                event_id=str(uuid.uuid4()),
                event_type=event_type,
                payload=payload,
                created_at=self.clock(),
            )
        )

"""Account-token storage port: email-verification and password-reset tokens.

Only the SHA-256 of each token is stored; the plaintext exists in the email that carries it
(and in its outbox payload until the worker recorded the delivery).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class AccountTokenKind(StrEnum):
    VERIFICATION = "verification"  # proves the user reads the email address on their account
    RESET = "reset"  # lets the user set a new password without the old one


@dataclass(frozen=True, slots=True)
class NewAccountToken:
    kind: AccountTokenKind
    user_id: int
    token_hash: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class UsedAccountToken:
    user_id: int
    created_at: datetime


class AccountTokenRepository(Protocol):
    async def add(self, token: NewAccountToken) -> None: ...

    async def void(self, user_id: int, kind: AccountTokenKind) -> None:
        """Delete every token of ``kind`` the user holds (issuing a new one voids the older)."""
        ...

    async def find_usable(
        self, token_hash: str, kind: AccountTokenKind, now: datetime
    ) -> UsedAccountToken | None:
        """Whose token this is if it is of ``kind``, unused and unexpired at ``now``, without
        using it (a plain read: ``use`` still decides)."""
        ...

    async def use(
        self, token_hash: str, kind: AccountTokenKind, now: datetime
    ) -> UsedAccountToken | None:
        """Mark the token used if, and only if, it is of ``kind``, unused and unexpired at
        ``now``; return whose it was then, else None. Atomic: of concurrent calls for one token,
        exactly one gets it (a conditional UPDATE whose row count decides)."""
        ...

"""Second-factor ports: the enrolment and recovery-code storage, the TOTP algorithm, the
encryption of secrets at rest, and the login challenge (``mfa_token``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class StoredMfa:
    """A user's enrolment: pending until confirmed (``enabled`` false), then on."""

    user_id: int
    secret_ciphertext: str  # the TOTP secret, encrypted (``SecretBox``); never the plaintext
    enabled: bool
    last_step: int  # the newest time step whose code was accepted; -1 before any
    generation: int  # completed second-factor logins: an mfa_token names the one it was for


class MfaRepository(Protocol):
    """Writes the enrolment row, the recovery codes and the user's ``mfa_enabled`` flag, so the
    three never disagree. Each conditional write returns whether it happened: of concurrent
    writers exactly one wins (a conditional UPDATE whose row count decides)."""

    async def get(self, user_id: int) -> StoredMfa | None: ...

    async def start_enrolment(self, user_id: int, secret_ciphertext: str, now: datetime) -> None:
        """A pending enrolment with this secret, replacing a pending one. Never called for a
        user whose second factor is on (the use case checks under the same transaction)."""
        ...

    async def enable(self, user_id: int, step: int, now: datetime) -> bool:
        """Pending -> on, with ``step`` accepted; sets the user's ``mfa_enabled``. False when
        there is no pending enrolment (none, or on already)."""
        ...

    async def disable(self, user_id: int) -> None:
        """Off: the enrolment and every recovery code go; the user's ``mfa_enabled`` is false."""
        ...

    async def accept_step(self, user_id: int, step: int) -> bool:
        """Record ``step`` as accepted if, and only if, it is newer than the last accepted one
        and the second factor is on. Atomic: a code replayed, even concurrently, loses."""
        ...

    async def advance_generation(self, user_id: int, generation: int) -> bool:
        """A second-factor login completed: the generation moves on (every mfa_token issued
        at ``generation`` dies) if, and only if, it is still ``generation``."""
        ...

    async def replace_recovery_codes(self, user_id: int, code_hashes: Sequence[str]) -> None:
        """These codes (their hashes) replace every earlier one of the user."""
        ...

    async def use_recovery_code(self, user_id: int, code_hash: str, now: datetime) -> bool:
        """Mark the user's unused code with this hash used; False when there is none."""
        ...

    async def unused_recovery_codes(self, user_id: int) -> int: ...


class Totp(Protocol):
    """TOTP (RFC 6238): 6 digits, 30-second steps, SHA-1, the parameters every authenticator
    app takes from an ``otpauth://`` URI."""

    def new_secret(self) -> str:
        """A new random base32 secret of 160 bits."""
        ...

    def provisioning_uri(self, secret: str, account_name: str) -> str:
        """The ``otpauth://totp/...`` URI an authenticator app reads (from a QR code)."""
        ...

    def matching_steps(self, secret: str, code: str, at: datetime) -> Sequence[int]:
        """The time steps within one step either side of ``at`` whose code is ``code``
        (compared in constant time); empty when none is."""
        ...


class SecretBox(Protocol):
    """Authenticated encryption of secrets at rest, with key rotation: the newest key
    encrypts, every configured key decrypts."""

    def seal(self, plaintext: str) -> str: ...

    def open(self, ciphertext: str) -> str: ...


@dataclass(frozen=True, slots=True)
class MfaChallenge:
    """What an ``mfa_token`` says: whose password was right, when, and under which
    credentials version and second-factor generation."""

    user_id: int
    credentials_version: int
    generation: int
    issued_at: datetime


class MfaChallenges(Protocol):
    def issue(self, challenge: MfaChallenge) -> str: ...

    def read(self, token: str) -> MfaChallenge:
        """The challenge of a token this service signed; ``InvalidMfaToken`` for anything
        else. Expiry is the use case's to decide (with its clock)."""
        ...

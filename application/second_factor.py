"""What the second-factor use cases share: checking a code or a recovery code, making recovery
codes, and the notice emails.

A TOTP code (RFC 6238) is accepted within one time step either side of now, and at most once:
the newest step it matches must be newer than the last accepted one, and the repository records
it with a conditional UPDATE, so a replay, even a concurrent one, loses.

Recovery codes are 80 random bits each (16 characters of Crockford's base32, shown in groups of
four). Only a SHA-256 of each is stored, keyed by the user id: a fast hash is enough for codes
of that entropy (nobody brute-forces 2**80 per code from a dump, as for refresh tokens), and
argon2 for ten codes would cost ten hashings per check. They are single use.

Every check of a code is paid for like a password check: it is a login attempt of that account
from that address (``LoginAttempts``), reserved before the check, so wrong codes and wrong
passwords share one limit and N concurrent guesses check at most the limit's worth.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from typing import ClassVar

from application.clock import Clock, utc_now
from application.errors import ApplicationError
from application.ports import UnitOfWork
from application.ports.second_factor import MfaRepository, SecretBox, StoredMfa, Totp

RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford's base32
_RECOVERY_CODE_CHARACTERS = 16  # 80 bits
_RECOVERY_GROUP = 4
# What people mistype for Crockford's digits.
_LOOK_ALIKES = str.maketrans({"i": "1", "l": "1", "o": "0"})

# Notice emails (outbox event types).
MFA_ENABLED = "MfaEnabled"
MFA_DISABLED = "MfaDisabled"
MFA_RECOVERY_CODE_USED = "MfaRecoveryCodeUsed"
MFA_RECOVERY_CODES_REGENERATED = "MfaRecoveryCodesRegenerated"

_IF_NOT_YOU = "If it was not you, reset your password now and contact us.\n"
# Subject and first paragraph of each notice: never a secret, a code or a link with a token.
MFA_NOTICES: dict[str, tuple[str, str]] = {
    MFA_ENABLED: (
        "Two-step login is on",
        "two-step login (an authenticator app's code after the password) was just turned on "
        "for your account, and every other session was logged out.\n" + _IF_NOT_YOU,
    ),
    MFA_DISABLED: (
        "Two-step login is off",
        "two-step login was just turned off for your account: the password alone logs in "
        "again.\n" + _IF_NOT_YOU,
    ),
    MFA_RECOVERY_CODE_USED: (
        "A recovery code was used",
        "one of your recovery codes was just used in place of an authenticator code; it "
        "works no more. Make new ones in your account when few are left.\n" + _IF_NOT_YOU,
    ),
    MFA_RECOVERY_CODES_REGENERATED: (
        "New recovery codes",
        "new recovery codes were just made for your account; the older ones work no more.\n"
        + _IF_NOT_YOU,
    ),
}


def new_recovery_codes() -> list[str]:
    """Ten fresh codes, as shown to the user: ``xxxx-xxxx-xxxx-xxxx``."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_CODE_CHARACTERS))
        codes.append(
            "-".join(raw[i : i + _RECOVERY_GROUP] for i in range(0, len(raw), _RECOVERY_GROUP))
        )
    return codes


def hash_recovery_code(user_id: int, code: str) -> str:
    """What is stored of a recovery code: the SHA-256 (hex) of the user id and the code as
    typed, without separators or case, with look-alike letters read as the digits."""
    normalised = "".join(code.lower().split()).replace("-", "").translate(_LOOK_ALIKES)
    return hashlib.sha256(f"{user_id}:{normalised}".encode()).hexdigest()


class SecondFactor:
    """Code checks on a user's enrolment, in the caller's unit of work (the caller commits: an
    accepted step or a used recovery code stays so only if the rest of its transaction does)."""

    raises: ClassVar[tuple[type[ApplicationError], ...]] = ()

    def __init__(self, totp: Totp, secret_box: SecretBox, clock: Clock = utc_now) -> None:
        self.totp = totp
        self.secret_box = secret_box
        self.clock = clock

    def newest_step(self, mfa: StoredMfa, code: str) -> int | None:
        """The newest not yet accepted time step whose code is ``code``, or None."""
        secret = self.secret_box.open(mfa.secret_ciphertext)
        steps = [
            step
            for step in self.totp.matching_steps(secret, code, self.clock())
            if step > mfa.last_step
        ]
        return max(steps) if steps else None

    async def accept_code(self, uow: UnitOfWork, mfa: StoredMfa, code: str) -> bool:
        """Whether ``code`` is right and not used before; if so its step is recorded."""
        step = self.newest_step(mfa, code)
        if step is None:
            return False
        return await uow.repository(MfaRepository).accept_step(mfa.user_id, step)

    async def accept_recovery_code(self, uow: UnitOfWork, user_id: int, code: str) -> bool:
        """Whether ``code`` is one of the user's unused recovery codes; if so it is used."""
        return await uow.repository(MfaRepository).use_recovery_code(
            user_id, hash_recovery_code(user_id, code), self.clock()
        )

    async def accept_either(
        self, uow: UnitOfWork, mfa: StoredMfa, code: str | None, recovery_code: str | None
    ) -> bool:
        if code is not None:
            return await self.accept_code(uow, mfa, code)
        if recovery_code is not None:
            return await self.accept_recovery_code(uow, mfa.user_id, recovery_code)
        return False

    async def store_new_recovery_codes(self, uow: UnitOfWork, user_id: int) -> Sequence[str]:
        codes = new_recovery_codes()
        await uow.repository(MfaRepository).replace_recovery_codes(
            user_id, [hash_recovery_code(user_id, code) for code in codes]
        )
        return codes

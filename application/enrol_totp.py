"""StartTotpEnrolment and ConfirmTotpEnrolment: the caller turns the second factor on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from application.account_emails import AccountEmails
from application.credentials import require_fresh_login
from application.errors import (
    ApplicationError,
    MfaAlreadyEnabled,
    MfaEnrolmentNotStarted,
    WrongMfaCode,
)
from application.events import NO_EVENTS, USER_MFA_ENABLED, Events
from application.get_current_user import Caller
from application.ports import RefreshTokenRepository, UnitOfWork
from application.ports.second_factor import MfaRepository
from application.second_factor import MFA_ENABLED, SecondFactor


@dataclass(frozen=True, slots=True)
class TotpEnrolment:
    secret: str  # base32, for typing into an authenticator app
    otpauth_uri: str  # the same as an otpauth:// URI (for a QR code)


class StartTotpEnrolment:
    """Needs a fresh login (as an email change does). A new secret replaces an enrolment that
    was started and never confirmed; nothing is on until ``ConfirmTotpEnrolment``. The secret
    is stored only encrypted; the caller sees it this once."""

    raises: ClassVar[tuple[type[ApplicationError], ...]] = (MfaAlreadyEnabled,)

    def __init__(
        self, uow: UnitOfWork, second_factor: SecondFactor, reauth_max_age_seconds: int
    ) -> None:
        self._uow = uow
        self._second_factor = second_factor
        self._reauth_max_age_seconds = reauth_max_age_seconds

    async def execute(self, caller: Caller) -> TotpEnrolment:
        now = self._second_factor.clock()
        async with self._uow:
            mfa = await self._uow.repository(MfaRepository).get(caller.user.id)
            # On already is said before a stale login: there is nothing to step up for.
            if mfa is not None and mfa.enabled:
                raise MfaAlreadyEnabled
            require_fresh_login(caller.claims, now, self._reauth_max_age_seconds, mfa_enabled=False)
            totp = self._second_factor.totp
            secret = totp.new_secret()
            await self._uow.repository(MfaRepository).start_enrolment(
                caller.user.id, self._second_factor.secret_box.seal(secret), now
            )
            await self._uow.commit()
        return TotpEnrolment(
            secret=secret, otpauth_uri=totp.provisioning_uri(secret, caller.user.username)
        )


class ConfirmTotpEnrolment:
    """A right code from the app turns the second factor on: its step counts as used, ten
    recovery codes are made (shown this once, stored as hashes), every other session of the
    caller ends (their refresh tokens are revoked; the caller's own session goes on), and a
    notice goes to the account's address. All in one transaction."""

    raises: ClassVar[tuple[type[ApplicationError], ...]] = (
        MfaAlreadyEnabled,
        MfaEnrolmentNotStarted,
        WrongMfaCode,
    )

    def __init__(
        self,
        uow: UnitOfWork,
        second_factor: SecondFactor,
        emails: AccountEmails,
        events: Events = NO_EVENTS,
    ) -> None:
        self._uow = uow
        self._second_factor = second_factor
        self._emails = emails
        self._events = events

    async def execute(self, caller: Caller, code: str) -> Sequence[str]:
        user_id = caller.user.id
        now = self._second_factor.clock()
        async with self._uow:
            mfa = await self._uow.repository(MfaRepository).get(user_id)
            if mfa is None:
                raise MfaEnrolmentNotStarted
            if mfa.enabled:
                raise MfaAlreadyEnabled
            step = self._second_factor.newest_step(mfa, code)
            # enable() is conditional: of two confirmations at once, one turns it on.
            if step is None or not await self._uow.repository(MfaRepository).enable(
                user_id, step, now
            ):
                raise WrongMfaCode
            codes = await self._second_factor.store_new_recovery_codes(self._uow, user_id)
            await self._uow.repository(RefreshTokenRepository).revoke_other_families(
                user_id, caller.claims.session_id, now
            )
            await self._emails.queue(self._uow, MFA_ENABLED, caller.user)
            # The user id alone: never the secret or the codes.
            await self._events.record(self._uow, USER_MFA_ENABLED, user_id)
            await self._uow.commit()
        return codes

"""DisableSecondFactor (the caller, with a code) and ResetSecondFactor (the operator's
``mfa-reset`` command, for a person who lost both device and codes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from application.account_emails import AccountEmails
from application.credentials import require_fresh_login
from application.errors import (
    ApplicationError,
    MfaNotEnabled,
    UsernameNotFound,
    WrongMfaCode,
)
from application.events import NO_EVENTS, USER_MFA_DISABLED, Events
from application.get_current_user import Caller
from application.ports import UnitOfWork, UserRepository
from application.ports.second_factor import MfaRepository
from application.second_factor import MFA_DISABLED, SecondFactor
from application.throttles import AccountThrottles
from domain.user import User


@dataclass(frozen=True, slots=True)
class SecondFactorProof:
    """A code from the app, or one of the recovery codes (exactly one of the two)."""

    code: str | None = None
    recovery_code: str | None = None
    client_address: str | None = None


class DisableSecondFactor:
    """Needs a fresh login (one that passed both factors) and a code or a recovery code. A
    wrong one is a failed login of the account from that address (the login throttle's
    counts, reserved before the check): past the limits, 429. Off: the enrolment and the
    recovery codes are deleted, and a notice goes to the account's address."""

    raises: ClassVar[tuple[type[ApplicationError], ...]] = (MfaNotEnabled, WrongMfaCode)

    def __init__(
        self,
        uow: UnitOfWork,
        second_factor: SecondFactor,
        emails: AccountEmails,
        throttles: AccountThrottles,
        reauth_max_age_seconds: int,
        events: Events = NO_EVENTS,
    ) -> None:
        self._uow = uow
        self._events = events
        self._second_factor = second_factor
        self._emails = emails
        self._throttles = throttles
        self._reauth_max_age_seconds = reauth_max_age_seconds

    async def execute(self, caller: Caller, proof: SecondFactorProof) -> None:
        user_id = caller.user.id
        if not caller.user.mfa_enabled:
            raise MfaNotEnabled
        require_fresh_login(
            caller.claims,
            self._second_factor.clock(),
            self._reauth_max_age_seconds,
            mfa_enabled=True,
        )
        attempt = await self._throttles.password_check(user_id, proof.client_address)
        async with self._uow:
            mfa = await self._uow.repository(MfaRepository).get(user_id)
            if mfa is None or not mfa.enabled:
                raise MfaNotEnabled  # turned off since this request looked the caller up
            if not await self._second_factor.accept_either(
                self._uow, mfa, proof.code, proof.recovery_code
            ):
                raise WrongMfaCode  # the reservation stays counted as a failed login
            await self._uow.repository(MfaRepository).disable(user_id)
            await self._emails.queue(self._uow, MFA_DISABLED, caller.user)
            await self._events.record(self._uow, USER_MFA_DISABLED, user_id)
            await self._uow.commit()
        await attempt.succeeded()


class ResetSecondFactor:
    """The operator turns a user's second factor off (``users-items mfa-reset USER``): the
    enrolment and recovery codes go, a notice goes to the account's address. Sessions are left
    alone: the person logs in again with the password alone."""

    raises: ClassVar[tuple[type[ApplicationError], ...]] = (MfaNotEnabled, UsernameNotFound)

    def __init__(self, uow: UnitOfWork, emails: AccountEmails, events: Events = NO_EVENTS) -> None:
        self._uow = uow
        self._emails = emails
        self._events = events

    async def execute(self, username: str) -> User:
        async with self._uow:
            user = await self._uow.repository(UserRepository).get_by_username(username)
            if user is None:
                raise UsernameNotFound(username)
            if not user.mfa_enabled:
                raise MfaNotEnabled
            await self._uow.repository(MfaRepository).disable(user.id)
            await self._emails.queue(self._uow, MFA_DISABLED, user)
            await self._events.record(self._uow, USER_MFA_DISABLED, user.id)
            await self._uow.commit()
        return user

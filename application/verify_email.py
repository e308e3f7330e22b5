"""VerifyEmail (a token from an email proves the address) and ResendVerificationEmail."""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from application.account_emails import EMAIL_VERIFICATION_REQUESTED, AccountEmails
from application.errors import ApplicationError, EmailAlreadyVerified, InvalidAccountToken
from application.events import NO_EVENTS, USER_EMAIL_VERIFIED, Events
from application.ports import UnitOfWork, UserRepository
from application.ports.account_tokens import AccountTokenKind, AccountTokenRepository
from application.throttles import AccountThrottles
from application.token_pairs import hash_token
from domain.user import User


class VerifyEmail:
    """Spends a verification token (single use: a conditional UPDATE decides) and marks the
    email verified. Unknown, expired, used and voided tokens get one answer."""

    raises: ClassVar[tuple[type[ApplicationError], ...]] = (InvalidAccountToken,)

    def __init__(self, uow: UnitOfWork, emails: AccountEmails, events: Events = NO_EVENTS) -> None:
        self._uow = uow
        self._emails = emails
        self._events = events

    async def execute(self, token: str) -> User:
        async with self._uow:
            used = await self._uow.repository(AccountTokenRepository).use(
                hash_token(token), AccountTokenKind.VERIFICATION, self._emails.clock()
            )
            user = (
                None
                if used is None
                else await self._uow.repository(UserRepository).get(used.user_id)
            )
            if user is None or not user.is_active:
                raise InvalidAccountToken
            await self._uow.repository(UserRepository).set_email_verified(user.id, verified=True)
            await self._events.record(self._uow, USER_EMAIL_VERIFIED, user.id, email=user.email)
            await self._uow.commit()
        return replace(user, email_verified=True)


class ResendVerificationEmail:
    raises: ClassVar[tuple[type[ApplicationError], ...]] = (EmailAlreadyVerified,)

    def __init__(self, uow: UnitOfWork, emails: AccountEmails, throttles: AccountThrottles) -> None:
        self._uow = uow
        self._emails = emails
        self._throttles = throttles

    async def execute(self, user: User) -> None:
        if user.email_verified:
            raise EmailAlreadyVerified
        await self._throttles.verification_email_requested(user.id)
        async with self._uow:
            await self._emails.queue(
                self._uow,
                EMAIL_VERIFICATION_REQUESTED,
                user,
                token_kind=AccountTokenKind.VERIFICATION,
            )
            await self._uow.commit()

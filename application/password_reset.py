"""RequestPasswordReset (an email with a reset link) and ConfirmPasswordReset (a new password)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from application.account_emails import PASSWORD_RESET_REQUESTED, AccountEmails
from application.credentials import revoke_all_credentials
from application.errors import ApplicationError, InvalidAccountToken
from application.events import NO_EVENTS, USER_EMAIL_VERIFIED, USER_PASSWORD_CHANGED, Events
from application.password_policy import PasswordPolicy
from application.ports import PasswordHasher, UnitOfWork, UserRepository
from application.ports.account_tokens import AccountTokenKind, AccountTokenRepository
from application.throttles import AccountThrottles
from application.token_pairs import hash_token


@dataclass(frozen=True, slots=True)
class RequestPasswordResetCommand:
    email: str
    client_address: str | None = None


class RequestPasswordReset:
    """The same answer whether or not the address belongs to anyone, after the same work: the
    throttle counts the request, a transaction looks the address up and voids the reset tokens
    of whoever it names (nobody, for an unknown address). Only an active account gets a new
    token and an email; the rest of the difference is one insert of each."""

    def __init__(self, uow: UnitOfWork, emails: AccountEmails, throttles: AccountThrottles) -> None:
        self._uow = uow
        self._emails = emails
        self._throttles = throttles

    async def execute(self, cmd: RequestPasswordResetCommand) -> None:
        await self._throttles.password_reset_requested(cmd.email, cmd.client_address)
        async with self._uow:
            user = await self._uow.repository(UserRepository).get_by_email(cmd.email)
            if user is not None and user.is_active:
                await self._emails.queue(
                    self._uow, PASSWORD_RESET_REQUESTED, user, token_kind=AccountTokenKind.RESET
                )
            else:
                await self._uow.repository(AccountTokenRepository).void(
                    0 if user is None else user.id, AccountTokenKind.RESET
                )
            await self._uow.commit()


@dataclass(frozen=True, slots=True)
class ConfirmPasswordResetCommand:
    token: str
    new_password: str


class ConfirmPasswordReset:
    """Spends the reset token and sets the new password; every credential issued before stops
    working, and the email counts as verified (the person just read an email sent to it).

    A first short read finds whose token it is (unknown, expired and used tokens stop there,
    with no hashing) and checks the new password against the policy: a refused password leaves
    the token unused. The password is hashed outside any transaction (the CPU work must not hold
    a connection); then one transaction spends the token (the conditional UPDATE decides between
    racing confirmations) and stores the change."""

    raises: ClassVar[tuple[type[ApplicationError], ...]] = (InvalidAccountToken,)

    def __init__(
        self,
        uow: UnitOfWork,
        hasher: PasswordHasher,
        policy: PasswordPolicy,
        emails: AccountEmails,
        events: Events = NO_EVENTS,
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._policy = policy
        self._emails = emails
        self._events = events

    async def execute(self, cmd: ConfirmPasswordResetCommand) -> None:
        token_hash = hash_token(cmd.token)
        async with self._uow:
            usable = await self._uow.repository(AccountTokenRepository).find_usable(
                token_hash, AccountTokenKind.RESET, self._emails.clock()
            )
            user = (
                None
                if usable is None
                else await self._uow.repository(UserRepository).get(usable.user_id)
            )
        if user is None or not user.is_active:
            raise InvalidAccountToken
        self._policy.check(
            cmd.new_password, username=user.username, email=user.email, field="new_password"
        )
        hashed_password = await self._hasher.hash(cmd.new_password)
        now = self._emails.clock()
        async with self._uow:
            used = await self._uow.repository(AccountTokenRepository).use(
                token_hash, AccountTokenKind.RESET, now
            )
            if used is None or used.user_id != user.id:
                raise InvalidAccountToken
            await self._uow.repository(UserRepository).set_password_hash(user.id, hashed_password)
            await self._uow.repository(UserRepository).set_email_verified(user.id, verified=True)
            await revoke_all_credentials(self._uow, user.id, now)
            await self._events.record(self._uow, USER_PASSWORD_CHANGED, user.id)
            if not user.email_verified:  # the reset link proved the address
                await self._events.record(self._uow, USER_EMAIL_VERIFIED, user.id, email=user.email)
            await self._uow.commit()

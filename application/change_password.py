"""ChangePassword: the caller sets a new password, proving they know the current one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from application.account_emails import PASSWORD_CHANGED, AccountEmails
from application.credentials import revoke_all_credentials
from application.errors import ApplicationError, WrongPassword
from application.events import NO_EVENTS, USER_PASSWORD_CHANGED, Events
from application.password_policy import PasswordPolicy
from application.ports import PasswordHasher, UnitOfWork, UserRepository
from application.throttles import AccountThrottles
from domain.user import User


@dataclass(frozen=True, slots=True)
class ChangePasswordCommand:
    current_password: str
    new_password: str
    client_address: str | None = None


class ChangePassword:
    """A wrong current password is a failed login of the account from that address (the login
    throttle's counters): past the login limits, both this and logging in answer 429, before any
    hashing. On success every credential issued before stops working (the caller's too: they
    log in again with the new password) and a notice goes to the account's address."""

    raises: ClassVar[tuple[type[ApplicationError], ...]] = (WrongPassword,)

    def __init__(
        self,
        uow: UnitOfWork,
        hasher: PasswordHasher,
        policy: PasswordPolicy,
        emails: AccountEmails,
        throttles: AccountThrottles,
        events: Events = NO_EVENTS,
    ) -> None:
        self._events = events
        self._uow = uow
        self._hasher = hasher
        self._policy = policy
        self._emails = emails
        self._throttles = throttles

    async def execute(self, user: User, cmd: ChangePasswordCommand) -> None:
        attempt = await self._throttles.password_check(user.id, cmd.client_address)
        if not await self._hasher.verify(user.hashed_password, cmd.current_password):
            raise WrongPassword  # the reservation stays counted as a failed login
        await attempt.succeeded()
        self._policy.check(
            cmd.new_password, username=user.username, email=user.email, field="new_password"
        )
        hashed_password = await self._hasher.hash(cmd.new_password)
        async with self._uow:
            await self._uow.repository(UserRepository).set_password_hash(user.id, hashed_password)
            await revoke_all_credentials(self._uow, user.id, self._emails.clock())
            await self._emails.queue(self._uow, PASSWORD_CHANGED, user)
            await self._events.record(self._uow, USER_PASSWORD_CHANGED, user.id)
            await self._uow.commit()

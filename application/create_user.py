"""CreateUser: sign a new user up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

from application.account_emails import USER_REGISTERED, AccountEmails
from application.errors import ApplicationError, UserAlreadyExists
from application.events import NO_EVENTS, Events
from application.events import USER_REGISTERED as USER_REGISTERED_EVENT
from application.password_policy import PasswordPolicy
from application.ports import PasswordHasher, UnitOfWork, UserRepository
from application.ports.account_tokens import AccountTokenKind
from domain.user import NewUser, User

__all__ = ["USER_REGISTERED", "CreateUser", "CreateUserCommand"]


@dataclass(frozen=True, slots=True)
class CreateUserCommand:
    email: str
    username: str
    password: str
    is_admin: bool = False  # only the operator's `create-user --admin` sets it


class CreateUser:
    raises: ClassVar[tuple[type[ApplicationError], ...]] = (UserAlreadyExists,)

    def __init__(
        self,
        uow: UnitOfWork,
        hasher: PasswordHasher,
        policy: PasswordPolicy,
        emails: AccountEmails,
        events: Events = NO_EVENTS,
    ) -> None:
        self._uow = uow
        self._events = events
        self._hasher = hasher
        self._policy = policy
        self._emails = emails

    async def execute(self, cmd: CreateUserCommand) -> User:
        self._policy.check(cmd.password, username=cmd.username, email=cmd.email)
        # Hash before the transaction opens: ~50 ms of CPU must not hold a connection.
        hashed_password = await self._hasher.hash(cmd.password)
        async with self._uow:
            # Look both up first so a 409 names every taken field; when two signups race past
            # this check, the unique indexes decide and the repository raises the same error.
            taken = []
            if await self._uow.repository(UserRepository).get_by_email(cmd.email) is not None:
                taken.append("email")
            if await self._uow.repository(UserRepository).get_by_username(cmd.username) is not None:
                taken.append("username")
            if taken:
                raise UserAlreadyExists(tuple(taken))
            user = await self._uow.repository(UserRepository).add(
                NewUser(
                    email=cmd.email,
                    username=cmd.username,
                    hashed_password=hashed_password,
                    created_at=datetime.now(UTC),
                    is_admin=cmd.is_admin,
                )
            )
            # Same transaction as the user row: the welcome email, with the first verification
            # link, is sent by the worker if and only if the signup committed.
            await self._emails.queue(
                self._uow, USER_REGISTERED, user, token_kind=AccountTokenKind.VERIFICATION
            )
            await self._events.record(
                self._uow,
                USER_REGISTERED_EVENT,
                user.id,
                username=user.username,
                email=user.email,
                email_verified=user.email_verified,
                is_admin=user.is_admin,
                created_at=user.created_at,
            )
            await self._uow.commit()
        return user

"""CreateUser: sign a new user up."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

from application.errors import ApplicationError, UserAlreadyExists
from application.ports import NewOutboxMessage, PasswordHasher, UnitOfWork
from domain.user import NewUser, User

USER_REGISTERED = "UserRegistered"


@dataclass(frozen=True, slots=True)
class CreateUserCommand:
    email: str
    username: str
    password: str


class CreateUser:
    raises: ClassVar[tuple[type[ApplicationError], ...]] = (UserAlreadyExists,)

    def __init__(self, uow: UnitOfWork, hasher: PasswordHasher) -> None:
        self._uow = uow
        self._hasher = hasher

    async def execute(self, cmd: CreateUserCommand) -> User:
        # Hash before the transaction opens: ~50 ms of CPU must not hold a connection.
        hashed_password = await self._hasher.hash(cmd.password)
        async with self._uow:
            # Look both up first so a 409 names every taken field; when two signups race past
            # this check, the unique indexes decide and the repository raises the same error.
            taken = []
            if await self._uow.users.get_by_email(cmd.email) is not None:
                taken.append("email")
            if await self._uow.users.get_by_username(cmd.username) is not None:
                taken.append("username")
            if taken:
                raise UserAlreadyExists(tuple(taken))
            user = await self._uow.users.add(
                NewUser(
                    email=cmd.email,
                    username=cmd.username,
                    hashed_password=hashed_password,
                    created_at=datetime.now(UTC),
                )
            )
            # Same transaction as the user row: the welcome email is sent by the worker if and
            # only if the signup committed, however the process dies afterwards.
            await self._uow.outbox.add(
                NewOutboxMessage(
                    event_id=str(uuid.uuid4()),
                    event_type=USER_REGISTERED,
                    payload={"user_id": user.id, "email": user.email, "username": user.username},
                    created_at=user.created_at,
                )
            )
            await self._uow.commit()
        return user

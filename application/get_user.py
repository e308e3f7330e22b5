"""GetUser: one user's public profile."""

from __future__ import annotations

from typing import ClassVar

from application.errors import ApplicationError, UserNotFound
from application.ports import UnitOfWork
from domain.user import User


class GetUser:
    raises: ClassVar[tuple[type[ApplicationError], ...]] = (UserNotFound,)

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, user_id: int) -> User:
        async with self._uow:
            user = await self._uow.users.get(user_id)
        if user is None:
            raise UserNotFound(user_id)
        return user

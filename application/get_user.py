"""GetUser: one user's public profile."""

from __future__ import annotations

from application.errors import UserNotFound
from application.ports import UserQueries
from domain.user import User


class GetUser:
    def __init__(self, users: UserQueries) -> None:
        self._users = users

    async def execute(self, user_id: int) -> User:
        user = await self._users.get(user_id)
        if user is None:
            raise UserNotFound(user_id)
        return user

"""GetCurrentUser: the active user an access token speaks for."""

from __future__ import annotations

from typing import ClassVar

from application.errors import ApplicationError, NotAuthenticated
from application.ports import TokenService, UserQueries
from domain.user import User


class GetCurrentUser:
    raises: ClassVar[tuple[type[ApplicationError], ...]] = (NotAuthenticated,)

    def __init__(self, users: UserQueries, tokens: TokenService) -> None:
        self._users = users
        self._tokens = tokens

    async def execute(self, access_token: str) -> User:
        user = await self._users.get(self._tokens.verify(access_token))
        if user is None or not user.is_active:
            raise NotAuthenticated
        return user

"""GetCurrentUser: the active user an access token speaks for."""

from __future__ import annotations

from typing import ClassVar

from application.errors import ApplicationError, NotAuthenticated
from application.ports import TokenService, UnitOfWork
from domain.user import User


class GetCurrentUser:
    raises: ClassVar[tuple[type[ApplicationError], ...]] = (NotAuthenticated,)

    def __init__(self, uow: UnitOfWork, tokens: TokenService) -> None:
        self._uow = uow
        self._tokens = tokens

    async def execute(self, access_token: str) -> User:
        user_id = self._tokens.verify(access_token)
        async with self._uow:
            user = await self._uow.users.get(user_id)
        if user is None or not user.is_active:
            raise NotAuthenticated
        return user

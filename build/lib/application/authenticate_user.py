"""AuthenticateUser: exchange a username (or email) and password for an access token."""

from __future__ import annotations

from dataclasses import dataclass

from application.errors import InvalidCredentials
from application.ports import AccessToken, PasswordHasher, TokenService, UnitOfWork
from domain.user import User


@dataclass(frozen=True, slots=True)
class AuthenticateUserCommand:
    login: str  # a username, or an email address when it contains "@"
    password: str


class AuthenticateUser:
    """Every failure raises the same ``InvalidCredentials`` after the same amount of hashing
    work, so neither the answer nor its timing tells whether an account exists."""

    def __init__(self, uow: UnitOfWork, hasher: PasswordHasher, tokens: TokenService) -> None:
        self._uow = uow
        self._hasher = hasher
        self._tokens = tokens

    async def execute(self, cmd: AuthenticateUserCommand) -> AccessToken:
        user = await self._find(cmd.login)
        if user is None:
            await self._hasher.verify_dummy(cmd.password)
            raise InvalidCredentials
        if not await self._hasher.verify(user.hashed_password, cmd.password):
            raise InvalidCredentials
        if not user.is_active:
            raise InvalidCredentials
        return self._tokens.issue(user.id)

    async def _find(self, login: str) -> User | None:
        async with self._uow:
            if "@" in login:
                return await self._uow.users.get_by_email(login)
            return await self._uow.users.get_by_username(login)

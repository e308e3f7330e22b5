"""GetCurrentUser: the active user an access token speaks for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from application.errors import ApplicationError, NotAuthenticated
from application.ports import AccessClaims, TokenService, UserQueries
from domain.user import User


@dataclass(frozen=True, slots=True)
class Caller:
    """The user a request acts for, and what their access token says (its login's time and
    session)."""

    user: User
    claims: AccessClaims


class GetCurrentUser:
    """One look-up of the user per request (``UserQueries.get``). A token issued before the
    user's credentials last changed (password change or reset, log out everywhere,
    deactivation) carries an older credentials version and is refused, as is one of a deleted
    or inactive user."""

    raises: ClassVar[tuple[type[ApplicationError], ...]] = (NotAuthenticated,)

    def __init__(self, users: UserQueries, tokens: TokenService) -> None:
        self._users = users
        self._tokens = tokens

    async def execute(self, access_token: str) -> Caller:
        claims = self._tokens.verify(access_token)
        user = await self._users.get(claims.user_id)
        if (
            user is None
            or not user.is_active
            or user.credentials_version != claims.credentials_version
        ):
            raise NotAuthenticated
        return Caller(user=user, claims=claims)

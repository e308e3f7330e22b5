"""LogOut: revoke a refresh token, and with it every token of its login family."""

from __future__ import annotations

from typing import ClassVar

from application.clock import Clock, utc_now
from application.errors import ApplicationError, InvalidRefreshToken
from application.ports import RefreshTokenRepository, UnitOfWork
from application.token_pairs import hash_refresh_token


class LogOut:
    """A live token (unspent, unrevoked, unexpired) revokes its family: the session ends. Anything
    else is ``InvalidRefreshToken``; a spent token is reuse, so its family is revoked as well.
    Access tokens already issued stay valid until they expire (at most ACCESS_TOKEN_TTL_SECONDS).
    """

    raises: ClassVar[tuple[type[ApplicationError], ...]] = (InvalidRefreshToken,)

    def __init__(self, uow: UnitOfWork, clock: Clock = utc_now) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, refresh_token: str) -> None:
        now = self._clock()
        async with self._uow:
            stored = await self._uow.repository(RefreshTokenRepository).get(
                hash_refresh_token(refresh_token)
            )
            if stored is None:
                raise InvalidRefreshToken
            live = stored.spent_at is None and stored.revoked_at is None and stored.expires_at > now
            if live or stored.spent_at is not None:
                await self._uow.repository(RefreshTokenRepository).revoke_family(
                    stored.family_id, now
                )
                await self._uow.commit()
            if not live:
                raise InvalidRefreshToken

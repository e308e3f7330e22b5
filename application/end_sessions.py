"""EndSession (one login can no longer be refreshed) and EndAllSessions (log out everywhere)."""

from __future__ import annotations

from typing import ClassVar

from application.clock import Clock, utc_now
from application.credentials import revoke_all_credentials
from application.errors import ApplicationError, SessionNotFound
from application.ports import RefreshTokenRepository, UnitOfWork


class EndSession:
    """A session is a login: its refresh-token family, named by the id of its first token.
    Ending it revokes its live refresh token; access tokens already issued to it run out on
    their own (at most ACCESS_TOKEN_TTL_SECONDS). Someone else's session, an unknown one and
    one already ended are all ``SessionNotFound``."""

    raises: ClassVar[tuple[type[ApplicationError], ...]] = (SessionNotFound,)

    def __init__(self, uow: UnitOfWork, clock: Clock = utc_now) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, user_id: int, session_id: int) -> None:
        async with self._uow:
            if not await self._uow.repository(RefreshTokenRepository).revoke_session(
                user_id, session_id, self._clock()
            ):
                raise SessionNotFound(session_id)
            await self._uow.commit()


class EndAllSessions:
    """Log out everywhere: every refresh token revoked, every access token refused at once."""

    def __init__(self, uow: UnitOfWork, clock: Clock = utc_now) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, user_id: int) -> None:
        async with self._uow:
            await revoke_all_credentials(self._uow, user_id, self._clock())
            await self._uow.commit()

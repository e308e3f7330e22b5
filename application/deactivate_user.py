"""DeactivateUser: switch an account off (an operator's command, not an HTTP route).

A deactivated user keeps their data but can no longer log in, their access tokens stop working
at once (``GetCurrentUser`` refuses an inactive user), and every refresh token they hold is
revoked in the same transaction. Deactivating an inactive user is not an error; it revokes any
refresh token still left.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from application.clock import Clock, utc_now
from application.credentials import revoke_all_credentials
from application.errors import ApplicationError, UsernameNotFound, UserNotFound
from application.events import NO_EVENTS, USER_DEACTIVATED, Events
from application.ports import UnitOfWork, UserRepository
from domain.user import User


@dataclass(frozen=True, slots=True)
class DeactivateUserCommand:
    """Name the user by id or by username (case-insensitive), exactly one of the two."""

    user_id: int | None = None
    username: str | None = None

    def __post_init__(self) -> None:
        if (self.user_id is None) == (self.username is None):
            raise ValueError("name the user by id or by username, exactly one of the two")


@dataclass(frozen=True, slots=True)
class DeactivateUserResult:
    user: User
    was_active: bool


class DeactivateUser:
    raises: ClassVar[tuple[type[ApplicationError], ...]] = (UsernameNotFound, UserNotFound)

    def __init__(self, uow: UnitOfWork, clock: Clock = utc_now, events: Events = NO_EVENTS) -> None:
        self._uow = uow
        self._events = events
        self._clock = clock

    async def execute(self, cmd: DeactivateUserCommand) -> DeactivateUserResult:
        async with self._uow:
            user = await self._find(cmd)
            if user.is_active:
                await self._uow.repository(UserRepository).set_active(user.id, active=False)
                await self._events.record(self._uow, USER_DEACTIVATED, user.id)
            # Reactivating later must not bring the old tokens back.
            await revoke_all_credentials(self._uow, user.id, self._clock())
            await self._uow.commit()
        return DeactivateUserResult(user=replace(user, is_active=False), was_active=user.is_active)

    async def _find(self, cmd: DeactivateUserCommand) -> User:
        if cmd.user_id is not None:
            user = await self._uow.repository(UserRepository).get(cmd.user_id)
            if user is None:
                raise UserNotFound(cmd.user_id)
            return user
        if cmd.username is not None:
            user = await self._uow.repository(UserRepository).get_by_username(cmd.username)
            if user is None:
                raise UsernameNotFound(cmd.username)
            return user
        raise ValueError("no user named")  # unreachable: the command checks itself

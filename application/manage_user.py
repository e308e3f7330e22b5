"""ManageUser: an admin (or the operator's CLI) switches a user on or off, or makes or unmakes
an admin; never leaving no active admin."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from application.clock import Clock, utc_now
from application.credentials import revoke_all_credentials
from application.errors import (
    AdminMfaRequired,
    ApplicationError,
    LastActiveAdmin,
    NotAdmin,
    UsernameNotFound,
    UserNotFound,
)
from application.events import (
    NO_EVENTS,
    USER_ADMIN_GRANTED,
    USER_ADMIN_REVOKED,
    USER_DEACTIVATED,
    USER_REACTIVATED,
    Events,
)
from application.ports import UnitOfWork, UserRepository
from domain.user import User


@dataclass(frozen=True, slots=True)
class ManageUserCommand:
    """Name the user by id or by username (case-insensitive); None leaves a flag as it is.
    ``actor`` is the admin acting over HTTP, None for the operator's command line."""

    actor: User | None
    user_id: int | None = None
    username: str | None = None
    is_active: bool | None = None
    is_admin: bool | None = None

    def __post_init__(self) -> None:
        if (self.user_id is None) == (self.username is None):
            raise ValueError("name the user by id or by username, exactly one of the two")


class ManageUser:
    """Deactivating stops the user's credentials at once (like ``DeactivateUser``); reactivating
    lets them log in again, with no old token coming back.

    "Never the last active admin" is decided under a lock: the active admins' rows are locked
    (``FOR UPDATE`` on PostgreSQL; SQLite and memory serialise writers) before the count is
    read, so two admins demoting each other at once are serialised and the second is refused
    (409) instead of both succeeding."""

    raises: ClassVar[tuple[type[ApplicationError], ...]] = (
        AdminMfaRequired,
        LastActiveAdmin,
        NotAdmin,
        UserNotFound,
        UsernameNotFound,
    )

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock = utc_now,
        events: Events = NO_EVENTS,
        *,
        admin_mfa_required: bool = False,
    ) -> None:
        self._uow = uow
        self._events = events
        self._clock = clock
        self._admin_mfa_required = admin_mfa_required

    async def execute(self, cmd: ManageUserCommand) -> User:
        if cmd.actor is not None and not cmd.actor.is_admin:
            raise NotAdmin
        if cmd.actor is not None and self._admin_mfa_required and not cmd.actor.mfa_enabled:
            raise AdminMfaRequired  # ADMIN_MFA_REQUIRED (the operator's CLI is not asked)
        async with self._uow:
            admins = set(await self._uow.repository(UserRepository).lock_active_admins())
            user = await self._find(cmd)
            if cmd.actor is not None and cmd.actor.id not in admins:
                raise NotAdmin  # demoted or deactivated since this request looked them up
            updated = replace(
                user,
                is_active=user.is_active if cmd.is_active is None else cmd.is_active,
                is_admin=user.is_admin if cmd.is_admin is None else cmd.is_admin,
            )
            if updated.is_admin and updated.is_active:
                admins.add(user.id)
            else:
                admins.discard(user.id)
            if not admins and user.is_admin and user.is_active:
                raise LastActiveAdmin
            if updated.is_admin != user.is_admin:
                await self._uow.repository(UserRepository).set_admin(
                    user.id, admin=updated.is_admin
                )
                await self._events.record(
                    self._uow,
                    USER_ADMIN_GRANTED if updated.is_admin else USER_ADMIN_REVOKED,
                    user.id,
                )
            if updated.is_active != user.is_active:
                await self._uow.repository(UserRepository).set_active(
                    user.id, active=updated.is_active
                )
                await self._events.record(
                    self._uow,
                    USER_REACTIVATED if updated.is_active else USER_DEACTIVATED,
                    user.id,
                )
                if not updated.is_active:
                    await revoke_all_credentials(self._uow, user.id, self._clock())
            await self._uow.commit()
        return updated

    async def _find(self, cmd: ManageUserCommand) -> User:
        if cmd.user_id is not None:
            user = await self._uow.repository(UserRepository).get(cmd.user_id)
            if user is None:
                raise UserNotFound(cmd.user_id)
            return user
        if cmd.username is None:
            raise ValueError("no user named")  # unreachable: the command checks itself
        found = await self._uow.repository(UserRepository).get_by_username(cmd.username)
        if found is None:
            raise UsernameNotFound(cmd.username)
        return found

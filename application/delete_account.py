"""DeleteAccount: the caller leaves; their account and everything it owns is deleted."""

from __future__ import annotations

from application.clock import Clock, utc_now
from application.credentials import require_fresh_login
from application.events import NO_EVENTS, USER_DELETED, Events
from application.get_current_user import Caller
from application.ports import UnitOfWork, UserRepository


class DeleteAccount:
    """Needs a fresh login (RFC 9470 step-up). Items, refresh tokens (sessions) and account
    tokens go with the user row; access tokens are refused at once, since the per-request
    look-up finds no user. The username and email are free to register again. Emails already
    queued (a notice, say) are still sent: the outbox is a record of what happened."""

    def __init__(
        self,
        uow: UnitOfWork,
        reauth_max_age_seconds: int,
        clock: Clock = utc_now,
        events: Events = NO_EVENTS,
    ) -> None:
        self._uow = uow
        self._events = events
        self._reauth_max_age_seconds = reauth_max_age_seconds
        self._clock = clock

    async def execute(self, caller: Caller) -> None:
        require_fresh_login(
            caller.claims,
            self._clock(),
            self._reauth_max_age_seconds,
            mfa_enabled=caller.user.mfa_enabled,
        )
        async with self._uow:
            await self._uow.repository(UserRepository).delete(caller.user.id)
            # Nothing but the id: consumers erase what they hold. No item.deleted for the
            # items that go with the user: this one event covers them.
            await self._events.record(self._uow, USER_DELETED, caller.user.id)
            await self._uow.commit()

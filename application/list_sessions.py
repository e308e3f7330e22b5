"""ListSessions: the caller's logins that can still be refreshed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.clock import Clock, utc_now
from application.get_current_user import Caller
from application.pagination import Page, PageRequest
from application.ports import SessionQueries


@dataclass(frozen=True, slots=True)
class SessionView:
    id: int
    created_at: datetime
    last_used_at: datetime
    current: bool  # the session the caller's access token belongs to


class ListSessions:
    def __init__(self, sessions: SessionQueries, clock: Clock = utc_now) -> None:
        self._sessions = sessions
        self._clock = clock

    async def execute(self, caller: Caller, page: PageRequest) -> Page[SessionView]:
        rows = await self._sessions.page(caller.user.id, self._clock(), page)
        views = [
            SessionView(
                id=row.id,
                created_at=row.created_at,
                last_used_at=row.last_used_at,
                current=row.family_id == caller.claims.session_id,
            )
            for row in rows
        ]
        return Page.from_rows(views, page)

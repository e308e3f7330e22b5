"""ExportAccount: everything stored about the caller, read a page at a time so that a huge
account is streamed, never held in memory whole."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from application.get_current_user import Caller
from application.list_sessions import ListSessions, SessionView
from application.pagination import MAX_PAGE_SIZE, Page, PageRequest
from application.ports import ItemQueries
from domain.item import Item
from domain.user import User


@dataclass(frozen=True, slots=True)
class AccountExport:
    """The user, and iterators over their items and sessions. Each page is its own query, read
    when the iterator gets there: the export reflects the account as the pages are read."""

    user: User
    items: AsyncIterator[Item]
    sessions: AsyncIterator[SessionView]


class ExportAccount:
    def __init__(self, items: ItemQueries, sessions: ListSessions) -> None:
        self._items = items
        self._sessions = sessions

    def execute(self, caller: Caller) -> AccountExport:
        return AccountExport(
            user=caller.user,
            items=self._all_items(caller.user.id),
            sessions=self._all_sessions(caller),
        )

    async def _all_items(self, owner_id: int) -> AsyncIterator[Item]:
        after_id: int | None = None
        while True:
            request = PageRequest(limit=MAX_PAGE_SIZE, after_id=after_id)
            page = Page.from_rows(await self._items.page_of_owner(owner_id, request), request)
            for item in page.items:
                yield item
            if page.next_after_id is None:
                return
            after_id = page.next_after_id

    async def _all_sessions(self, caller: Caller) -> AsyncIterator[SessionView]:
        after_id: int | None = None
        while True:
            page = await self._sessions.execute(
                caller, PageRequest(limit=MAX_PAGE_SIZE, after_id=after_id)
            )
            for session in page.items:
                yield session
            if page.next_after_id is None:
                return
            after_id = page.next_after_id

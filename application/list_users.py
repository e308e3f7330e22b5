"""ListUsers: every user, a keyset page at a time."""

from __future__ import annotations

from application.pagination import Page, PageRequest
from application.ports import UserQueries
from domain.user import User


class ListUsers:
    def __init__(self, users: UserQueries) -> None:
        self._users = users

    async def execute(self, page: PageRequest) -> Page[User]:
        return Page.from_rows(await self._users.page(page), page)

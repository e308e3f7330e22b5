"""ListUsers: every user, a keyset page at a time."""

from __future__ import annotations

from application.pagination import Page, PageRequest
from application.ports import UnitOfWork
from domain.user import User


class ListUsers:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, page: PageRequest) -> Page[User]:
        async with self._uow:
            rows = await self._uow.users.list(page)
        return Page.from_rows(rows, page)

"""ListItems: every item, a keyset page at a time."""

from __future__ import annotations

from application.pagination import Page, PageRequest
from application.ports import UnitOfWork
from domain.item import Item


class ListItems:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, page: PageRequest) -> Page[Item]:
        async with self._uow:
            rows = await self._uow.items.list(page)
        return Page.from_rows(rows, page)

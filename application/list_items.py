"""ListItems: every item, a keyset page at a time."""

from __future__ import annotations

from application.pagination import Page, PageRequest
from application.ports import ItemQueries
from domain.item import Item


class ListItems:
    def __init__(self, items: ItemQueries) -> None:
        self._items = items

    async def execute(self, page: PageRequest) -> Page[Item]:
        return Page.from_rows(await self._items.page(page), page)

"""GetItem: one item."""

from __future__ import annotations

from application.errors import ItemNotFound
from application.ports import ItemQueries
from domain.item import Item


class GetItem:
    def __init__(self, items: ItemQueries) -> None:
        self._items = items

    async def execute(self, item_id: int) -> Item:
        item = await self._items.get(item_id)
        if item is None:
            raise ItemNotFound(item_id)
        return item

"""GetItem: one item."""

from __future__ import annotations

from typing import ClassVar

from application.errors import ApplicationError, ItemNotFound
from application.ports import ItemQueries
from domain.item import Item


class GetItem:
    raises: ClassVar[tuple[type[ApplicationError], ...]] = (ItemNotFound,)

    def __init__(self, items: ItemQueries) -> None:
        self._items = items

    async def execute(self, item_id: int) -> Item:
        item = await self._items.get(item_id)
        if item is None:
            raise ItemNotFound(item_id)
        return item

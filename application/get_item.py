"""GetItem: one item."""

from __future__ import annotations

from typing import ClassVar

from application.errors import ApplicationError, ItemNotFound
from application.ports import UnitOfWork
from domain.item import Item


class GetItem:
    raises: ClassVar[tuple[type[ApplicationError], ...]] = (ItemNotFound,)

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, item_id: int) -> Item:
        async with self._uow:
            item = await self._uow.items.get(item_id)
        if item is None:
            raise ItemNotFound(item_id)
        return item

"""DeleteItem: the owner removes an item."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from application.errors import ApplicationError, ItemNotFound, NotResourceOwner
from application.events import ITEM_DELETED, NO_EVENTS, Events
from application.ports import ItemRepository, UnitOfWork


@dataclass(frozen=True, slots=True)
class DeleteItemCommand:
    actor_id: int
    item_id: int
    actor_is_admin: bool = False  # an admin may change and delete anyone's items


class DeleteItem:
    raises: ClassVar[tuple[type[ApplicationError], ...]] = (ItemNotFound, NotResourceOwner)

    def __init__(self, uow: UnitOfWork, events: Events = NO_EVENTS) -> None:
        self._uow = uow
        self._events = events

    async def execute(self, cmd: DeleteItemCommand) -> None:
        async with self._uow:
            item = await self._uow.repository(ItemRepository).get(cmd.item_id)
            if item is None:
                raise ItemNotFound(cmd.item_id)
            if not (cmd.actor_is_admin or item.is_owned_by(cmd.actor_id)):
                raise NotResourceOwner
            await self._uow.repository(ItemRepository).delete(cmd.item_id)
            await self._events.record(self._uow, ITEM_DELETED, item.owner_id, item_id=item.id)
            await self._uow.commit()

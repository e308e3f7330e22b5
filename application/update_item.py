"""UpdateItem: the owner changes an item's title and/or description."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar

from application.errors import ApplicationError, ItemNotFound, NotResourceOwner
from application.events import ITEM_UPDATED, NO_EVENTS, Events
from application.ports import ItemRepository, UnitOfWork
from domain.item import Item


class Unset(enum.Enum):
    """Marks a field the caller did not send, as opposed to one sent as null."""

    UNSET = enum.auto()


UNSET = Unset.UNSET


@dataclass(frozen=True, slots=True)
class UpdateItemCommand:
    actor_id: int
    item_id: int
    actor_is_admin: bool = False  # an admin may change and delete anyone's items
    title: str | Unset = UNSET
    description: str | Unset | None = UNSET


class UpdateItem:
    raises: ClassVar[tuple[type[ApplicationError], ...]] = (ItemNotFound, NotResourceOwner)

    def __init__(self, uow: UnitOfWork, events: Events = NO_EVENTS) -> None:
        self._uow = uow
        self._events = events

    async def execute(self, cmd: UpdateItemCommand) -> Item:
        async with self._uow:
            item = await self._uow.repository(ItemRepository).get(cmd.item_id)
            if item is None:
                raise ItemNotFound(cmd.item_id)
            if not (cmd.actor_is_admin or item.is_owned_by(cmd.actor_id)):
                raise NotResourceOwner
            updated = item.with_changes(
                title=item.title if cmd.title is UNSET else cmd.title,
                description=item.description if cmd.description is UNSET else cmd.description,
            )
            if updated != item:
                await self._uow.repository(ItemRepository).update(updated)
                await self._events.record(
                    self._uow,
                    ITEM_UPDATED,
                    updated.owner_id,
                    item_id=updated.id,
                    title=updated.title,
                    description=updated.description,
                )
                await self._uow.commit()
        return updated

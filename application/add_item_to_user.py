"""AddItemToUser: a user adds an item to their own collection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

from application.errors import ApplicationError, NotAuthenticated, NotResourceOwner
from application.events import ITEM_CREATED, NO_EVENTS, Events
from application.ports import ItemRepository, UnitOfWork
from application.ports.repositories import OwnerNotFound
from domain.item import Item, NewItem


@dataclass(frozen=True, slots=True)
class AddItemToUserCommand:
    actor_id: int  # the authenticated caller
    owner_id: int  # the user whose collection receives the item
    title: str
    description: str | None = None


class AddItemToUser:
    """Only into the caller's own collection: another user's id is ``NotResourceOwner`` (403),
    whether or not that user exists, so the answer never tells which ids exist. The owner is
    then the caller, who existed when the token was checked; if the account has gone since, the
    caller is no longer authenticated (401), never "not found"."""

    raises: ClassVar[tuple[type[ApplicationError], ...]] = (NotResourceOwner, NotAuthenticated)

    def __init__(self, uow: UnitOfWork, events: Events = NO_EVENTS) -> None:
        self._uow = uow
        self._events = events

    async def execute(self, cmd: AddItemToUserCommand) -> Item:
        if cmd.actor_id != cmd.owner_id:
            raise NotResourceOwner
        new_item = NewItem(
            title=cmd.title,
            description=cmd.description,
            owner_id=cmd.owner_id,
            created_at=datetime.now(UTC),
        )
        # The item and its event are one write (decision 0057).
        created = self._events.of_new_item(
            ITEM_CREATED, cmd.owner_id, title=new_item.title, description=new_item.description
        )
        async with self._uow:
            try:
                item = await self._uow.repository(ItemRepository).add(new_item, created)
            except OwnerNotFound:
                raise NotAuthenticated from None
            await self._uow.commit()
        return item

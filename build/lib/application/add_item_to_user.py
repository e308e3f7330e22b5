"""AddItemToUser: a user adds an item to their own collection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from application.errors import NotResourceOwner, UserNotFound
from application.ports import UnitOfWork
from domain.item import Item, NewItem


@dataclass(frozen=True, slots=True)
class AddItemToUserCommand:
    actor_id: int  # the authenticated caller
    owner_id: int  # the user whose collection receives the item
    title: str
    description: str | None = None


class AddItemToUser:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, cmd: AddItemToUserCommand) -> Item:
        if cmd.actor_id != cmd.owner_id:
            raise NotResourceOwner
        async with self._uow:
            if await self._uow.users.get(cmd.owner_id) is None:
                raise UserNotFound(cmd.owner_id)
            item = await self._uow.items.add(
                NewItem(
                    title=cmd.title,
                    description=cmd.description,
                    owner_id=cmd.owner_id,
                    created_at=datetime.now(UTC),
                )
            )
            await self._uow.commit()
        return item

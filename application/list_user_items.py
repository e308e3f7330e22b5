"""ListUserItems: one user's items, a keyset page at a time."""

from __future__ import annotations

from typing import ClassVar

from application.errors import ApplicationError, UserNotFound
from application.pagination import Page, PageRequest
from application.ports import UnitOfWork
from domain.item import Item


class ListUserItems:
    raises: ClassVar[tuple[type[ApplicationError], ...]] = (UserNotFound,)

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def execute(self, owner_id: int, page: PageRequest) -> Page[Item]:
        async with self._uow:
            if await self._uow.users.get(owner_id) is None:
                raise UserNotFound(owner_id)
            rows = await self._uow.items.list_by_owner(owner_id, page)
        return Page.from_rows(rows, page)

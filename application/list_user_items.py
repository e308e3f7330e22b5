"""ListUserItems: one user's items, a keyset page at a time."""

from __future__ import annotations

from typing import ClassVar

from application.errors import ApplicationError, UserNotFound
from application.pagination import Page, PageRequest
from application.ports import ItemQueries, UserQueries
from domain.item import Item


class ListUserItems:
    raises: ClassVar[tuple[type[ApplicationError], ...]] = (UserNotFound,)

    def __init__(self, users: UserQueries, items: ItemQueries) -> None:
        self._users = users
        self._items = items

    async def execute(self, owner_id: int, page: PageRequest) -> Page[Item]:
        rows = await self._items.page_of_owner(owner_id, page)
        # An item's owner exists (a foreign key): only an empty page asks whether the user does.
        if not rows and await self._users.get(owner_id) is None:
            raise UserNotFound(owner_id)
        return Page.from_rows(rows, page)

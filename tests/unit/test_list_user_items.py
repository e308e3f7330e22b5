from __future__ import annotations

import pytest

from adapters.memory import InMemoryDatabase, InMemoryItemQueries, InMemoryUserQueries
from application.errors import UserNotFound
from application.list_user_items import ListUserItems
from application.pagination import PageRequest
from domain.user import User
from tests.unit.support import add_item, add_user


async def test_pages_through_only_that_users_items_in_id_order(db: InMemoryDatabase) -> None:
    ada = await add_user(db, "ada")
    grace = await add_user(db, "grace")
    adas = []
    for title in ("a1", "a2", "a3"):
        adas.append(await add_item(db, ada.id, title))
        await add_item(db, grace.id, f"g-{title}")
    list_user_items = ListUserItems(InMemoryUserQueries(db), InMemoryItemQueries(db))

    first = await list_user_items.execute(ada.id, PageRequest(limit=2))
    last = await list_user_items.execute(ada.id, PageRequest(limit=2, after_id=first.next_after_id))

    assert list(first.items) == adas[:2]
    assert first.next_after_id == adas[1].id
    assert list(last.items) == adas[2:]
    assert last.next_after_id is None


async def test_a_user_without_items_gets_an_empty_page(db: InMemoryDatabase) -> None:
    ada = await add_user(db, "ada")
    grace = await add_user(db, "grace")
    await add_item(db, grace.id)

    page = await ListUserItems(InMemoryUserQueries(db), InMemoryItemQueries(db)).execute(
        ada.id, PageRequest()
    )

    assert list(page.items) == []
    assert page.next_after_id is None


async def test_an_unknown_user_raises_user_not_found(db: InMemoryDatabase) -> None:
    with pytest.raises(UserNotFound) as raised:
        await ListUserItems(InMemoryUserQueries(db), InMemoryItemQueries(db)).execute(
            7, PageRequest()
        )

    assert raised.value.user_id == 7


class CountingUserQueries(InMemoryUserQueries):
    looked_up: int = 0

    async def get(self, user_id: int) -> User | None:
        self.looked_up += 1
        return await super().get(user_id)


async def test_a_page_with_items_does_not_look_the_user_up(db: InMemoryDatabase) -> None:
    """Their items prove the user exists (a foreign key): one query, not two."""
    ada = await add_user(db, "ada")
    await add_item(db, ada.id)
    users = CountingUserQueries(db)

    page = await ListUserItems(users, InMemoryItemQueries(db)).execute(ada.id, PageRequest())

    assert len(page.items) == 1
    assert users.looked_up == 0
    await ListUserItems(users, InMemoryItemQueries(db)).execute(ada.id, PageRequest(after_id=10**6))
    assert users.looked_up == 1  # an empty page asks whether the user exists

from __future__ import annotations

from adapters.memory import InMemoryDatabase, InMemoryItemQueries
from application.list_items import ListItems
from application.pagination import PageRequest
from tests.unit.support import add_item, add_user


async def test_pages_through_every_users_items_in_id_order(db: InMemoryDatabase) -> None:
    ada = await add_user(db, "ada")
    grace = await add_user(db, "grace")
    items = [
        await add_item(db, owner.id, title)
        for owner, title in ((ada, "a1"), (grace, "g1"), (ada, "a2"))
    ]
    list_items = ListItems(InMemoryItemQueries(db))

    first = await list_items.execute(PageRequest(limit=2))
    last = await list_items.execute(PageRequest(limit=2, after_id=first.next_after_id))

    assert list(first.items) == items[:2]
    assert first.next_after_id == items[1].id
    assert list(last.items) == items[2:]
    assert last.next_after_id is None


async def test_no_items_gives_an_empty_last_page(db: InMemoryDatabase) -> None:
    await add_user(db, "ada")

    page = await ListItems(InMemoryItemQueries(db)).execute(PageRequest())

    assert list(page.items) == []
    assert page.next_after_id is None

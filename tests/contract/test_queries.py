"""The query ports (the read side), in memory, on SQLite and on PostgreSQL: the same behaviour."""

from __future__ import annotations

from application.pagination import PageRequest
from application.ports import UserRepository
from tests.conftest import Store
from tests.contract.support import add_item, add_user, new_user


async def test_get_finds_committed_users_and_items_and_nothing_else(store: Store) -> None:
    ada = await add_user(store.uow, "ada")
    lamp = await add_item(store.uow, ada.id, "Lamp")

    assert await store.users.get(ada.id) == ada
    assert await store.items.get(lamp.id) == lamp
    assert await store.users.get(ada.id + 1) is None
    assert await store.items.get(lamp.id + 1) is None


async def test_what_a_unit_of_work_did_not_commit_is_never_read(store: Store) -> None:
    async with store.uow() as uow:
        await uow.repository(UserRepository).add(new_user("grace"))
    async with store.uow() as uow:
        ada = await uow.repository(UserRepository).add(new_user("ada"))
        await uow.commit()

    assert await store.users.get(ada.id) == ada
    assert list(await store.users.page(PageRequest())) == [ada]


async def test_users_pages_ascending_by_id_reading_one_extra_row(store: Store) -> None:
    users = [await add_user(store.uow, name) for name in ("ada", "bob", "cy", "dee", "eve")]

    first = await store.users.page(PageRequest(limit=2))
    middle = await store.users.page(PageRequest(limit=2, after_id=users[1].id))
    last = await store.users.page(PageRequest(limit=2, after_id=users[3].id))
    beyond = await store.users.page(PageRequest(limit=2, after_id=users[4].id))

    assert list(first) == users[:3]
    assert list(middle) == users[2:5]
    assert list(last) == users[4:]
    assert list(beyond) == []


async def test_page_of_owner_returns_only_that_owners_items_in_id_order(store: Store) -> None:
    ada = await add_user(store.uow, "ada")
    grace = await add_user(store.uow, "grace")
    adas = []
    for title in ("a1", "a2", "a3", "a4"):
        await add_item(store.uow, grace.id, f"g-{title}")
        adas.append(await add_item(store.uow, ada.id, title))

    everything = await store.items.page_of_owner(ada.id, PageRequest(limit=10))
    first = await store.items.page_of_owner(ada.id, PageRequest(limit=2))
    rest = await store.items.page_of_owner(ada.id, PageRequest(limit=2, after_id=adas[1].id))

    assert list(everything) == adas
    assert list(first) == adas[:3]
    assert list(rest) == adas[2:]
    assert list(await store.items.page_of_owner(grace.id + 1, PageRequest())) == []


async def test_items_pages_across_owners_ascending_by_id(store: Store) -> None:
    ada = await add_user(store.uow, "ada")
    grace = await add_user(store.uow, "grace")
    items = [
        await add_item(store.uow, owner.id, title)
        for owner, title in ((ada, "a1"), (grace, "g1"), (ada, "a2"), (grace, "g2"))
    ]

    first = await store.items.page(PageRequest(limit=2))
    last = await store.items.page(PageRequest(limit=2, after_id=items[1].id))

    assert list(first) == items[:3]
    assert list(last) == items[2:]

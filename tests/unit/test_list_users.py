from __future__ import annotations

from adapters.memory import InMemoryDatabase, InMemoryUserQueries
from application.list_users import ListUsers
from application.pagination import PageRequest
from tests.unit.support import add_user, ids


async def test_pages_through_every_user_in_id_order(db: InMemoryDatabase) -> None:
    users = [await add_user(db, name) for name in ("ada", "bob", "cy", "dee", "eve")]
    list_users = ListUsers(InMemoryUserQueries(db))

    first = await list_users.execute(PageRequest(limit=2))
    second = await list_users.execute(PageRequest(limit=2, after_id=first.next_after_id))
    last = await list_users.execute(PageRequest(limit=2, after_id=second.next_after_id))

    assert list(first.items) == users[:2]
    assert first.next_after_id == users[1].id
    assert list(second.items) == users[2:4]
    assert second.next_after_id == users[3].id
    assert list(last.items) == users[4:]
    assert last.next_after_id is None


async def test_a_page_holding_exactly_the_last_rows_has_no_next(db: InMemoryDatabase) -> None:
    users = [await add_user(db, name) for name in ("ada", "bob", "cy")]

    page = await ListUsers(InMemoryUserQueries(db)).execute(PageRequest(limit=3))

    assert ids(page.items) == ids(users)
    assert page.next_after_id is None


async def test_an_empty_store_gives_an_empty_last_page(db: InMemoryDatabase) -> None:
    page = await ListUsers(InMemoryUserQueries(db)).execute(PageRequest())

    assert list(page.items) == []
    assert page.next_after_id is None

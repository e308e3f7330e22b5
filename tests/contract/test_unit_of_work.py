"""The unit-of-work contract, run over memory, SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from application.errors import UserAlreadyExists
from application.pagination import MAX_PAGE_SIZE, PageRequest
from application.ports import UnitOfWork
from tests.conftest import UowFactory
from tests.contract.support import add_user, all_items, all_users, new_item, new_user


class Boom(Exception):
    pass


async def test_committed_writes_are_visible_to_a_new_unit_of_work(
    uow_factory: UowFactory,
) -> None:
    async with uow_factory() as uow:
        ada = await uow.users.add(new_user("ada"))
        item = await uow.items.add(new_item(ada.id))
        await uow.commit()

    async with uow_factory() as uow:
        assert await uow.users.get(ada.id) == ada
        assert await uow.items.get(item.id) == item


async def test_leaving_the_block_without_commit_rolls_back(uow_factory: UowFactory) -> None:
    ada = await add_user(uow_factory, "ada")

    async with uow_factory() as uow:
        await uow.users.add(new_user("grace"))
        await uow.items.add(new_item(ada.id))

    assert await all_users(uow_factory) == [ada]
    assert await all_items(uow_factory) == []


async def add_then_fail(uow: UnitOfWork, owner_id: int) -> None:
    async with uow:
        await uow.users.add(new_user("grace"))
        await uow.items.add(new_item(owner_id))
        raise Boom


async def test_an_exception_in_the_block_rolls_back_and_propagates(
    uow_factory: UowFactory,
) -> None:
    ada = await add_user(uow_factory, "ada")

    with pytest.raises(Boom):
        await add_then_fail(uow_factory(), ada.id)

    assert await all_users(uow_factory) == [ada]
    assert await all_items(uow_factory) == []


async def test_writes_after_a_commit_need_their_own_commit(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        ada = await uow.users.add(new_user("ada"))
        await uow.commit()
        await uow.users.add(new_user("grace"))
        await uow.items.add(new_item(ada.id))

    assert await all_users(uow_factory) == [ada]
    assert await all_items(uow_factory) == []


async def test_a_refused_duplicate_leaves_the_store_unchanged_and_usable(
    uow_factory: UowFactory,
) -> None:
    ada = await add_user(uow_factory, "ada")

    async with uow_factory() as uow:
        with pytest.raises(UserAlreadyExists):
            await uow.users.add(new_user("ada"))

    grace = await add_user(uow_factory, "grace")
    assert await all_users(uow_factory) == [ada, grace]


async def test_one_unit_of_work_serves_one_transaction_after_another(
    uow_factory: UowFactory,
) -> None:
    uow = uow_factory()
    async with uow:
        ada = await uow.users.add(new_user("ada"))
        await uow.commit()
    async with uow:
        await uow.users.add(new_user("grace"))
    async with uow:
        assert list(await uow.users.list(PageRequest(limit=MAX_PAGE_SIZE))) == [ada]

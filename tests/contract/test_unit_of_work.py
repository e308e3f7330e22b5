"""The unit-of-work contract, run over memory, SQLite and PostgreSQL."""

from __future__ import annotations

import re
from typing import Protocol

import pytest

from application.errors import UserAlreadyExists
from application.ports import ItemRepository, UnitOfWork, UserRepository
from tests.conftest import Store, UowFactory
from tests.contract.support import add_user, all_items, all_users, new_item, new_user


class Boom(Exception):
    pass


async def test_committed_writes_are_visible_to_a_new_unit_of_work(
    uow_factory: UowFactory,
) -> None:
    async with uow_factory() as uow:
        ada = await uow.repository(UserRepository).add(new_user("ada"))
        item = await uow.repository(ItemRepository).add(new_item(ada.id))
        await uow.commit()

    async with uow_factory() as uow:
        assert await uow.repository(UserRepository).get(ada.id) == ada
        assert await uow.repository(ItemRepository).get(item.id) == item


async def test_leaving_the_block_without_commit_rolls_back(store: Store) -> None:
    ada = await add_user(store.uow, "ada")

    async with store.uow() as uow:
        await uow.repository(UserRepository).add(new_user("grace"))
        await uow.repository(ItemRepository).add(new_item(ada.id))

    assert await all_users(store) == [ada]
    assert await all_items(store) == []


@pytest.mark.parametrize("commit", [True, False])
async def test_a_write_on_the_fast_path_and_one_through_sqlalchemy_share_one_transaction(
    store: Store, commit: bool
) -> None:
    """On PostgreSQL an item is added on the driver connection and a user through SQLAlchemy
    (decision 0053); whichever comes first, both are in one transaction."""
    ada = await add_user(store.uow, "ada")

    async with store.uow() as uow:
        item = await uow.repository(ItemRepository).add(new_item(ada.id))  # the driver's BEGIN
        grace = await uow.repository(UserRepository).add(new_user("grace"))  # joins it
        if commit:
            await uow.commit()

    assert await all_users(store) == ([ada, grace] if commit else [ada])
    assert await all_items(store) == ([item] if commit else [])


async def add_then_fail(uow: UnitOfWork, owner_id: int) -> None:
    async with uow:
        await uow.repository(UserRepository).add(new_user("grace"))
        await uow.repository(ItemRepository).add(new_item(owner_id))
        raise Boom


async def test_an_exception_in_the_block_rolls_back_and_propagates(
    store: Store,
) -> None:
    ada = await add_user(store.uow, "ada")

    with pytest.raises(Boom):
        await add_then_fail(store.uow(), ada.id)

    assert await all_users(store) == [ada]
    assert await all_items(store) == []


async def test_writes_after_a_commit_need_their_own_commit(store: Store) -> None:
    async with store.uow() as uow:
        ada = await uow.repository(UserRepository).add(new_user("ada"))
        await uow.commit()
        await uow.repository(UserRepository).add(new_user("grace"))
        await uow.repository(ItemRepository).add(new_item(ada.id))

    assert await all_users(store) == [ada]
    assert await all_items(store) == []


async def test_a_refused_duplicate_leaves_the_store_unchanged_and_usable(
    store: Store,
) -> None:
    ada = await add_user(store.uow, "ada")

    async with store.uow() as uow:
        with pytest.raises(UserAlreadyExists):
            await uow.repository(UserRepository).add(new_user("ada"))

    grace = await add_user(store.uow, "grace")
    assert await all_users(store) == [ada, grace]


async def test_one_unit_of_work_serves_one_transaction_after_another(
    uow_factory: UowFactory,
) -> None:
    uow = uow_factory()
    async with uow:
        ada = await uow.repository(UserRepository).add(new_user("ada"))
        await uow.commit()
    async with uow:
        await uow.repository(UserRepository).add(new_user("grace"))
    async with uow:
        assert await uow.repository(UserRepository).get(ada.id) == ada
        assert await uow.repository(UserRepository).get_by_username("grace") is None


class UnimplementedRepository(Protocol):
    async def get(self, key: int) -> None: ...


async def test_a_port_no_adapter_implements_is_a_lookup_error_naming_the_decorator(
    uow_factory: UowFactory,
) -> None:
    async with uow_factory() as uow:
        with pytest.raises(LookupError) as raised:
            uow.repository(UnimplementedRepository)

    message = str(raised.value)
    assert "implements UnimplementedRepository" in message
    assert re.search(r"@(sql|memory)_repository\(UnimplementedRepository\)", message), message


async def test_one_repository_per_port_and_transaction_and_none_outside_the_block(
    uow_factory: UowFactory,
) -> None:
    uow = uow_factory()
    with pytest.raises(RuntimeError):
        uow.repository(UserRepository)
    async with uow:
        users = uow.repository(UserRepository)
        assert uow.repository(UserRepository) is users
    with pytest.raises(RuntimeError):
        uow.repository(UserRepository)

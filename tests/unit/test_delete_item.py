from __future__ import annotations

import pytest

from adapters.memory import InMemoryDatabase, InMemoryUnitOfWork
from application.delete_item import DeleteItem, DeleteItemCommand
from application.errors import ItemNotFound, NotResourceOwner
from tests.unit.support import add_item, add_user, all_items


async def test_the_owner_deletes_the_item_and_only_that_item(db: InMemoryDatabase) -> None:
    ada = await add_user(db, "ada")
    bike = await add_item(db, ada.id, "Bike")
    lamp = await add_item(db, ada.id, "Lamp")

    await DeleteItem(InMemoryUnitOfWork(db)).execute(DeleteItemCommand(ada.id, bike.id))

    assert await all_items(db) == [lamp]


async def test_someone_else_cannot_delete_the_item(db: InMemoryDatabase) -> None:
    ada = await add_user(db, "ada")
    grace = await add_user(db, "grace")
    bike = await add_item(db, ada.id, "Bike")

    with pytest.raises(NotResourceOwner):
        await DeleteItem(InMemoryUnitOfWork(db)).execute(DeleteItemCommand(grace.id, bike.id))

    assert await all_items(db) == [bike]


async def test_an_unknown_item_raises_item_not_found(db: InMemoryDatabase) -> None:
    ada = await add_user(db, "ada")

    with pytest.raises(ItemNotFound) as raised:
        await DeleteItem(InMemoryUnitOfWork(db)).execute(DeleteItemCommand(ada.id, 3))

    assert raised.value.item_id == 3

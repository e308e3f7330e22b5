from __future__ import annotations

import pytest

from adapters.memory import InMemoryDatabase, InMemoryItemQueries
from application.errors import ItemNotFound
from application.get_item import GetItem
from tests.unit.support import add_item, add_user


async def test_returns_the_stored_item(db: InMemoryDatabase) -> None:
    ada = await add_user(db, "ada")
    await add_item(db, ada.id, "Bike")
    lamp = await add_item(db, ada.id, "Lamp", "green")

    assert await GetItem(InMemoryItemQueries(db)).execute(lamp.id) == lamp


async def test_an_unknown_id_raises_item_not_found(db: InMemoryDatabase) -> None:
    with pytest.raises(ItemNotFound) as raised:
        await GetItem(InMemoryItemQueries(db)).execute(5)

    assert raised.value.item_id == 5

from __future__ import annotations

import pytest

from adapters.memory import InMemoryDatabase, InMemoryUnitOfWork
from application.errors import ItemNotFound, NotResourceOwner
from application.update_item import UpdateItem, UpdateItemCommand
from domain.item import Item
from tests.unit.support import add_item, add_user, stored_item


async def bike(db: InMemoryDatabase) -> Item:
    ada = await add_user(db, "ada")
    return await add_item(db, ada.id, "Bike", "red")


async def update(db: InMemoryDatabase, command: UpdateItemCommand) -> Item:
    return await UpdateItem(InMemoryUnitOfWork(db)).execute(command)


async def test_only_the_title_changes_when_only_a_title_is_sent(db: InMemoryDatabase) -> None:
    item = await bike(db)
    commits = db.commits

    updated = await update(db, UpdateItemCommand(item.owner_id, item.id, title="Trike"))

    assert updated == item.with_changes(title="Trike", description="red")
    assert await stored_item(db, item.id) == updated
    assert db.commits == commits + 1


async def test_only_the_description_changes_when_only_a_description_is_sent(
    db: InMemoryDatabase,
) -> None:
    item = await bike(db)

    updated = await update(db, UpdateItemCommand(item.owner_id, item.id, description="blue"))

    assert updated == item.with_changes(title="Bike", description="blue")
    assert await stored_item(db, item.id) == updated


async def test_a_description_sent_as_none_clears_it(db: InMemoryDatabase) -> None:
    item = await bike(db)

    updated = await update(db, UpdateItemCommand(item.owner_id, item.id, description=None))

    assert updated.description is None
    assert await stored_item(db, item.id) == item.with_changes(title="Bike", description=None)


async def test_nothing_sent_changes_nothing_and_commits_nothing(db: InMemoryDatabase) -> None:
    item = await bike(db)
    commits = db.commits

    updated = await update(db, UpdateItemCommand(item.owner_id, item.id))

    assert updated == item
    assert await stored_item(db, item.id) == item
    assert db.commits == commits


async def test_sending_the_current_values_commits_nothing(db: InMemoryDatabase) -> None:
    item = await bike(db)
    commits = db.commits

    command = UpdateItemCommand(item.owner_id, item.id, title="Bike", description="red")
    updated = await update(db, command)

    assert updated == item
    assert db.commits == commits


async def test_someone_else_cannot_update_the_item(db: InMemoryDatabase) -> None:
    item = await bike(db)
    grace = await add_user(db, "grace")

    with pytest.raises(NotResourceOwner):
        await update(db, UpdateItemCommand(grace.id, item.id, title="Mine now"))

    assert await stored_item(db, item.id) == item


async def test_an_unknown_item_raises_item_not_found(db: InMemoryDatabase) -> None:
    item = await bike(db)

    with pytest.raises(ItemNotFound) as raised:
        await update(db, UpdateItemCommand(item.owner_id, item.id + 1, title="Trike"))

    assert raised.value.item_id == item.id + 1

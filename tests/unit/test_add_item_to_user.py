from __future__ import annotations

import pytest

from adapters.memory import InMemoryDatabase, InMemoryUnitOfWork
from application.add_item_to_user import AddItemToUser, AddItemToUserCommand
from application.errors import NotAuthenticated, NotResourceOwner
from tests.unit.support import add_user, all_items, stored_item


async def test_the_owner_adds_an_item_to_their_collection(db: InMemoryDatabase) -> None:
    ada = await add_user(db, "ada")
    command = AddItemToUserCommand(
        actor_id=ada.id, owner_id=ada.id, title="Bike", description="red"
    )

    item = await AddItemToUser(InMemoryUnitOfWork(db)).execute(command)

    assert (item.title, item.description, item.owner_id) == ("Bike", "red", ada.id)
    assert item.created_at.tzinfo is not None
    assert await stored_item(db, item.id) == item


async def test_an_item_without_description_is_stored_with_none(db: InMemoryDatabase) -> None:
    ada = await add_user(db, "ada")
    command = AddItemToUserCommand(actor_id=ada.id, owner_id=ada.id, title="Bike")

    item = await AddItemToUser(InMemoryUnitOfWork(db)).execute(command)

    stored = await stored_item(db, item.id)
    assert stored is not None
    assert stored.description is None


async def test_adding_to_someone_elses_collection_is_refused(db: InMemoryDatabase) -> None:
    ada = await add_user(db, "ada")
    grace = await add_user(db, "grace")
    command = AddItemToUserCommand(actor_id=grace.id, owner_id=ada.id, title="Bike")

    with pytest.raises(NotResourceOwner):
        await AddItemToUser(InMemoryUnitOfWork(db)).execute(command)

    assert await all_items(db) == []


async def test_a_caller_whose_account_is_gone_is_not_authenticated(
    db: InMemoryDatabase,
) -> None:
    """The owner is the caller; one that no longer exists is a 401, never a 404."""
    command = AddItemToUserCommand(actor_id=42, owner_id=42, title="Bike")

    with pytest.raises(NotAuthenticated):
        await AddItemToUser(InMemoryUnitOfWork(db)).execute(command)

    assert await all_items(db) == []
    assert db.commits == 0

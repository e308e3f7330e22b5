from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.memory import InMemoryDatabase, InMemoryUnitOfWork
from adapters.sqlalchemy.repositories import item_data
from application.add_item_to_user import AddItemToUser, AddItemToUserCommand
from application.errors import NotAuthenticated, NotResourceOwner
from application.events import ITEM_CREATED, Events
from application.ports import OutboxDestination
from application.ports.repositories import NEW_ITEM_ID
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


T0 = datetime(2026, 12, 6, 7, 30, tzinfo=UTC)


def recorded_events(db: InMemoryDatabase) -> list[tuple[str, dict[str, object], str | None]]:
    return [
        (m.event_type, dict(m.payload), m.ordering_key)
        for m in db.state.outbox.values()
        if m.destination is OutboxDestination.EVENTS
    ]


async def test_with_events_on_the_item_and_its_created_event_are_one_commit(
    db: InMemoryDatabase,
) -> None:
    ada = await add_user(db, "ada")
    add = AddItemToUser(InMemoryUnitOfWork(db), Events(enabled=True, clock=lambda: T0))
    commits = db.commits

    bike = await add.execute(AddItemToUserCommand(ada.id, ada.id, "Bike", "red"))
    lamp = await add.execute(AddItemToUserCommand(ada.id, ada.id, "Lamp"))

    assert db.commits == commits + 2
    assert recorded_events(db) == [
        (
            ITEM_CREATED.name,
            {"user_id": ada.id, "item_id": bike.id, "title": "Bike", "description": "red"},
            str(ada.id),
        ),
        (
            ITEM_CREATED.name,
            {"user_id": ada.id, "item_id": lamp.id, "title": "Lamp", "description": None},
            str(ada.id),
        ),
    ]
    assert {m.created_at for m in db.state.outbox.values()} == {T0}


async def test_the_created_event_holds_the_data_postgresql_builds_from_the_items_row(
    db: InMemoryDatabase,
) -> None:
    """On PostgreSQL the store builds ``item.created``'s data from the new row when the event
    holds exactly the row's fields (decision 0059); the event this use case makes does, so the
    service's hot write takes that statement."""
    ada = await add_user(db, "ada")
    add = AddItemToUser(InMemoryUnitOfWork(db), Events(enabled=True))

    added = [
        await add.execute(AddItemToUserCommand(ada.id, ada.id, "Bike", "red")),
        await add.execute(AddItemToUserCommand(ada.id, ada.id, "Lamp")),
    ]

    data = [
        {k: v for k, v in payload.items() if k != NEW_ITEM_ID}
        for _, payload, _ in recorded_events(db)
    ]
    assert data == [item_data(item) for item in added]


async def test_an_item_refused_records_no_event(db: InMemoryDatabase) -> None:
    ada = await add_user(db, "ada")
    add = AddItemToUser(InMemoryUnitOfWork(db), Events(enabled=True))

    with pytest.raises(NotResourceOwner):
        await add.execute(AddItemToUserCommand(ada.id + 1, ada.id, "Bike"))
    with pytest.raises(NotAuthenticated):
        await add.execute(AddItemToUserCommand(4242, 4242, "Bike"))

    assert recorded_events(db) == []


async def test_with_events_off_an_item_records_no_event(db: InMemoryDatabase) -> None:
    ada = await add_user(db, "ada")

    await AddItemToUser(InMemoryUnitOfWork(db)).execute(AddItemToUserCommand(ada.id, ada.id, "B"))

    assert recorded_events(db) == []
    assert (
        Events(enabled=False).of_new_item(ITEM_CREATED, ada.id, title="B", description=None) is None
    )


@pytest.mark.parametrize(
    "data",
    [
        {"title": "Bike"},  # description missing
        {"title": "Bike", "description": None, "item_id": 7},  # the id is the store's to fill in
        {"title": "Bike", "description": None, "token": "secret"},  # not a field of the type
    ],
)
def test_a_new_item_event_holds_exactly_its_fields_but_the_id(data: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"item\.created holds"):
        Events(enabled=True).of_new_item(ITEM_CREATED, 1, **data)

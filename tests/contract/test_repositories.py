"""The repository contract, run over memory, SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from application.errors import UserAlreadyExists
from application.ports import (
    ItemRepository,
    NewOutboxMessage,
    Outbox,
    OutboxDestination,
    OutboxMessage,
    OutboxStatus,
    UserRepository,
)
from application.ports.repositories import OwnerNotFound
from domain.item import NewItem
from domain.user import NewUser
from tests.conftest import Store, UowFactory
from tests.contract.support import (
    PLACEHOLDER_HASH,
    add_item,
    add_user,
    all_items,
    new_item,
    new_user,
)

# --- users -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "username", "field"),
    [
        pytest.param("ada@example.com", "grace", "email", id="same-email"),
        pytest.param("ADA@Example.COM", "grace", "email", id="email-other-case"),
        pytest.param("grace@example.com", "ada", "username", id="same-username"),
        pytest.param("grace@example.com", "aDA", "username", id="username-other-case"),
    ],
)
async def test_a_taken_email_or_username_is_refused_naming_the_field(
    uow_factory: UowFactory, email: str, username: str, field: str
) -> None:
    await add_user(uow_factory, "ada")

    async with uow_factory() as uow:
        with pytest.raises(UserAlreadyExists) as raised:
            await uow.repository(UserRepository).add(new_user(username, email))

    assert raised.value.fields == (field,)


async def test_a_duplicate_within_one_transaction_is_refused(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        await uow.repository(UserRepository).add(new_user("ada"))
        with pytest.raises(UserAlreadyExists) as raised:
            await uow.repository(UserRepository).add(new_user("ADA", "other@example.com"))

    assert raised.value.fields == ("username",)


async def test_users_are_found_by_id_email_and_username_ignoring_case(
    uow_factory: UowFactory,
) -> None:
    await add_user(uow_factory, "grace")
    async with uow_factory() as uow:
        ada = await uow.repository(UserRepository).add(new_user("Ada", "Ada@Example.com"))
        await uow.commit()

    async with uow_factory() as uow:
        assert await uow.repository(UserRepository).get(ada.id) == ada
        assert await uow.repository(UserRepository).get_by_email("ada@EXAMPLE.COM") == ada
        assert await uow.repository(UserRepository).get_by_username("aDA") == ada
        assert await uow.repository(UserRepository).get(ada.id + 100) is None
        assert await uow.repository(UserRepository).get_by_email("nobody@example.com") is None
        assert await uow.repository(UserRepository).get_by_username("nobody") is None


async def test_email_case_is_ignored_beyond_ascii(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        emile = await uow.repository(UserRepository).add(
            new_user("emile", "\u00c9mile@Example.com")
        )
        await uow.commit()

    async with uow_factory() as uow:
        found = await uow.repository(UserRepository).get_by_email("\u00e9mile@example.com")
        with pytest.raises(UserAlreadyExists) as raised:
            await uow.repository(UserRepository).add(new_user("other", "\u00e9MILE@example.com"))

    assert found == emile
    assert raised.value.fields == ("email",)


async def test_a_user_round_trips_every_field(uow_factory: UowFactory) -> None:
    moment = datetime.now(UTC).replace(microsecond=123456)
    async with uow_factory() as uow:
        user = await uow.repository(UserRepository).add(
            NewUser(
                email="ada@example.com",
                username="ada",
                hashed_password=PLACEHOLDER_HASH,
                created_at=moment,
                is_active=False,
            )
        )
        await uow.commit()

    async with uow_factory() as uow:
        stored = await uow.repository(UserRepository).get(user.id)

    assert stored == user
    assert stored is not None
    assert stored.is_active is False
    assert stored.created_at == moment
    assert stored.created_at.utcoffset() == timedelta(0)


async def test_set_active_switches_that_user_only_and_needs_a_commit(
    uow_factory: UowFactory,
) -> None:
    ada = await add_user(uow_factory, "ada")
    grace = await add_user(uow_factory, "grace")

    async with uow_factory() as uow:
        await uow.repository(UserRepository).set_active(
            ada.id, active=False
        )  # rolled back: no commit
    async with uow_factory() as uow:
        still = await uow.repository(UserRepository).get(ada.id)
        await uow.repository(UserRepository).set_active(ada.id, active=False)
        await uow.repository(UserRepository).set_active(
            ada.id + 100, active=False
        )  # unknown: nothing happens
        await uow.commit()
    async with uow_factory() as uow:
        off = await uow.repository(UserRepository).get(ada.id)
        other = await uow.repository(UserRepository).get(grace.id)
        await uow.repository(UserRepository).set_active(ada.id, active=True)
        await uow.commit()
    async with uow_factory() as uow:
        on_again = await uow.repository(UserRepository).get(ada.id)

    assert still is not None
    assert still.is_active
    assert off == replace(ada, is_active=False)
    assert other == grace
    assert on_again == ada


# --- items -----------------------------------------------------------------------------------


async def test_an_item_round_trips_with_a_utc_created_at_to_the_microsecond(
    uow_factory: UowFactory,
) -> None:
    ada = await add_user(uow_factory, "ada")
    moment = datetime.now(UTC).replace(microsecond=654321)
    async with uow_factory() as uow:
        item = await uow.repository(ItemRepository).add(
            NewItem(title="Bike", description="red", owner_id=ada.id, created_at=moment)
        )
        await uow.commit()

    async with uow_factory() as uow:
        stored = await uow.repository(ItemRepository).get(item.id)

    assert stored == item
    assert stored is not None
    assert stored.created_at == moment
    assert stored.created_at.utcoffset() == timedelta(0)


async def test_a_description_of_none_round_trips_as_none(uow_factory: UowFactory) -> None:
    ada = await add_user(uow_factory, "ada")
    async with uow_factory() as uow:
        item = await uow.repository(ItemRepository).add(new_item(ada.id, description=None))
        await uow.commit()

    async with uow_factory() as uow:
        stored = await uow.repository(ItemRepository).get(item.id)

    assert stored is not None
    assert stored.description is None


async def test_an_unknown_item_is_none(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.repository(ItemRepository).get(1) is None


async def test_update_stores_title_and_description_of_that_item_only(
    store: Store,
) -> None:
    ada = await add_user(store.uow, "ada")
    bike = await add_item(store.uow, ada.id, "Bike")
    lamp = await add_item(store.uow, ada.id, "Lamp")
    changed = bike.with_changes(title="Trike", description=None)

    async with store.uow() as uow:
        await uow.repository(ItemRepository).update(changed)
        await uow.commit()

    assert await all_items(store) == [changed, lamp]


async def test_delete_removes_that_item_only(store: Store) -> None:
    ada = await add_user(store.uow, "ada")
    bike = await add_item(store.uow, ada.id, "Bike")
    lamp = await add_item(store.uow, ada.id, "Lamp")

    async with store.uow() as uow:
        await uow.repository(ItemRepository).delete(bike.id)
        await uow.commit()

    async with store.uow() as uow:
        assert await uow.repository(ItemRepository).get(bike.id) is None
    assert await all_items(store) == [lamp]


async def test_item_ids_are_never_reused_after_deleting_the_newest(
    uow_factory: UowFactory,
) -> None:
    ada = await add_user(uow_factory, "ada")
    await add_item(uow_factory, ada.id, "first")
    newest = await add_item(uow_factory, ada.id, "second")
    async with uow_factory() as uow:
        await uow.repository(ItemRepository).delete(newest.id)
        await uow.commit()

    replacement = await add_item(uow_factory, ada.id, "third")

    assert replacement.id > newest.id


async def test_an_item_of_an_owner_who_is_not_there_is_refused(store: Store) -> None:
    """The store checks the owner itself (SQL's foreign key), with no read before the insert."""
    async with store.uow() as uow:
        with pytest.raises(OwnerNotFound):
            await uow.repository(ItemRepository).add(new_item(owner_id=424242))

    assert await all_items(store) == []


# --- an item and its event, one write -----------------------------------------------------


def item_event(owner_id: int, title: str = "Bike") -> NewOutboxMessage:
    """What ``Events.of_new_item`` makes: every field but the item's id."""
    return NewOutboxMessage(
        event_id=str(uuid.uuid4()),
        event_type="item.created",
        payload={"user_id": owner_id, "title": title, "description": "red"},
        created_at=datetime(2026, 12, 6, 7, 0, 0, 123456, tzinfo=UTC),
        destination=OutboxDestination.EVENTS,
        ordering_key=str(owner_id),
    )


async def events_in_outbox(uow_factory: UowFactory) -> list[OutboxMessage]:
    async with uow_factory() as uow:
        return list(
            await uow.repository(Outbox).list(OutboxStatus.PENDING, 100, OutboxDestination.EVENTS)
        )


async def test_an_item_added_with_its_event_records_the_event_completed_with_the_new_id(
    uow_factory: UowFactory,
) -> None:
    ada = await add_user(uow_factory, "ada")
    first, second = item_event(ada.id, "Bike"), item_event(ada.id, "Lamp")
    async with uow_factory() as uow:
        bike = await uow.repository(ItemRepository).add(new_item(ada.id, "Bike"), first)
        lamp = await uow.repository(ItemRepository).add(new_item(ada.id, "Lamp"), second)
        await uow.commit()

    recorded = await events_in_outbox(uow_factory)
    assert [(m.event_id, m.event_type, m.payload) for m in recorded] == [
        (first.event_id, "item.created", {**first.payload, "item_id": bike.id}),
        (second.event_id, "item.created", {**second.payload, "item_id": lamp.id}),
    ]
    assert {(m.ordering_key, m.created_at, m.available_at, m.attempts) for m in recorded} == {
        (str(ada.id), first.created_at, first.created_at, 0)
    }
    assert bike.id != lamp.id
    async with uow_factory() as uow:
        assert await uow.repository(ItemRepository).get(bike.id) == bike


async def test_an_event_holds_its_own_data_whether_or_not_it_is_the_items_row(
    uow_factory: UowFactory,
) -> None:
    """PostgreSQL builds an event's data from the new row when it is exactly the row's own
    fields (decision 0059), and records any other as it was given: both completed with the id."""
    ada = await add_user(uow_factory, "ada")
    own = replace(
        item_event(ada.id), payload={"user_id": ada.id, "title": "Bike", "description": None}
    )
    renamed = replace(item_event(ada.id), payload={**item_event(ada.id).payload, "title": "Lamp"})
    more = replace(item_event(ada.id), payload={**item_event(ada.id).payload, "colour": "red"})
    async with uow_factory() as uow:
        items = uow.repository(ItemRepository)
        added = [
            await items.add(new_item(ada.id, "Bike", description=None), own),
            await items.add(new_item(ada.id, "Bike"), renamed),
            await items.add(new_item(ada.id, "Bike"), more),
        ]
        await uow.commit()

    recorded = await events_in_outbox(uow_factory)
    assert [m.payload for m in recorded] == [
        {**event.payload, "item_id": item.id}
        for event, item in zip((own, renamed, more), added, strict=True)
    ]
    assert [m.event_id for m in recorded] == [own.event_id, renamed.event_id, more.event_id]


async def test_an_item_and_its_event_are_rolled_back_together(uow_factory: UowFactory) -> None:
    ada = await add_user(uow_factory, "ada")
    async with uow_factory() as uow:
        bike = await uow.repository(ItemRepository).add(new_item(ada.id), item_event(ada.id))
        # no commit

    assert await events_in_outbox(uow_factory) == []
    async with uow_factory() as uow:
        assert await uow.repository(ItemRepository).get(bike.id) is None


async def test_an_item_refused_for_its_owner_records_no_event(store: Store) -> None:
    async with store.uow() as uow:
        with pytest.raises(OwnerNotFound):
            await uow.repository(ItemRepository).add(new_item(424242), item_event(424242))

    assert await all_items(store) == []
    assert await events_in_outbox(store.uow) == []

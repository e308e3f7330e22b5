"""How an event's ``data`` is made JSON when it is recorded: times as RFC 3339 UTC with a "Z",
collections as lists; and a field the type does not define is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.memory import InMemoryDatabase, InMemoryUnitOfWork
from application.events import USER_PROFILE_CHANGED, USER_REGISTERED, Events, EventType
from application.ports import OutboxDestination

T0 = datetime(2026, 12, 6, 8, 30, 15, 123000, tzinfo=UTC)
ADA: dict[str, object] = {"username": "ada", "email": "ada@example.com", "email_verified": False}


async def recorded(
    db: InMemoryDatabase, events: Events, event_type: EventType, user_id: int, **data: object
) -> dict[str, object]:
    uow = InMemoryUnitOfWork(db)
    async with uow:
        await events.record(uow, event_type, user_id, **data)
        await uow.commit()
    [message] = [m for m in db.state.outbox.values() if m.destination is OutboxDestination.EVENTS]
    return dict(message.payload)


async def test_a_time_is_rfc_3339_utc_with_a_z(db: InMemoryDatabase) -> None:
    payload = await recorded(
        db,
        Events(enabled=True),
        USER_REGISTERED,
        7,
        **ADA,
        is_admin=False,
        created_at=T0,
    )

    assert payload["created_at"] == "2026-12-06T08:30:15.123000Z"
    assert payload["user_id"] == 7


async def test_a_collection_is_a_list(db: InMemoryDatabase) -> None:
    payload = await recorded(
        db, Events(enabled=True), USER_PROFILE_CHANGED, 7, **ADA, changed=("username", "email")
    )

    assert payload["changed"] == ["username", "email"]


async def test_a_field_the_type_does_not_define_is_refused(db: InMemoryDatabase) -> None:
    with pytest.raises(ValueError, match=r"user\.profile_changed holds"):
        await recorded(
            db,
            Events(enabled=True),
            USER_PROFILE_CHANGED,
            7,
            **ADA,
            changed=["email"],
            password="secret",  # what must never reach an event
        )
    assert db.state.outbox == {}

"""Events end to end on the real JetStream: every change of the contract's table, made over HTTP
(and the CLI's use cases), published by the relay, read back from the stream.

Each test has a stream and subject prefix of its own (``tests/support/nats.py``), deleted after.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import nats
import pytest
from dependency_injector import providers
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.nats_events import NatsJetStreamPublisher, StreamOptions
from application.create_user import CreateUserCommand
from application.events import EVENT_TYPES
from application.manage_user import ManageUserCommand
from application.ports import (
    CloudEvent,
    NamedEvent,
    Outbox,
    OutboxDestination,
    OutboxStatus,
    PublisherUnavailable,
)
from entrypoints.container import Container
from tests.api.helpers import PASSWORD, Account, account, app_client, bearer, log_in
from tests.api.test_mfa import OffsetClock, enable, mfa_login
from tests.conftest import build_container
from tests.support.nats import EventStream, Published, jetstream
from tests.support.tcp_proxy import tcp_proxy

__all__ = ["jetstream"]  # the fixture

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
async def events_container(
    database_url: str, clean_engine: AsyncEngine, jetstream: EventStream
) -> AsyncIterator[Container]:
    container = build_container(
        database_url,
        events_nats_url=jetstream.url,
        events_stream=jetstream.name,
        events_subject_prefix=jetstream.prefix,
        events_source="/users-items-test",
    )
    container.engine.override(providers.Object(clean_engine))
    container.mfa_clock.override(providers.Object(OffsetClock()))
    yield container
    await container.event_publisher().close()
    container.password_hasher().close()


async def publish_all(container: Container) -> int:
    """Run the relay until no event is left; how many it published."""
    relay = container.publish_events()
    published = 0
    while (report := await relay.execute()).claimed:
        assert not report.broker_unavailable
        assert report.retried == 0
        published += report.published
    async with container.uow() as uow:
        assert (
            await uow.repository(Outbox).count(OutboxStatus.PENDING, OutboxDestination.EVENTS) == 0
        )
    return published


async def pending_emails(container: Container) -> list[dict[str, Any]]:
    async with container.uow() as uow:
        messages = await uow.repository(Outbox).list(
            OutboxStatus.PENDING, 1000, OutboxDestination.EMAIL
        )
    return [{"type": m.event_type, **m.payload} for m in messages]


async def token_of(container: Container, email_type: str, email: str) -> str:
    found = [m["token"] for m in await pending_emails(container) if m["type"] == email_type]
    found = [
        m["token"]
        for m in await pending_emails(container)
        if m["type"] == email_type and m["email"] == email
    ]
    assert found, (email_type, email)
    return str(found[-1])


async def every_change(container: Container, client: httpx.AsyncClient) -> dict[str, Account]:
    """One of each change of the table, in a known order."""
    ada = await account(client, "ada")
    admin = await container.create_user().execute(
        CreateUserCommand(
            email="root@example.com", username="root", password=PASSWORD, is_admin=True
        )
    )
    admin_token = await log_in(client, "root")
    token = await token_of(container, "UserRegistered", ada.email)
    assert (await client.post("/auth/verify-email", json={"token": token})).status_code == 200
    fresh = await log_in(client, "ada")
    patched = await client.patch(
        "/users/me", json={"username": "ada2", "email": "ada2@example.com"}, headers=bearer(fresh)
    )
    assert patched.status_code == 200, patched.text
    changed = await client.post(
        "/users/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(fresh),
    )
    assert changed.status_code == 204, changed.text
    ada_token = await log_in(client, "ada2", NEW_PASSWORD)
    headers = bearer(ada_token)
    created = await client.post(f"/users/{ada.id}/items", json={"title": "Bike"}, headers=headers)
    assert created.status_code == 201
    item_id = created.json()["id"]
    updated = await client.patch(f"/items/{item_id}", json={"description": "red"}, headers=headers)
    assert updated.status_code == 200
    assert (await client.delete(f"/items/{item_id}", headers=headers)).status_code == 204
    for body in (
        {"is_active": False},
        {"is_active": True},
        {"is_admin": True},
        {"is_admin": False},
    ):
        response = await client.patch(
            f"/admin/users/{ada.id}", json=body, headers=bearer(admin_token)
        )
        assert response.status_code == 200, response.text
    # The operator's command line (grant-admin) goes through the same use case.
    await container.manage_user().execute(
        ManageUserCommand(actor=None, username="ada2", is_admin=True)
    )
    # A reset: the reset link proves the (new, unverified) address too.
    assert (
        await client.post("/auth/password-reset", json={"email": "ada2@example.com"})
    ).status_code == 202
    reset = await token_of(container, "PasswordResetRequested", "ada2@example.com")
    confirmed = await client.post(
        "/auth/password-reset/confirm",
        json={"token": reset, "new_password": "yet another passphrase"},
    )
    assert confirmed.status_code == 204, confirmed.text
    # The second factor: on and off with a code, then on again and off by the operator.
    cy = await account(client, "cyd")
    clock = container.mfa_clock()
    assert isinstance(clock, OffsetClock)  # the fixture's
    enrolled = await enable(client, cy, clock)
    both = Account(
        cy.id, cy.username, cy.email, (await mfa_login(client, enrolled, clock))["access_token"]
    )
    off = await client.request(
        "DELETE", "/users/me/mfa", json={"code": enrolled.code(clock)}, headers=both.headers
    )
    assert off.status_code == 204, off.text
    clock.next_step()
    await enable(client, both, clock)
    await container.reset_second_factor().execute("cyd")
    # An item that goes with its user: no item.deleted for it.
    bob = await account(client, "bob")
    await client.post(f"/users/{bob.id}/items", json={"title": "Kite"}, headers=bob.headers)
    assert (await client.delete("/users/me", headers=bob.headers)).status_code == 204
    return {
        "ada": ada,
        "bob": bob,
        "cy": cy,
        "root": Account(admin.id, "root", admin.email, admin_token),
    }


async def test_every_change_is_published_as_a_cloud_event_in_order_and_without_secrets(
    events_container: Container, jetstream: EventStream
) -> None:
    async with app_client(events_container) as client:
        people = await every_change(events_container, client)

    published = await publish_all(events_container)
    messages = await jetstream.read()

    assert published == len(messages)
    ada, bob, root = people["ada"].id, people["bob"].id, people["root"].id
    by_user: dict[str, list[str]] = {}
    for message in messages:
        by_user.setdefault(message.event["subject"], []).append(message.event["type"])
    prefix = "users-items."
    assert by_user[str(ada)] == [
        prefix + t
        for t in (
            "user.registered",
            "user.email_verified",
            "user.profile_changed",
            "user.password_changed",
            "item.created",
            "item.updated",
            "item.deleted",
            "user.deactivated",
            "user.reactivated",
            "user.admin_granted",
            "user.admin_revoked",
            "user.admin_granted",
            "user.password_changed",
            "user.email_verified",
        )
    ]
    assert by_user[str(bob)] == [
        prefix + t for t in ("user.registered", "item.created", "user.deleted")
    ]
    assert by_user[str(people["cy"].id)] == [
        prefix + t
        for t in (
            "user.registered",
            "user.mfa_enabled",
            "user.mfa_disabled",
            "user.mfa_enabled",
            "user.mfa_disabled",
        )
    ]
    assert by_user[str(root)] == [prefix + "user.registered"]
    seen = {m.event["type"].removeprefix(prefix) for m in messages}
    assert seen == set(EVENT_TYPES)

    for message in messages:
        assert_cloud_event(message, jetstream)
    data = {
        m.event["type"].removeprefix(prefix): m.event["data"]
        for m in messages
        if m.event["subject"] == str(ada)
    }
    [data["user.deleted"]] = [
        m.event["data"] for m in messages if m.event["type"] == prefix + "user.deleted"
    ]
    assert data["user.deleted"] == {"user_id": bob}
    mfa_data = [m.event["data"] for m in messages if ".user.mfa_" in m.event["type"]]
    assert mfa_data == [{"user_id": people["cy"].id}] * 4
    assert data["item.deleted"] == {"user_id": ada, "item_id": data["item.created"]["item_id"]}
    assert data["item.updated"]["description"] == "red"
    first_profile = next(
        m.event["data"] for m in messages if m.event["type"].endswith("profile_changed")
    )
    assert first_profile == {
        "user_id": ada,
        "username": "ada2",
        "email": "ada2@example.com",
        "email_verified": False,
        "changed": ["username", "email"],
    }
    registered = next(m.event["data"] for m in messages if m.event["subject"] == str(ada))
    assert set(registered) == {
        "user_id",
        "username",
        "email",
        "email_verified",
        "is_admin",
        "created_at",
    }
    assert (registered["username"], registered["email_verified"], registered["is_admin"]) == (
        "ada",
        False,
        False,
    )


def assert_cloud_event(message: Published, stream: EventStream) -> None:
    event = message.event
    name = event["type"].removeprefix("users-items.")
    assert name in EVENT_TYPES
    assert message.subject == f"{stream.prefix}.{name}"
    assert message.headers["Content-Type"] == "application/cloudevents+json"
    assert message.headers["Nats-Msg-Id"] == event["id"]
    assert UUID.match(event["id"])
    assert event["specversion"] == "1.0"
    assert event["source"] == "/users-items-test"
    assert event["datacontenttype"] == "application/json"
    assert RFC3339_UTC.match(event["time"])
    assert event["subject"] == str(event["data"]["user_id"])
    schema = EVENT_TYPES[name].data_schema()
    assert set(event["data"]) == set(schema["properties"])
    text = str(event).lower()
    for secret in ("argon2", "token", 'password":', "hashed", "secret", PASSWORD, NEW_PASSWORD):
        assert secret not in text, (secret, event)


async def test_delete_me_publishes_user_deleted_with_nothing_but_the_user_id(
    events_container: Container, jetstream: EventStream
) -> None:
    async with app_client(events_container) as client:
        carol = await account(client, f"carol{uuid.uuid4().hex[:6]}")
        deleted = await client.delete("/users/me", headers=carol.headers)
    assert deleted.status_code == 204

    await publish_all(events_container)

    [registered, gone] = await jetstream.read()
    assert registered.event["type"] == "users-items.user.registered"
    assert gone.event["type"] == "users-items.user.deleted"
    assert gone.subject == f"{jetstream.prefix}.user.deleted"
    assert gone.event["data"] == {"user_id": carol.id}
    assert gone.event["subject"] == str(carol.id)


async def test_a_repeat_of_an_event_is_dropped_by_the_broker(
    events_container: Container, jetstream: EventStream
) -> None:
    async with app_client(events_container) as client:
        await account(client, "dave")
    async with events_container.uow() as uow:
        [row] = await uow.repository(Outbox).list(
            OutboxStatus.PENDING, 10, OutboxDestination.EVENTS
        )
    await publish_all(events_container)
    async with events_container.uow() as uow:  # as a worker killed before its record would
        await uow.repository(Outbox).requeue(row.id, row.created_at)
        await uow.commit()
    async with events_container.uow() as uow:
        await uow.repository(Outbox).mark_dead(row.id, attempts=0, error="test")
        await uow.commit()
    async with events_container.uow() as uow:
        assert await uow.repository(Outbox).requeue(row.id, row.created_at)
        await uow.commit()

    assert await publish_all(events_container) == 1  # acknowledged (as a duplicate)
    assert [m.event["id"] for m in await jetstream.read()] == [row.event_id]


async def test_a_stream_created_but_still_empty_reads_as_empty(jetstream: EventStream) -> None:
    """The worker creates the stream before its first publish; the tests that wait for events read
    it in that moment too (its first sequence is then 0, which the broker refuses to get)."""
    assert await jetstream.read() == []  # no stream yet
    client = await nats.connect(jetstream.url, connect_timeout=5, allow_reconnect=False)
    try:
        js = client.jetstream(timeout=10)
        await js.add_stream(name=jetstream.name, subjects=[f"{jetstream.prefix}.>"])
        assert await jetstream.read() == []
        await js.publish(f"{jetstream.prefix}.probe", b'{"n": 1}')
        [only] = await jetstream.read()
    finally:
        await client.close()
    assert (only.subject, only.event) == (f"{jetstream.prefix}.probe", {"n": 1})


async def test_a_publisher_closed_logs_no_lost_link_and_one_cut_logs_it(
    jetstream: EventStream, caplog: pytest.LogCaptureFixture
) -> None:
    """The worker's clean stop is not an outage: no "link lost" warning for an operator to chase.
    A link that does go (the client closed under the publisher) is still warned about."""
    lost = "event broker link lost"
    options = StreamOptions(name=jetstream.name, subject_prefix=jetstream.prefix)
    publisher = NatsJetStreamPublisher(jetstream.url, options)
    await publisher.publish_run([])  # connects, creates the stream
    await publisher.close()
    assert lost not in caplog.text

    publisher = NatsJetStreamPublisher(jetstream.url, options)
    await publisher.publish_run([])
    client = publisher._client
    assert client is not None
    await client.close()  # the link goes without the publisher closing
    await publisher.close()
    assert lost in caplog.text


def named_event(n: int) -> NamedEvent:
    return NamedEvent(
        "item.created",
        CloudEvent(
            id=str(uuid.uuid4()),
            type="users-items.item.created",
            source="/users-items",
            subject="1",
            time=datetime.now(UTC),
            data={"user_id": 1, "item_id": n, "title": "Bike", "description": None},
        ),
    )


async def test_a_run_whose_acknowledgements_do_not_come_is_reported_unavailable(
    jetstream: EventStream,
) -> None:
    """A link that stays up but silent: the run ends at the publisher's timeout with nothing
    acknowledged and the broker unavailable, so the relay hands the events back for later."""
    broker = urlsplit(jetstream.url)
    async with tcp_proxy(broker.hostname or "127.0.0.1", broker.port or 4222) as proxy:
        options = StreamOptions(name=jetstream.name, subject_prefix=jetstream.prefix)
        publisher = NatsJetStreamPublisher(proxy.url, options, timeout_seconds=0.5)
        await publisher.publish_run([])  # connects and creates the stream through the proxy
        proxy.hold()
        try:
            outcome = await publisher.publish_run([named_event(n) for n in range(3)])
        finally:
            proxy.release()
            await publisher.close()

    assert outcome.acknowledged == 0
    assert isinstance(outcome.error, PublisherUnavailable)
    assert "no acknowledgement within 0.5 s" in str(outcome.error)


async def test_with_events_off_nothing_is_recorded(container: Container) -> None:
    async with app_client(container) as client:
        ada = await account(client, "ada")
        await client.post(f"/users/{ada.id}/items", json={"title": "Bike"}, headers=ada.headers)
        assert (await client.delete("/users/me", headers=ada.headers)).status_code == 204
    async with container.uow() as uow:
        assert (
            await uow.repository(Outbox).count(OutboxStatus.PENDING, OutboxDestination.EVENTS) == 0
        )
        assert await uow.repository(Outbox).count(OutboxStatus.PENDING) >= 1  # the welcome email


async def test_metrics_show_the_events_waiting_and_the_age_of_the_oldest(
    events_container: Container,
) -> None:
    async with app_client(events_container) as client:
        ada = await account(client, "ada")
        await client.post(f"/users/{ada.id}/items", json={"title": "Bike"}, headers=ada.headers)
        waiting = gauges((await client.get("/metrics")).text)
        await publish_all(events_container)
        done = gauges((await client.get("/metrics")).text)

    assert waiting["events_unpublished"] == 2
    assert waiting["events_oldest_unpublished_age_seconds"] > 0
    assert done["events_unpublished"] == done["events_oldest_unpublished_age_seconds"] == 0


def gauges(text: str) -> dict[str, float]:
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith("events_")
    }

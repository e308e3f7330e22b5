"""PublishEvents (the event relay) on the in-memory adapters: order per user, retries, outages."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from adapters.memory import InMemoryDatabase, InMemoryUnitOfWork
from application.deliver_outbox_messages import RetryPolicy
from application.events import ITEM_CREATED, USER_DELETED, Events
from application.ports import (
    CloudEvent,
    EventRejected,
    NamedEvent,
    Outbox,
    OutboxDestination,
    OutboxMessage,
    OutboxStatus,
    PublisherUnavailable,
    RunOutcome,
)
from application.publish_events import PublishEvents

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
EVENTS = OutboxDestination.EVENTS


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Broker:
    """Acknowledges everything, except events it is told to refuse (by user and how often) and
    everything while it is ``down``."""

    def __init__(self) -> None:
        self.published: list[CloudEvent] = []
        self.refuse: dict[str, int] = {}  # subject -> how many more refusals
        self.down = False

    async def publish(self, event: CloudEvent, *, name: str) -> None:
        assert event.type == f"users-items.{name}"
        if self.down:
            raise PublisherUnavailable("no connection")
        if self.refuse.get(event.subject, 0) > 0:
            self.refuse[event.subject] -= 1
            raise EventRejected("maximum payload exceeded")
        self.published.append(event)

    async def publish_run(self, events: Sequence[NamedEvent]) -> RunOutcome:
        for done, named in enumerate(events):
            try:
                await self.publish(named.event, name=named.name)
            except Exception as error:
                return RunOutcome(done, error)
        return RunOutcome(len(events))

    async def close(self) -> None:
        pass

    def by_user(self) -> dict[str, list[int]]:
        seen: dict[str, list[int]] = {}
        for event in self.published:
            seen.setdefault(event.subject, []).append(event.data["item_id"])
        return seen


async def record_items(db: InMemoryDatabase, clock: Clock, *pairs: tuple[int, int]) -> None:
    """One transaction per (user, item) pair, in the order given."""
    events = Events(enabled=True, clock=clock)
    for user_id, item_id in pairs:
        async with InMemoryUnitOfWork(db) as uow:
            await events.record(
                uow, ITEM_CREATED, user_id, item_id=item_id, title="t", description=None
            )
            await uow.commit()


def relay(db: InMemoryDatabase, broker: Broker, clock: Clock, **kwargs: object) -> PublishEvents:
    return PublishEvents(
        InMemoryUnitOfWork(db),
        broker,
        RetryPolicy(base_delay_seconds=2, max_delay_seconds=30),
        source="/test",
        lease_seconds=60,
        clock=clock,
        rng=random.Random(1),
        **kwargs,  # type: ignore[arg-type]
    )


async def rows(db: InMemoryDatabase) -> list[OutboxMessage]:
    async with InMemoryUnitOfWork(db) as uow:
        return [
            m
            for status in OutboxStatus
            for m in await uow.repository(Outbox).list(status, 1000, EVENTS)
        ]


async def test_events_go_out_as_cloud_events_in_order_and_are_marked_published() -> None:
    db, broker, clock = InMemoryDatabase(), Broker(), Clock()
    await record_items(db, clock, (1, 10), (2, 20), (1, 11))

    report = await relay(db, broker, clock).execute()

    assert (report.claimed, report.published, report.retried) == (3, 3, 0)
    assert report.published_by_type == {"item.created": 3}
    assert broker.by_user() == {"1": [10, 11], "2": [20]}
    first = broker.published[0]
    assert (first.source, first.subject, first.time, first.specversion) == ("/test", "1", T0, "1.0")
    assert first.to_json_object()["time"] == "2026-11-25T12:00:00Z"
    assert {m.status for m in await rows(db)} == {OutboxStatus.DELIVERED}


async def test_a_refused_event_holds_back_its_user_only_and_goes_out_first_later() -> None:
    db, broker, clock = InMemoryDatabase(), Broker(), Clock()
    await record_items(db, clock, (1, 10), (2, 20), (1, 11), (2, 21), (1, 12))
    broker.refuse["1"] = 1

    report = await relay(db, broker, clock).execute()

    assert (report.published, report.retried) == (2, 1)
    assert report.failed_by_type == {"item.created": 1}
    assert broker.by_user() == {"2": [20, 21]}
    [failed] = [m for m in await rows(db) if m.attempts]
    assert failed.payload["item_id"] == 10
    assert failed.last_error is not None
    assert "payload" in failed.last_error

    # Before the retry is due nothing of user 1 moves, whatever the later rows' own lease says.
    clock.now = failed.available_at - timedelta(milliseconds=1)
    assert (await relay(db, broker, clock).execute()).published == 0
    clock.now = failed.available_at
    again = await relay(db, broker, clock).execute()
    assert again.published == 3
    assert broker.by_user() == {"2": [20, 21], "1": [10, 11, 12]}


async def test_an_event_is_retried_forever_with_a_capped_backoff() -> None:
    db, broker, clock = InMemoryDatabase(), Broker(), Clock()
    await record_items(db, clock, (1, 10))
    broker.refuse["1"] = 40  # far more than the emails' OUTBOX_MAX_ATTEMPTS
    publish = relay(db, broker, clock)

    for attempt in range(1, 41):
        report = await publish.execute()
        assert report.retried == 1
        [row] = await rows(db)
        assert (row.status, row.attempts) == (OutboxStatus.PENDING, attempt)
        assert row.available_at - clock.now <= timedelta(seconds=30)
        clock.now = row.available_at

    assert (await publish.execute()).published == 1
    [row] = await rows(db)
    assert row.status is OutboxStatus.DELIVERED


async def test_an_unreachable_broker_counts_no_attempt_and_hands_the_batch_back() -> None:
    db, broker, clock = InMemoryDatabase(), Broker(), Clock()
    await record_items(db, clock, (1, 10), (2, 20), (1, 11))
    broker.down = True

    report = await relay(db, broker, clock).execute()

    assert report.broker_unavailable
    assert (report.claimed, report.published, report.released) == (3, 0, 3)
    assert all(m.attempts == 0 and m.available_at == T0 for m in await rows(db))
    broker.down = False
    assert (await relay(db, broker, clock).execute()).published == 3
    assert broker.by_user() == {"1": [10, 11], "2": [20]}


async def test_a_worker_that_dies_mid_batch_republishes_with_the_same_ids_in_order() -> None:
    db, broker, clock = InMemoryDatabase(), Broker(), Clock()
    await record_items(db, clock, (1, 10), (1, 11), (1, 12))
    # The first worker claims, publishes one event, and dies before recording it.
    async with InMemoryUnitOfWork(db) as uow:
        lease = T0 + timedelta(seconds=60)
        claimed = list(await uow.repository(Outbox).claim(T0, lease, 10, EVENTS))
        await uow.commit()
    first_id = claimed[0].event_id
    await broker.publish(
        CloudEvent(
            id=first_id,
            type="users-items.item.created",
            source="/test",
            subject="1",
            time=T0,
            data=claimed[0].payload,
        ),
        name="item.created",
    )

    # Nothing moves while its lease lasts; then the next worker takes the run from its start.
    assert (await relay(db, broker, clock).execute()).claimed == 0
    clock.now = T0 + timedelta(seconds=60)
    assert (await relay(db, broker, clock).execute()).published == 3
    assert [e.id for e in broker.published][:2] == [first_id, first_id]
    assert broker.by_user() == {"1": [10, 10, 11, 12]}


async def test_a_stopping_worker_finishes_the_run_in_hand_and_hands_back_the_rest() -> None:
    db, broker, clock = InMemoryDatabase(), Broker(), Clock()
    await record_items(db, clock, (1, 10), (1, 11), (2, 20))
    asked = iter([False, True])

    report = await relay(db, broker, clock).execute(should_stop=lambda: next(asked, True))

    assert (report.published, report.released) == (2, 1)
    assert (await relay(db, broker, clock).execute()).published == 1
    assert broker.by_user() == {"1": [10, 11], "2": [20]}


async def test_events_off_records_nothing() -> None:
    db, clock = InMemoryDatabase(), Clock()
    async with InMemoryUnitOfWork(db) as uow:
        await Events(enabled=False, clock=clock).record(uow, USER_DELETED, 1)
        await uow.commit()

    assert await rows(db) == []


async def test_an_event_holds_only_the_fields_of_its_type() -> None:
    db, clock = InMemoryDatabase(), Clock()
    async with InMemoryUnitOfWork(db) as uow:
        try:
            await Events(enabled=True, clock=clock).record(
                uow, USER_DELETED, 1, hashed_password="$argon2id$..."
            )
        except ValueError as error:
            refused = str(error)
        else:
            refused = ""
    assert "user.deleted" in refused


async def test_exactly_the_acknowledged_events_are_recorded_published_and_the_rest_kept() -> None:
    db, broker, clock = InMemoryDatabase(), Broker(), Clock()
    # user 1: refused at its first; user 2: all acknowledged; user 3: the broker stops it.
    await record_items(db, clock, (1, 10), (2, 20), (1, 11), (2, 21), (3, 30), (2, 22))
    broker.refuse["1"] = 1

    class Stopping(Broker):
        async def publish(self, event: CloudEvent, *, name: str) -> None:
            if event.subject == "3":
                raise PublisherUnavailable("link lost")
            await broker.publish(event, name=name)

    clock.now = T0 + timedelta(seconds=1)
    report = await relay(db, Stopping(), clock).execute()

    stored = {m.payload["item_id"]: m for m in await rows(db)}
    acknowledged = {e.id for e in broker.published}
    delivered = {m.event_id for m in stored.values() if m.status is OutboxStatus.DELIVERED}
    assert delivered == acknowledged == {stored[i].event_id for i in (20, 21, 22)}
    assert {stored[i].delivered_at for i in (20, 21, 22)} == {clock.now}
    assert (report.published, report.retried, report.released) == (3, 1, 1)
    # the refused head: an attempt and its retry time; the row behind it keeps its lease
    assert (stored[10].status, stored[10].attempts) == (OutboxStatus.PENDING, 1)
    assert (stored[11].attempts, stored[11].available_at) == (0, T0 + timedelta(seconds=61))
    # the unstarted row is handed back, due at once, no attempt counted
    assert (stored[30].status, stored[30].attempts) == (OutboxStatus.PENDING, 0)
    assert stored[30].available_at == clock.now


class SlowBroker(Broker):
    """Each run it publishes takes ``seconds`` of the relay's clock."""

    def __init__(self, clock: Clock, seconds: float) -> None:
        super().__init__()
        self._clock = clock
        self._seconds = seconds

    async def publish_run(self, events: Sequence[NamedEvent]) -> RunOutcome:
        outcome = await super().publish_run(events)
        self._clock.now += timedelta(seconds=self._seconds)
        return outcome


async def test_a_run_starts_only_in_the_first_half_of_the_lease() -> None:
    """Runs take 10 s each and go one after the other: with a 60 s lease the runs started at
    0, 10 and 20 s go; the one due at 30 s (half the lease) and after are handed back, due at
    once for the next pass, since a run started later could outlive its claim."""
    db, clock = InMemoryDatabase(), Clock()
    broker = SlowBroker(clock, seconds=10)
    await record_items(db, clock, *((user, user * 10) for user in range(1, 7)))

    report = await relay(db, broker, clock).execute()

    assert (report.published, report.released) == (3, 3)
    assert sorted(broker.by_user()) == ["1", "2", "3"]
    handed_back = [m for m in await rows(db) if m.status is OutboxStatus.PENDING]
    assert [m.payload["user_id"] for m in handed_back] == [4, 5, 6]
    assert {m.available_at for m in handed_back} == {T0 + timedelta(seconds=30)}


class BrokenAdapter(Broker):
    async def publish_run(self, events: Sequence[NamedEvent]) -> RunOutcome:
        raise KeyError("a bug in the adapter")


async def test_a_publisher_that_raises_counts_a_failed_attempt_of_each_run_head() -> None:
    """Nothing is known to be stored: each user's first event gets an attempt and a retry
    naming the error, and its later events wait behind it."""
    db, clock = InMemoryDatabase(), Clock()
    await record_items(db, clock, (1, 10), (2, 20), (1, 11))

    report = await relay(db, BrokenAdapter(), clock).execute()

    assert (report.published, report.retried) == (0, 2)
    assert report.failed_by_type == {"item.created": 2}
    by_item = {m.payload["item_id"]: m for m in await rows(db)}
    assert [by_item[i].attempts for i in (10, 20, 11)] == [1, 1, 0]
    assert by_item[10].last_error == "KeyError: 'a bug in the adapter'"
    assert by_item[11].last_error is None


async def test_built_as_the_worker_builds_it_a_refusal_is_retried_later_with_jitter() -> None:
    """The container passes no rng (nor, with defaults, a policy or a source): the relay's own
    defaults are what production runs."""
    db, broker, clock = InMemoryDatabase(), Broker(), Clock()
    await record_items(db, clock, (1, 10))
    broker.refuse["1"] = 1

    report = await PublishEvents(InMemoryUnitOfWork(db), broker, clock=clock).execute()

    assert report.retried == 1
    [message] = await rows(db)
    assert T0 < message.available_at <= T0 + timedelta(seconds=30)  # the default cap
    clock.now = message.available_at
    await PublishEvents(InMemoryUnitOfWork(db), broker, clock=clock).execute()
    assert [event.source for event in broker.published] == ["/users-items"]

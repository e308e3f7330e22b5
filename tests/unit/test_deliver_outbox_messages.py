"""DeliverOutboxMessages on the in-memory adapters, with a notifier that records or refuses."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory import InMemoryDatabase, InMemoryUnitOfWork
from application.account_emails import (
    EMAIL_CHANGED,
    EMAIL_VERIFICATION_REQUESTED,
    PASSWORD_CHANGED,
    PASSWORD_RESET_REQUESTED,
    USER_REGISTERED,
)
from application.deliver_outbox_messages import DeliverOutboxMessages, RetryPolicy
from application.ports import (
    NewOutboxMessage,
    Notification,
    NotificationFailed,
    Outbox,
    OutboxMessage,
    OutboxStatus,
)

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class RecordingNotifier:
    """Accepts everything, or refuses the first ``failures`` sends."""

    def __init__(self, failures: int = 0) -> None:
        self.sent: list[Notification] = []
        self.failures = failures

    async def send(self, notification: Notification) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise NotificationFailed("421 try again later")
        self.sent.append(notification)


async def record(db: InMemoryDatabase, count: int, event_type: str = USER_REGISTERED) -> None:
    async with InMemoryUnitOfWork(db) as uow:
        for n in range(1, count + 1):
            await uow.repository(Outbox).add(
                NewOutboxMessage(
                    event_id=str(uuid.uuid4()),
                    event_type=event_type,
                    payload={"user_id": n, "email": f"u{n}@example.com", "username": f"u{n}"},
                    created_at=T0,
                )
            )
        await uow.commit()


async def stored(db: InMemoryDatabase) -> list[OutboxMessage]:
    return sorted(db.state.outbox.values(), key=lambda m: m.id)


async def record_with_token(db: InMemoryDatabase, event_type: str, token: str = "T" * 43) -> None:
    async with InMemoryUnitOfWork(db) as uow:
        await uow.repository(Outbox).add(
            NewOutboxMessage(
                event_id=str(uuid.uuid4()),
                event_type=event_type,
                payload={"user_id": 1, "email": "u1@example.com", "username": "u1", "token": token},
                created_at=T0,
            )
        )
        await uow.commit()


def deliver(
    db: InMemoryDatabase,
    notifier: RecordingNotifier,
    clock: Clock,
    policy: RetryPolicy | None = None,
    batch_size: int = 10,
) -> DeliverOutboxMessages:
    return DeliverOutboxMessages(
        InMemoryUnitOfWork(db),
        notifier,
        policy or RetryPolicy(max_attempts=3, base_delay_seconds=2, max_delay_seconds=60),
        batch_size=batch_size,
        lease_seconds=60,
        app_base_url="https://app.example.com/",
        clock=clock,
        rng=random.Random(4),
    )


async def test_delivers_a_welcome_email_naming_the_event_and_marks_it_delivered(
    db: InMemoryDatabase,
) -> None:
    await record(db, 1)
    notifier, clock = RecordingNotifier(), Clock()

    report = await deliver(db, notifier, clock).execute()

    [message] = await stored(db)
    [sent] = notifier.sent
    assert (sent.recipient, sent.event_id) == ("u1@example.com", message.event_id)
    assert "u1" in sent.body
    assert (message.status, message.delivered_at) == (OutboxStatus.DELIVERED, T0)
    assert (report.claimed, report.delivered) == (1, 1)


async def test_one_batch_at_a_time(db: InMemoryDatabase) -> None:
    await record(db, 5)
    notifier, clock = RecordingNotifier(), Clock()
    use_case = deliver(db, notifier, clock, batch_size=2)

    reports = [await use_case.execute() for _ in range(4)]

    assert [r.delivered for r in reports] == [2, 2, 1, 0]
    assert {m.status for m in await stored(db)} == {OutboxStatus.DELIVERED}


async def test_a_failure_is_retried_after_a_jittered_exponential_backoff(
    db: InMemoryDatabase,
) -> None:
    await record(db, 1)
    notifier, clock = RecordingNotifier(failures=2), Clock()
    use_case = deliver(db, notifier, clock)

    first = await use_case.execute()
    [after_one] = await stored(db)
    clock.now = after_one.available_at
    await use_case.execute()
    [after_two] = await stored(db)
    clock.now = after_two.available_at
    await use_case.execute()

    assert first.retried == 1
    assert after_one.attempts == 1
    assert after_one.last_error is not None
    assert "421" in after_one.last_error
    # 1st failure: between 1 and 2 s; 2nd: between 2 and 4 s after it.
    assert timedelta(seconds=1) <= after_one.available_at - T0 <= timedelta(seconds=2)
    gap = after_two.available_at - after_one.available_at
    assert timedelta(seconds=2) <= gap <= timedelta(seconds=4)
    assert [m.status for m in await stored(db)] == [OutboxStatus.DELIVERED]
    assert len(notifier.sent) == 1


async def test_a_message_waits_for_its_retry_time(db: InMemoryDatabase) -> None:
    await record(db, 1)
    notifier, clock = RecordingNotifier(failures=1), Clock()
    use_case = deliver(db, notifier, clock)
    await use_case.execute()

    report = await use_case.execute()  # same moment: not due yet

    assert report.claimed == 0
    assert notifier.sent == []


async def test_after_max_attempts_the_message_is_dead_and_kept(db: InMemoryDatabase) -> None:
    await record(db, 1)
    notifier, clock = RecordingNotifier(failures=100), Clock()
    use_case = deliver(db, notifier, clock)

    reports = []
    for _ in range(3):
        reports.append(await use_case.execute())
        clock.now += timedelta(minutes=10)
    later = await use_case.execute()

    assert [r.retried for r in reports] == [1, 1, 0]
    assert reports[-1].dead == 1
    [message] = await stored(db)
    assert (message.status, message.attempts) == (OutboxStatus.DEAD, 3)
    assert later.claimed == 0


async def test_an_unknown_event_type_is_dead_at_once(db: InMemoryDatabase) -> None:
    await record(db, 1, event_type="SomethingElse")
    notifier, clock = RecordingNotifier(), Clock()

    report = await deliver(db, notifier, clock).execute()

    assert report.dead == 1
    [message] = await stored(db)
    assert message.status is OutboxStatus.DEAD
    assert message.last_error is not None
    assert "SomethingElse" in message.last_error


async def test_stopping_finishes_the_message_in_hand_and_hands_the_rest_back(
    db: InMemoryDatabase,
) -> None:
    await record(db, 4)
    notifier, clock = RecordingNotifier(), Clock()
    asked = 0

    def stop_after_the_first() -> bool:
        nonlocal asked
        asked += 1
        return asked > 1

    report = await deliver(db, notifier, clock).execute(should_stop=stop_after_the_first)

    assert (report.claimed, report.delivered, report.released) == (4, 1, 3)
    statuses = [(m.status, m.available_at) for m in await stored(db)]
    assert statuses[0][0] is OutboxStatus.DELIVERED
    assert statuses[1:] == [(OutboxStatus.PENDING, T0)] * 3  # due again at once


@pytest.mark.parametrize(("failures", "low", "high"), [(1, 1, 2), (3, 4, 8), (20, 30, 60)])
def test_backoff_grows_exponentially_and_is_capped(failures: int, low: float, high: float) -> None:
    policy = RetryPolicy(max_attempts=30, base_delay_seconds=2, max_delay_seconds=60)
    rng = random.Random(7)

    delays = [policy.delay_seconds(failures, rng) for _ in range(50)]

    assert all(low <= d <= high for d in delays)
    assert len(set(delays)) > 1  # jittered


class SlowNotifier(RecordingNotifier):
    """Each send takes 20 s of the clock's time."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock

    async def send(self, notification: Notification) -> None:
        self.clock.now += timedelta(seconds=20)
        await super().send(notification)


async def test_no_message_is_started_in_the_second_half_of_the_lease(
    db: InMemoryDatabase,
) -> None:
    await record(db, 4)
    clock = Clock()
    notifier = SlowNotifier(clock)

    report = await deliver(db, notifier, clock).execute()  # lease: 60 s

    # Started at 0 s and 20 s; at 40 s half the lease has passed: the rest goes back.
    assert (report.delivered, report.released) == (2, 2)
    assert [m.status for m in await stored(db)][2:] == [OutboxStatus.PENDING] * 2


@pytest.mark.parametrize(
    ("event_type", "link"),
    [
        (USER_REGISTERED, "https://app.example.com/verify-email?token=" + "T" * 43),
        (EMAIL_VERIFICATION_REQUESTED, "https://app.example.com/verify-email?token=" + "T" * 43),
        (PASSWORD_RESET_REQUESTED, "https://app.example.com/reset-password?token=" + "T" * 43),
    ],
)
async def test_an_email_with_a_token_carries_its_link_and_the_token_leaves_the_database(
    db: InMemoryDatabase, event_type: str, link: str
) -> None:
    await record_with_token(db, event_type)
    notifier, clock = RecordingNotifier(), Clock()

    await deliver(db, notifier, clock).execute()

    [sent] = notifier.sent
    assert link in sent.body.splitlines()
    [message] = await stored(db)
    assert message.status is OutboxStatus.DELIVERED
    assert message.payload == {"user_id": 1, "email": "u1@example.com", "username": "u1"}
    assert "T" * 43 not in repr(db.state)


async def test_a_token_is_kept_for_a_retry_and_removed_when_the_message_dies(
    db: InMemoryDatabase,
) -> None:
    await record_with_token(db, PASSWORD_RESET_REQUESTED)
    notifier, clock = RecordingNotifier(failures=3), Clock()
    use_case = deliver(db, notifier, clock)

    await use_case.execute()
    [retrying] = await stored(db)
    assert retrying.payload["token"] == "T" * 43
    for _ in range(2):
        clock.now = (await stored(db))[0].available_at
        await use_case.execute()

    [dead] = await stored(db)
    assert dead.status is OutboxStatus.DEAD
    assert "token" not in dead.payload
    # Requeued, it cannot be sent without its token: dead again at once, nothing sent.
    async with InMemoryUnitOfWork(db) as uow:
        assert await uow.repository(Outbox).requeue(dead.id, clock.now)
        await uow.commit()
    await use_case.execute()
    assert (await stored(db))[0].status is OutboxStatus.DEAD
    assert notifier.sent == []


@pytest.mark.parametrize("event_type", [PASSWORD_CHANGED, EMAIL_CHANGED])
async def test_a_notice_goes_to_the_address_in_its_payload(
    db: InMemoryDatabase, event_type: str
) -> None:
    await record(db, 1, event_type)
    notifier = RecordingNotifier()

    await deliver(db, notifier, Clock()).execute()

    [sent] = notifier.sent
    assert sent.recipient == "u1@example.com"
    assert "changed" in sent.subject
    assert "token" not in sent.body


async def test_built_as_the_worker_builds_it_a_failure_is_retried_with_jitter(
    db: InMemoryDatabase,
) -> None:
    """No rng and no clock given, as the container builds it: its own random jitter and the
    real time."""
    await record(db, 1)
    notifier = RecordingNotifier(failures=1)
    before = datetime.now(UTC)

    report = await DeliverOutboxMessages(InMemoryUnitOfWork(db), notifier).execute()

    [message] = await stored(db)
    assert report.retried == 1
    assert message.available_at > before

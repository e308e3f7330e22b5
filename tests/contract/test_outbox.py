"""The outbox contract, run over memory, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from application.ports import (
    NewOutboxMessage,
    Outbox,
    OutboxDestination,
    OutboxMessage,
    OutboxStatus,
    UserRepository,
)
from tests.conftest import UowFactory
from tests.contract.support import new_user

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


def event(n: int = 1) -> NewOutboxMessage:
    return NewOutboxMessage(
        event_id=str(uuid.uuid4()),
        event_type="UserRegistered",
        payload={"user_id": n, "email": f"user{n}@example.com", "username": f"user{n}"},
        created_at=T0,
    )


async def record(uow_factory: UowFactory, *events: NewOutboxMessage) -> None:
    async with uow_factory() as uow:
        for e in events:
            await uow.repository(Outbox).add(e)
        await uow.commit()


async def claim(uow_factory: UowFactory, now: datetime, limit: int = 10) -> list[OutboxMessage]:
    async with uow_factory() as uow:
        claimed = list(await uow.repository(Outbox).claim(now, now + LEASE, limit))
        await uow.commit()
    return claimed


async def get(uow_factory: UowFactory, message_id: int) -> OutboxMessage:
    async with uow_factory() as uow:
        message = await uow.repository(Outbox).get(message_id)
    assert message is not None
    return message


async def test_a_recorded_event_is_pending_with_its_id_and_payload(
    uow_factory: UowFactory,
) -> None:
    first = event(1)
    await record(uow_factory, first)

    async with uow_factory() as uow:
        [message] = await uow.repository(Outbox).list(OutboxStatus.PENDING, 10)
    assert (message.event_id, message.event_type) == (first.event_id, "UserRegistered")
    assert message.payload == first.payload
    assert (message.status, message.attempts, message.available_at) == (
        OutboxStatus.PENDING,
        0,
        T0,
    )
    assert message.created_at == T0


async def test_an_event_recorded_in_a_rolled_back_transaction_is_gone_with_the_user(
    uow_factory: UowFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.repository(UserRepository).add(new_user("ada"))
        await uow.repository(Outbox).add(event())
        # no commit

    assert await claim(uow_factory, T0) == []


async def test_the_same_event_id_cannot_be_recorded_twice(uow_factory: UowFactory) -> None:
    first = event()
    await record(uow_factory, first)

    with pytest.raises(Exception):  # noqa: B017, PT011 - a unique index, whatever the driver says
        await record(uow_factory, first)


async def test_claim_takes_due_messages_oldest_first_and_leases_them(
    uow_factory: UowFactory,
) -> None:
    await record(uow_factory, event(1), event(2), event(3))

    claimed = await claim(uow_factory, T0, limit=2)

    assert [m.payload["user_id"] for m in claimed] == [1, 2]
    assert all(m.available_at == T0 + LEASE for m in claimed)
    assert [m.payload["user_id"] for m in await claim(uow_factory, T0)] == [3]
    assert await claim(uow_factory, T0 + LEASE - timedelta(seconds=1)) == []
    # A claimer that died: its lease runs out and the messages are due again.
    assert len(await claim(uow_factory, T0 + LEASE)) == 3


async def test_a_message_not_yet_available_is_not_claimed(uow_factory: UowFactory) -> None:
    await record(uow_factory, event())

    assert await claim(uow_factory, T0 - timedelta(seconds=1)) == []


async def test_delivered_messages_are_never_claimed_again(uow_factory: UowFactory) -> None:
    await record(uow_factory, event())
    [message] = await claim(uow_factory, T0)

    async with uow_factory() as uow:
        await uow.repository(Outbox).mark_delivered(message.id, T0)
        await uow.commit()

    assert await claim(uow_factory, T0 + 10 * LEASE) == []
    stored = await get(uow_factory, message.id)
    assert (stored.status, stored.delivered_at) == (OutboxStatus.DELIVERED, T0)


async def test_a_retry_counts_the_attempt_and_waits_until_its_time(
    uow_factory: UowFactory,
) -> None:
    await record(uow_factory, event())
    [message] = await claim(uow_factory, T0)
    retry_at = T0 + timedelta(seconds=5)

    async with uow_factory() as uow:
        await uow.repository(Outbox).schedule_retry(
            message.id, attempts=1, available_at=retry_at, error="x"
        )
        await uow.commit()

    assert await claim(uow_factory, retry_at - timedelta(seconds=1)) == []
    [again] = await claim(uow_factory, retry_at)
    assert (again.id, again.attempts, again.last_error) == (message.id, 1, "x")


async def test_dead_messages_are_kept_listed_and_requeued(uow_factory: UowFactory) -> None:
    await record(uow_factory, event(1), event(2))
    [message, _] = await claim(uow_factory, T0)

    async with uow_factory() as uow:
        await uow.repository(Outbox).mark_dead(
            message.id, attempts=8, error="550 mailbox unavailable"
        )
        await uow.commit()

    async with uow_factory() as uow:
        dead = list(await uow.repository(Outbox).list(OutboxStatus.DEAD, 10))
        assert await uow.repository(Outbox).requeue(12345, T0) is False
        assert await uow.repository(Outbox).requeue(dead[0].id, T0 + timedelta(seconds=1)) is True
        await uow.commit()
    assert [(m.id, m.attempts, m.last_error) for m in dead] == [
        (message.id, 8, "550 mailbox unavailable")
    ]
    requeued = await get(uow_factory, message.id)
    assert (requeued.status, requeued.attempts) == (OutboxStatus.PENDING, 0)
    # due at once; the other message is still leased
    assert [m.id for m in await claim(uow_factory, T0 + timedelta(seconds=1))] == [message.id]


async def test_only_dead_messages_can_be_requeued(uow_factory: UowFactory) -> None:
    await record(uow_factory, event())
    [message] = await claim(uow_factory, T0)

    async with uow_factory() as uow:
        assert await uow.repository(Outbox).requeue(message.id, T0) is False


async def test_a_released_message_is_due_again_at_once(uow_factory: UowFactory) -> None:
    await record(uow_factory, event())
    [message] = await claim(uow_factory, T0)

    async with uow_factory() as uow:
        await uow.repository(Outbox).release_many([message.id], T0)
        await uow.commit()

    assert [m.id for m in await claim(uow_factory, T0)] == [message.id]


async def test_mark_delivered_many_marks_exactly_the_given_messages(
    uow_factory: UowFactory,
) -> None:
    await record(uow_factory, *(event(n) for n in range(1, 6)))
    claimed = await claim(uow_factory, T0)
    chosen = [claimed[0].id, claimed[2].id, claimed[3].id]
    at = T0 + timedelta(seconds=3)

    async with uow_factory() as uow:
        await uow.repository(Outbox).mark_delivered_many([], at)  # nothing to do
        await uow.repository(Outbox).mark_delivered_many(chosen, at)
        await uow.commit()

    after = {m.id: m for m in [await get(uow_factory, m.id) for m in claimed]}
    assert {i for i, m in after.items() if m.status is OutboxStatus.DELIVERED} == set(chosen)
    for message in claimed:
        stored = after[message.id]
        assert stored.payload == message.payload  # kept
        if message.id in chosen:
            assert stored.delivered_at == at
        else:  # untouched: still pending, still leased
            assert (stored.status, stored.delivered_at) == (OutboxStatus.PENDING, None)
            assert stored.available_at == T0 + LEASE
    # the delivered are never claimed again; the others come back when their lease runs out
    assert [m.id for m in await claim(uow_factory, T0 + LEASE)] == [claimed[1].id, claimed[4].id]


async def test_many_at_once_goes_past_any_parameter_limit(uow_factory: UowFactory) -> None:
    await record(uow_factory, *(event(n) for n in range(1, 1202)))
    claimed = await claim(uow_factory, T0, limit=2000)
    assert len(claimed) == 1201

    async with uow_factory() as uow:
        await uow.repository(Outbox).release_many([m.id for m in claimed[:1100]], T0)
        await uow.repository(Outbox).mark_delivered_many([m.id for m in claimed[1:]], T0)
        await uow.commit()

    async with uow_factory() as uow:
        assert await uow.repository(Outbox).count(OutboxStatus.DELIVERED) == 1200
        [left] = await uow.repository(Outbox).list(OutboxStatus.PENDING, 10)
    assert (left.id, left.available_at) == (claimed[0].id, T0)


async def test_release_many_hands_back_only_pending_messages(uow_factory: UowFactory) -> None:
    await record(uow_factory, *(event(n) for n in range(1, 5)))
    first, second, third, fourth = await claim(uow_factory, T0)
    async with uow_factory() as uow:
        await uow.repository(Outbox).mark_delivered(first.id, T0)
        await uow.repository(Outbox).mark_dead(second.id, attempts=8, error="550")
        await uow.commit()

    back_at = T0 + timedelta(seconds=1)
    async with uow_factory() as uow:
        await uow.repository(Outbox).release_many([], back_at)  # nothing to do
        await uow.repository(Outbox).release_many([first.id, second.id, third.id], back_at)
        await uow.commit()

    delivered, dead = await get(uow_factory, first.id), await get(uow_factory, second.id)
    assert (delivered.status, delivered.available_at) == (OutboxStatus.DELIVERED, T0 + LEASE)
    assert (dead.status, dead.available_at) == (OutboxStatus.DEAD, T0 + LEASE)
    # the third is due again at once; the fourth, not released, is still leased
    assert [m.id for m in await claim(uow_factory, back_at)] == [third.id]
    assert (await get(uow_factory, fourth.id)).available_at == T0 + LEASE


async def test_a_delivery_or_a_death_can_replace_the_payload(uow_factory: UowFactory) -> None:
    await record(uow_factory, event(1), event(2), event(3))
    first, second, third = await claim(uow_factory, T0)
    async with uow_factory() as uow:
        await uow.repository(Outbox).mark_delivered(first.id, T0, payload={"user_id": 1})
        await uow.repository(Outbox).mark_dead(
            second.id, attempts=3, error="550", payload={"user_id": 2}
        )
        await uow.repository(Outbox).mark_dead(third.id, attempts=1, error="poison")
        await uow.commit()

    delivered, dead, kept = [await get(uow_factory, m.id) for m in (first, second, third)]
    assert (delivered.status, delivered.delivered_at, delivered.payload) == (
        OutboxStatus.DELIVERED,
        T0,
        {"user_id": 1},
    )
    assert (dead.status, dead.attempts, dead.last_error, dead.payload) == (
        OutboxStatus.DEAD,
        3,
        "550",
        {"user_id": 2},
    )
    assert (kept.status, kept.attempts, kept.payload) == (OutboxStatus.DEAD, 1, third.payload)


async def test_concurrent_claimers_get_disjoint_messages(uow_factory: UowFactory) -> None:
    await record(uow_factory, *(event(n) for n in range(1, 41)))

    batches = await asyncio.gather(*(claim(uow_factory, T0, limit=5) for _ in range(10)))

    ids = [m.id for batch in batches for m in batch]
    assert len(ids) == 40
    assert len(set(ids)) == 40


async def test_count_tells_pending_and_dead_apart(uow_factory: UowFactory) -> None:
    await record(uow_factory, event(1), event(2), event(3))
    async with uow_factory() as uow:
        first = (await uow.repository(Outbox).list(OutboxStatus.PENDING, 1))[0]
        await uow.repository(Outbox).mark_dead(first.id, attempts=1, error="refused")
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.repository(Outbox).count(OutboxStatus.PENDING) == 2
        assert await uow.repository(Outbox).count(OutboxStatus.DEAD) == 1
        assert await uow.repository(Outbox).count(OutboxStatus.DELIVERED) == 0


async def test_pruning_deletes_only_messages_delivered_before_the_cutoff(
    uow_factory: UowFactory,
) -> None:
    await record(uow_factory, *(event(n) for n in range(1, 6)))
    first, second, third, fourth, fifth = await claim(uow_factory, T0)
    async with uow_factory() as uow:
        await uow.repository(Outbox).mark_delivered(first.id, T0)
        await uow.repository(Outbox).mark_delivered(second.id, T0 + timedelta(minutes=1))
        await uow.repository(Outbox).mark_delivered(third.id, T0 + timedelta(days=2))  # recent
        await uow.repository(Outbox).mark_dead(
            fourth.id, attempts=8, error="550"
        )  # fifth stays pending
        await uow.commit()
    cutoff = T0 + timedelta(days=1)

    async with uow_factory() as uow:
        deleted_first = await uow.repository(Outbox).delete_delivered_before(cutoff, limit=1)
        deleted_then = await uow.repository(Outbox).delete_delivered_before(cutoff, limit=10)
        await uow.commit()

    assert (deleted_first, deleted_then) == (1, 1)
    async with uow_factory() as uow:
        left = {
            m.id for status in OutboxStatus for m in await uow.repository(Outbox).list(status, 10)
        }
    assert left == {third.id, fourth.id, fifth.id}


# --- destinations and ordering keys (events) -------------------------------------------------

EVENTS = OutboxDestination.EVENTS


def user_event(user_id: int, n: int, at: datetime = T0) -> NewOutboxMessage:
    return NewOutboxMessage(
        event_id=str(uuid.uuid4()),
        event_type="item.created",
        payload={"user_id": user_id, "n": n},
        created_at=at,
        destination=EVENTS,
        ordering_key=str(user_id),
    )


async def claim_events(
    uow_factory: UowFactory, now: datetime, limit: int = 10
) -> list[OutboxMessage]:
    async with uow_factory() as uow:
        claimed = list(await uow.repository(Outbox).claim(now, now + LEASE, limit, EVENTS))
        await uow.commit()
    return claimed


def numbers(messages: list[OutboxMessage]) -> list[tuple[int, int]]:
    return [(m.payload["user_id"], m.payload["n"]) for m in messages]


async def test_each_destination_is_claimed_on_its_own(uow_factory: UowFactory) -> None:
    await record(uow_factory, event(1), user_event(7, 1), event(2))

    emails = await claim(uow_factory, T0)
    events = await claim_events(uow_factory, T0)

    assert [m.payload["user_id"] for m in emails] == [1, 2]
    assert all(m.destination is OutboxDestination.EMAIL for m in emails)
    assert [(m.destination, m.ordering_key) for m in events] == [(EVENTS, "7")]
    async with uow_factory() as uow:
        assert await uow.repository(Outbox).count(OutboxStatus.PENDING, EVENTS) == 1
        assert await uow.repository(Outbox).count(OutboxStatus.PENDING) == 3
        [listed] = await uow.repository(Outbox).list(OutboxStatus.PENDING, 10, EVENTS)
    assert listed.id == events[0].id


async def test_a_claim_takes_a_contiguous_run_of_each_key_in_order(
    uow_factory: UowFactory,
) -> None:
    await record(uow_factory, user_event(1, 1), user_event(2, 1), user_event(1, 2))
    await record(uow_factory, user_event(2, 2), user_event(1, 3))

    claimed = await claim_events(uow_factory, T0, limit=4)

    # ids ascend; each key's rows are a prefix of its run; the fifth row waits for the next claim
    assert numbers(claimed) == [(1, 1), (2, 1), (1, 2), (2, 2)]
    assert all(m.available_at == T0 + LEASE for m in claimed)
    # the key's owner holds it: nobody else can claim its next row while the heads are leased
    assert await claim_events(uow_factory, T0) == []


async def test_a_key_waits_while_an_earlier_row_of_it_is_undelivered(
    uow_factory: UowFactory,
) -> None:
    await record(uow_factory, user_event(1, 1), user_event(1, 2), user_event(2, 1))
    first = (await claim_events(uow_factory, T0, limit=1))[0]
    retry_at = T0 + 2 * LEASE
    async with uow_factory() as uow:
        await uow.repository(Outbox).schedule_retry(
            first.id, attempts=1, available_at=retry_at, error="refused"
        )
        await uow.commit()

    # user 1's second row is not claimable behind its failed first; user 2 goes on
    [other] = await claim_events(uow_factory, T0 + timedelta(seconds=1))
    assert numbers([other]) == [(2, 1)]
    async with uow_factory() as uow:
        await uow.repository(Outbox).mark_delivered(other.id, T0)
        await uow.commit()
    assert await claim_events(uow_factory, retry_at - timedelta(seconds=1)) == []
    # once the first is due again, it comes with the second, in order
    assert numbers(await claim_events(uow_factory, retry_at)) == [(1, 1), (1, 2)]


async def test_a_long_run_of_one_key_holds_no_other_key_back(uow_factory: UowFactory) -> None:
    """One user's backlog ahead of everyone else's rows: each claim still takes every key's head
    (the claim finds the first undelivered row of each key, decision 0057)."""
    await record(uow_factory, *(user_event(1, n) for n in range(1, 41)))
    await record(uow_factory, user_event(2, 1), user_event(3, 1))

    claimed = await claim_events(uow_factory, T0, limit=5)

    assert numbers(claimed) == [(1, 1), (1, 2), (1, 3), (2, 1), (3, 1)]
    async with uow_factory() as uow:  # user 1's head fails: the rest of its run waits
        await uow.repository(Outbox).schedule_retry(
            claimed[0].id, attempts=1, available_at=T0 + 3 * LEASE, error="refused"
        )
        await uow.repository(Outbox).release_many([m.id for m in claimed[1:3]], T0)
        await uow.repository(Outbox).mark_delivered_many([m.id for m in claimed[3:]], T0)
        await uow.commit()
    await record(uow_factory, user_event(2, 2))
    assert numbers(await claim_events(uow_factory, T0 + 2 * LEASE)) == [(2, 2)]


async def test_keys_past_a_full_window_of_one_run_are_claimed(uow_factory: UowFactory) -> None:
    """The SQL claim looks for heads among the first 10 x limit pending rows; when one user's run
    fills that window, the other users' heads past it are still found (decision 0058)."""
    await record(uow_factory, *(user_event(1, n) for n in range(1, 41)))
    await record(uow_factory, user_event(2, 1))

    first = await claim_events(uow_factory, T0, limit=3)

    assert numbers(first) == [(1, 1), (1, 2), (2, 1)]
    # the window is now user 1's leased run: a second claimer finds only the key past it
    await record(uow_factory, user_event(3, 1))
    assert numbers(await claim_events(uow_factory, T0, limit=3)) == [(3, 1)]


async def test_a_dead_row_holds_its_key_back_until_requeued(uow_factory: UowFactory) -> None:
    await record(uow_factory, user_event(1, 1), user_event(1, 2))
    first = (await claim_events(uow_factory, T0, limit=1))[0]
    async with uow_factory() as uow:
        await uow.repository(Outbox).mark_dead(first.id, attempts=1, error="poison")
        await uow.commit()

    assert await claim_events(uow_factory, T0 + 2 * LEASE) == []
    async with uow_factory() as uow:
        assert await uow.repository(Outbox).requeue(first.id, T0 + 2 * LEASE)
        await uow.commit()
    assert numbers(await claim_events(uow_factory, T0 + 2 * LEASE)) == [(1, 1), (1, 2)]


async def test_a_delivered_head_lets_the_next_row_of_its_key_go(uow_factory: UowFactory) -> None:
    await record(uow_factory, user_event(1, 1), user_event(1, 2))
    first = (await claim_events(uow_factory, T0, limit=1))[0]
    async with uow_factory() as uow:
        await uow.repository(Outbox).mark_delivered(first.id, T0)
        await uow.commit()

    # the second row was not in the first claim (limit 1): free as soon as the first is out
    assert numbers(await claim_events(uow_factory, T0)) == [(1, 2)]


async def test_concurrent_event_claimers_never_share_a_key(uow_factory: UowFactory) -> None:
    await record(uow_factory, *(user_event(user, n) for n in range(1, 6) for user in range(1, 9)))

    batches = await asyncio.gather(*(claim_events(uow_factory, T0, limit=7) for _ in range(6)))

    owners: dict[str, int] = {}
    for index, batch in enumerate(batches):
        for message in batch:
            assert message.ordering_key is not None
            assert owners.setdefault(message.ordering_key, index) == index
        for key in {m.ordering_key for m in batch}:
            runs = [m.payload["n"] for m in batch if m.ordering_key == key]
            assert runs == list(range(1, len(runs) + 1))  # each key from its first row on
    assert sum(len(b) for b in batches) == len({m.id for b in batches for m in b})


async def test_oldest_undelivered_is_the_lag_of_a_destination(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.repository(Outbox).oldest_undelivered(EVENTS) is None
    await record(
        uow_factory,
        event(1),
        user_event(1, 1, at=T0 + timedelta(seconds=1)),
        user_event(2, 1, at=T0 + timedelta(seconds=2)),
    )
    first = (await claim_events(uow_factory, T0 + LEASE, limit=1))[0]
    async with uow_factory() as uow:
        await uow.repository(Outbox).mark_delivered(first.id, T0)
        await uow.commit()

    async with uow_factory() as uow:
        oldest = await uow.repository(Outbox).oldest_undelivered(EVENTS)
        oldest_email = await uow.repository(Outbox).oldest_undelivered(OutboxDestination.EMAIL)
    assert (oldest, oldest_email) == (T0 + timedelta(seconds=2), T0)

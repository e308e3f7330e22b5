"""PublishEvents: one pass of the outbox worker's event relay (docs/decisions/0043-0045).

Claim a batch of due event rows in a short transaction (each user's rows a contiguous run from
the first one not yet published; the claim is a lease), publish each outside any transaction and
wait for the broker's acknowledgement, and record the outcomes together in one short transaction
(the published rows in one statement, the handed-back ones in another).

Order: a user's rows go out in id order. When one fails, the rest of that user's run in the batch
is left alone (it stays behind its failed head, which no one else can pass), and other users' rows
go on. At least once: a worker killed after the broker's acknowledgement and before the record
publishes the event again on the next claim, with the same id (the broker drops the repeat within
its duplicate window).

Retries (docs/decisions/0045): a broker that cannot be reached (``PublisherUnavailable``) costs no
attempt: the pass stops, hands its batch back and says so (the worker waits, with capped
backoff). A rejection of one event counts an attempt and schedules its retry with capped
exponential backoff, forever: an event is never dead, since a dead event would hold its user's
later events back for good anyway; the lag gauge and ``users-items outbox list --events`` show it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from application.clock import Clock, utc_now
from application.deliver_outbox_messages import RetryPolicy
from application.events import TYPE_PREFIX
from application.ports import (
    CloudEvent,
    EventPublisher,
    NamedEvent,
    Outbox,
    OutboxDestination,
    OutboxMessage,
    PublisherUnavailable,
    RunOutcome,
    UnitOfWork,
)

logger = logging.getLogger("users_items.events")


@dataclass(slots=True)
class PublishReport:
    claimed: int = 0
    published: int = 0
    retried: int = 0
    released: int = 0
    broker_unavailable: bool = False
    published_by_type: Counter[str] = field(default_factory=Counter)
    failed_by_type: Counter[str] = field(default_factory=Counter)


def cloud_event(message: OutboxMessage, source: str) -> CloudEvent:
    """The CloudEvent of an event row: its id, its type, its user, its time, its data."""
    return CloudEvent(
        id=message.event_id,
        type=TYPE_PREFIX + message.event_type,
        source=source,
        subject=str(message.payload["user_id"]),
        time=message.created_at,
        data=message.payload,
    )


class PublishEvents:
    def __init__(
        self,
        uow: UnitOfWork,
        publisher: EventPublisher,
        policy: RetryPolicy | None = None,
        *,
        source: str = "/users-items",
        batch_size: int = 100,
        lease_seconds: float = 60.0,
        clock: Clock = utc_now,
        rng: random.Random | None = None,
    ) -> None:
        self._uow = uow
        self._publisher = publisher
        self._policy = policy or RetryPolicy(max_delay_seconds=30.0)
        self._source = source
        self._batch_size = batch_size
        self._lease = timedelta(seconds=lease_seconds)
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy

    async def execute(self, should_stop: Callable[[], bool] = lambda: False) -> PublishReport:
        """Publish up to one batch. As in ``DeliverOutboxMessages``, a message is only started
        in the first half of its lease, and ``should_stop()`` is asked between messages; the
        unstarted rest of the batch is handed back.

        Each user's run is handed to the publisher in order (which keeps that order, sending
        ahead of the acknowledgements); different users' runs go concurrently. The published
        rows are recorded together at the end of the pass (one transaction, one commit): a
        worker killed before that publishes them again next time, with the same ids, and the
        broker drops the repeats."""
        now = self._clock()
        async with self._uow:
            batch = await self._uow.repository(Outbox).claim(
                now, now + self._lease, self._batch_size, OutboxDestination.EVENTS
            )
            await self._uow.commit()
        report = PublishReport(claimed=len(batch))
        runs: dict[str | None, list[OutboxMessage]] = {}
        for message in batch:
            runs.setdefault(message.ordering_key, []).append(message)
        start_by = now + self._lease / 2
        published: list[OutboxMessage] = []
        unstarted: list[OutboxMessage] = []

        def stopping() -> bool:
            return report.broker_unavailable or should_stop() or self._clock() >= start_by

        async def publish_run(run: list[OutboxMessage]) -> None:
            if stopping():
                unstarted.extend(run)
                return
            try:
                outcome = await self._publisher.publish_run(
                    [NamedEvent(m.event_type, cloud_event(m, self._source)) for m in run]
                )
            except Exception as surprise:  # an adapter's bug: nothing known to be stored
                outcome = RunOutcome(0, surprise)
            done = outcome.acknowledged
            published.extend(run[:done])
            error = outcome.error
            if error is None or done >= len(run):
                return
            if isinstance(error, PublisherUnavailable):
                if not report.broker_unavailable:
                    logger.warning("event broker unavailable: %s", error)
                report.broker_unavailable = True
                unstarted.extend(run[done:])
                return
            # A rejection, or any surprise: one failed attempt of this event; the rest of its
            # user's run waits behind it (not handed back), other users go on.
            failed.append((run[done], f"{type(error).__name__}: {error}"))

        failed: list[tuple[OutboxMessage, str]] = []
        try:
            await asyncio.gather(*(publish_run(run) for run in runs.values()))
        finally:
            # One unit of work, after the concurrent publishing (never shared between tasks).
            await self._record(published, failed, unstarted)
        for message in published:
            report.published += 1
            report.published_by_type[message.event_type] += 1
        for message, _ in failed:
            report.retried += 1
            report.failed_by_type[message.event_type] += 1
        report.released = len(unstarted)
        return report

    async def _record(
        self,
        published: Sequence[OutboxMessage],
        failed: Sequence[tuple[OutboxMessage, str]],
        unstarted: Sequence[OutboxMessage],
    ) -> None:
        if not (published or failed or unstarted):
            return
        now = self._clock()
        async with self._uow:
            outbox = self._uow.repository(Outbox)
            # One statement for all the published rows, one for the unstarted ones: a pass
            # costs a few round trips, not one per event (docs/decisions/0052).
            if published:
                await outbox.mark_delivered_many([m.id for m in published], now)
            for message, error in failed:
                await self._schedule_retry(outbox, message, error, now)
            # Rows behind a failed head are never unstarted: their head's retry decides when
            # they go, and whoever claims it then takes them too.
            if unstarted:
                await outbox.release_many([m.id for m in unstarted], now)
            await self._uow.commit()

    async def _schedule_retry(
        self, outbox: Outbox, message: OutboxMessage, error: str, now: datetime
    ) -> None:
        attempts = message.attempts + 1
        # Capped exponent: retried forever, 2**attempts would overflow a float in time.
        delay = self._policy.delay_seconds(min(attempts, 32), self._rng)
        await outbox.schedule_retry(
            message.id,
            attempts=attempts,
            available_at=now + timedelta(seconds=delay),
            error=error,
        )
        logger.warning(
            "event %s (%s) refused (attempt %s), retried in %.1fs: %s",
            message.event_id,
            message.event_type,
            attempts,
            delay,
            error,
        )

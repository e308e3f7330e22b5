"""The outbox worker's loops, one per destination (docs/decisions/0043): emails (deliver, sleep
when idle, prune delivered messages past their retention once an hour) and, with
``EVENTS_NATS_URL``, events (publish to the broker). Each claims only its own rows and runs in
its own task, so an SMTP outage never delays an event and a broker outage never an email. Both
stop cleanly on SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time

from prometheus_client import CollectorRegistry, Counter, start_http_server

from application.errors import StorageUnavailable
from application.manage_outbox import PruneOutbox
from application.publish_events import PublishReport
from entrypoints.container import Container

logger = logging.getLogger("users_items.worker")

PRUNE_EVERY_SECONDS = 3600.0
BROKER_BACKOFF_FIRST_SECONDS = 0.5
FAILED_PASSES_BACKOFF_MAX_SECONDS = 60.0


class FailedPasses:
    """A loop's failed passes in a row: a bug, or a database that accepts the connection but
    refuses the work (not migrated, a role without rights on a table); not the database or the
    broker being away, which have their own answers. The first failure of a run is logged with
    its traceback, the next ones on one line each, and the wait before the next pass doubles from
    the poll interval up to ``FAILED_PASSES_BACKOFF_MAX_SECONDS``. Before, such a worker logged
    two tracebacks a second: 1 MB of log in 30 s, and 65% of a core to render them in the
    console format (decision 0060)."""

    def __init__(self, what: str, first_wait_seconds: float) -> None:
        self._what = what
        self._first_wait_seconds = first_wait_seconds
        self._in_a_row = 0

    def failed(self, error: BaseException) -> float:
        """Log ``error`` and return how long to wait before the next pass."""
        self._in_a_row += 1
        doublings = min(self._in_a_row - 1, 32)  # 2**n of a long outage would overflow
        longer: float = self._first_wait_seconds * 2**doublings
        wait = min(FAILED_PASSES_BACKOFF_MAX_SECONDS, longer)
        if self._in_a_row == 1:
            logger.exception("%s failed; next try in %ss", self._what, wait)
        else:
            logger.error(
                "%s failed again (%d in a row); next try in %ss: %s: %s",
                self._what,
                self._in_a_row,
                wait,
                type(error).__name__,
                error,
            )
        return wait

    def succeeded(self) -> None:
        if self._in_a_row:
            logger.info("%s succeeded after %d failed", self._what, self._in_a_row)
        self._in_a_row = 0


class WorkerMetrics:
    """The worker's own counters, served on ``WORKER_METRICS_PORT`` when it is set (the API's
    /metrics shows what the database tells: the events' lag and backlog)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.published = Counter(
            "events_published", "Events the broker acknowledged.", ["type"], registry=self.registry
        )
        self.failed = Counter(
            "events_failed",
            "Event publications the broker refused (each is retried).",
            ["type"],
            registry=self.registry,
        )
        self.broker_unavailable = Counter(
            "events_broker_unavailable",
            "Relay passes that found the event broker unreachable.",
            registry=self.registry,
        )

    def count(self, report: PublishReport) -> None:
        for event_type, n in report.published_by_type.items():
            self.published.labels(event_type).inc(n)
        for event_type, n in report.failed_by_type.items():
            self.failed.labels(event_type).inc(n)
        if report.broker_unavailable:
            self.broker_unavailable.inc()


async def run_worker(container: Container, stop: asyncio.Event | None = None) -> None:
    """Deliver outbox messages until ``stop`` is set (SIGTERM and SIGINT set it). The message in
    hand is always finished; the rest of its batch is handed back for the next worker."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    settings = container.settings()
    metrics = WorkerMetrics()
    server = None
    if settings.worker_metrics_port is not None:
        server, _ = start_http_server(settings.worker_metrics_port, registry=metrics.registry)
    logger.info("outbox worker started")
    loops = [_email_loop(container, stop)]
    if settings.events_enabled:
        loops.append(_event_loop(container, stop, metrics))
    try:
        await asyncio.gather(*loops)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        if settings.events_enabled:
            with contextlib.suppress(Exception):
                await container.event_publisher().close()
        await container.engine().dispose()
        if server is not None:
            server.shutdown()
        logger.info("outbox worker stopped")


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    """Sleep, but wake up for a stop."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def _email_loop(container: Container, stop: asyncio.Event) -> None:
    poll_seconds = container.settings().outbox_poll_seconds
    deliver = container.deliver_outbox_messages()
    prune = container.prune_outbox()
    next_prune = time.monotonic()  # at start, then hourly, when there is nothing to deliver
    failures = FailedPasses("outbox pass", poll_seconds)
    while not stop.is_set():
        try:
            report = await deliver.execute(should_stop=stop.is_set)
        except StorageUnavailable:
            logger.warning("database unavailable; next try in %ss", poll_seconds)
            claimed = 0
        except Exception as error:
            # A bug or a surprise from below must not stop delivery for good: log it, wait,
            # try again (an unfinished claim comes back when its lease runs out).
            await _wait(stop, failures.failed(error))
            continue
        else:
            claimed = report.claimed
            failures.succeeded()
        if claimed == 0 and time.monotonic() >= next_prune:
            next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
            await _prune(prune)
        if claimed == 0:  # idle, or the database is away
            await _wait(stop, poll_seconds)


async def _event_loop(container: Container, stop: asyncio.Event, metrics: WorkerMetrics) -> None:
    settings = container.settings()
    poll_seconds = settings.outbox_poll_seconds
    publish = container.publish_events()
    backoff = 0.0  # while the broker is unreachable: 0.5 s, doubling, up to the retry cap
    failures = FailedPasses("event pass", poll_seconds)
    while not stop.is_set():
        try:
            report = await publish.execute(should_stop=stop.is_set)
        except StorageUnavailable:
            logger.warning("database unavailable; next event pass in %ss", poll_seconds)
            report = PublishReport()
        except Exception as error:
            await _wait(stop, failures.failed(error))
            continue
        else:
            failures.succeeded()
        metrics.count(report)
        if report.broker_unavailable:
            backoff = min(
                settings.events_retry_max_seconds,
                max(BROKER_BACKOFF_FIRST_SECONDS, backoff * 2),
            )
            await _wait(stop, backoff)
            continue
        backoff = 0.0
        if report.claimed == 0:
            await _wait(stop, poll_seconds)
        elif report.claimed < settings.events_batch_size:
            # Less than a batch waiting: let more gather before the next pass (decision 0054).
            await _wait(stop, settings.events_linger_seconds)


async def _prune(prune: PruneOutbox) -> None:
    try:
        deleted = await prune.execute()
    except StorageUnavailable:
        logger.warning("database unavailable; outbox not pruned")
    except Exception:
        logger.exception("pruning the outbox failed")
    else:
        if deleted:
            logger.info("pruned %d delivered outbox messages", deleted)

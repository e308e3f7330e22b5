"""Prometheus metrics: what the middleware counts per request, and gauges read at scrape time.

``build_metrics`` is the one place that decides what ``GET /metrics`` shows. A new gauge whose
value is read when Prometheus scrapes (rows waiting in a table, the size of a queue) is one
``metrics.add_gauge(...)`` line there.

With ``PROMETHEUS_MULTIPROC_DIR`` set (``serve --workers N`` sets it up), the request counters and
histograms of every worker process are written to files in that directory and summed at scrape
time (prometheus-client's multiprocess mode), so any worker answers for all of them. Gauges read
at scrape time (the database pool) describe the worker that answered: each worker has its own pool.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from application.errors import StorageUnavailable
from application.ports import OutboxDestination, OutboxStatus

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from entrypoints.container import Container

MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED_ROUTE = "unmatched"  # the route label of a request no route matched (a 404)
LABELS = ("method", "route", "status")
# Seconds: from a cached read (~1 ms) to the pool timeout (5 s) and beyond.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

GaugeReader = Callable[[], Awaitable[float]]

# No *_created series: half the output, and nothing Prometheus needs.
disable_created_metrics()  # type: ignore[no-untyped-call]


class HttpMetrics:
    """The per-request counter and latency histogram; ``observe`` is all the middleware calls."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.requests = Counter(
            "http_requests", "HTTP requests answered.", LABELS, registry=registry
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "Time from the request's arrival to the end of its response.",
            LABELS,
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )

        # (method, route, status) -> its counter and histogram children: one dict look-up per
        # request instead of two ``labels()`` calls. Bounded: routes x methods x statuses.
        self._children: dict[tuple[str, str, str], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: str, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = (self.requests.labels(*key), self.duration.labels(*key))
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)


class DatabasePoolCollector(Collector):
    """The SQLAlchemy connection pool, read when scraped (no work per request)."""

    def __init__(self, engine: Callable[[], AsyncEngine]) -> None:
        self._engine = engine

    def collect(self) -> Iterator[Metric]:
        pool = self._engine().pool
        # QueuePool (PostgreSQL, SQLite files) counts; pools without counters report nothing.
        size, checked_out, overflow = (
            getattr(pool, name, None) for name in ("size", "checkedout", "overflow")
        )
        if size is None or checked_out is None or overflow is None:
            return
        yield GaugeMetricFamily("db_pool_size", "Connections the pool keeps open.", size())
        yield GaugeMetricFamily(
            "db_pool_checked_out", "Connections in use by a request right now.", checked_out()
        )
        yield GaugeMetricFamily(
            "db_pool_overflow",
            "Connections open beyond the pool size (up to DB_MAX_OVERFLOW).",
            max(overflow(), 0),
        )


class _ScrapeTimeGauges(Collector):
    """Gauges whose values async functions read just before each scrape."""

    def __init__(self) -> None:
        self._readers: dict[str, tuple[str, GaugeReader]] = {}
        self._values: dict[str, float] = {}

    def add(self, name: str, documentation: str, read: GaugeReader) -> None:
        self._readers[name] = (documentation, read)

    async def refresh(self) -> None:
        for name, (_, read) in self._readers.items():
            try:
                self._values[name] = await read()
            except StorageUnavailable:
                # The database is away: leave the gauge out of this scrape rather than fail the
                # whole scrape (the request metrics still matter most then).
                self._values.pop(name, None)

    def collect(self) -> Iterator[Metric]:
        for name, (documentation, _) in self._readers.items():
            if name in self._values:
                yield GaugeMetricFamily(name, documentation, self._values[name])


class Metrics:
    """Everything ``GET /metrics`` shows, for one app."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, multiprocess_dir: str | None = None) -> None:
        self._multiprocess = bool(multiprocess_dir)
        # In multiprocess mode values live in files, not in a registry of this process.
        self._registry = None if self._multiprocess else CollectorRegistry()
        self.http = HttpMetrics(self._registry)
        self._collectors: list[Collector] = []
        self._gauges = _ScrapeTimeGauges()
        self.add_collector(self._gauges)

    def add_collector(self, collector: Collector) -> None:
        """A collector read synchronously at scrape time (cheap, in-process values)."""
        self._collectors.append(collector)
        if self._registry is not None:
            self._registry.register(collector)

    def add_gauge(self, name: str, documentation: str, read: GaugeReader) -> None:
        """A gauge whose value ``read()`` (async, e.g. a database count) returns at scrape time."""
        self._gauges.add(name, documentation, read)

    async def render(self) -> bytes:
        await self._gauges.refresh()
        return generate_latest(self._scrape_registry())

    def _scrape_registry(self) -> CollectorRegistry:
        if self._registry is not None:
            return self._registry
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        for collector in self._collectors:
            registry.register(collector)
        return registry


def build_metrics(container: Container) -> Metrics:
    """What ``GET /metrics`` shows. Register further gauges here, for example::

    metrics.add_gauge("outbox_pending", "Messages waiting to be sent.", read=...)
    """
    metrics = Metrics(os.environ.get(MULTIPROC_DIR_VARIABLE))
    metrics.add_collector(DatabasePoolCollector(container.engine))
    for status in (OutboxStatus.PENDING, OutboxStatus.DEAD):
        metrics.add_gauge(
            f"outbox_messages_{status.value}",
            f"Outbox messages {_OUTBOX_GAUGE_HELP[status]}, read at scrape time.",
            read=partial(_count_outbox, container, status),
        )
    if container.settings().events_enabled:
        metrics.add_gauge(
            "events_unpublished",
            "Events recorded and not yet acknowledged by the broker, read at scrape time.",
            read=partial(_count_events, container),
        )
        metrics.add_gauge(
            "events_oldest_unpublished_age_seconds",
            "Seconds since the oldest event not yet published was recorded (0: none waits); "
            "alert when it grows.",
            read=partial(_event_lag, container),
        )
    return metrics


_OUTBOX_GAUGE_HELP = {
    OutboxStatus.PENDING: "waiting for the worker",
    OutboxStatus.DEAD: "that used up their attempts (see `users-items outbox list --dead`)",
}


async def _count_outbox(container: Container, status: OutboxStatus) -> float:
    return float(await container.count_outbox_messages().execute(status))


async def _count_events(container: Container) -> float:
    count = container.count_outbox_messages()
    pending = await count.execute(OutboxStatus.PENDING, OutboxDestination.EVENTS)
    return float(pending + await count.execute(OutboxStatus.DEAD, OutboxDestination.EVENTS))


async def _event_lag(container: Container) -> float:
    return await container.measure_event_lag().execute()

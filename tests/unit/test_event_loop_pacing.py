"""How the worker's event loop paces its passes (decision 0054): a full batch is followed by the
next pass at once, a partial one by the linger, an empty one by the poll interval, a broker
outage by a backoff. The waits are recorded, not slept. And the loop it runs on: uvloop's."""

from __future__ import annotations

import asyncio

import pytest
import uvloop

from application.publish_events import PublishReport
from entrypoints import worker
from entrypoints.settings import Settings
from entrypoints.worker_cli import event_loop_factory
from tests.support.worker_loops import Container, ScriptedPasses

BATCH = 10
LINGER = 0.25
POLL = 3.0


async def waits_after(reports: list[PublishReport], monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waited: list[float] = []

    async def record(stop: asyncio.Event, seconds: float) -> None:
        waited.append(seconds)

    monkeypatch.setattr(worker, "_wait", record)
    stop = asyncio.Event()
    settings = Settings(
        events_batch_size=BATCH, events_linger_seconds=LINGER, outbox_poll_seconds=POLL
    )
    container = Container(settings, ScriptedPasses(reports, stop, PublishReport()))
    await worker._event_loop(container, stop, worker.WorkerMetrics())  # type: ignore[arg-type]
    assert waited[-1] == POLL  # the last pass, which stops the loop, found nothing
    return waited[:-1]


async def test_a_full_batch_goes_on_a_partial_one_lingers_an_empty_one_polls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reports = [PublishReport(claimed=BATCH), PublishReport(claimed=3), PublishReport(claimed=0)]
    assert await waits_after(reports, monkeypatch) == [LINGER, POLL]


async def test_an_unreachable_broker_backs_off_and_doubles(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    down = PublishReport(claimed=BATCH, broker_unavailable=True)
    waits = await waits_after([down, down, down, PublishReport(claimed=BATCH)], monkeypatch)
    assert waits == [
        worker.BROKER_BACKOFF_FIRST_SECONDS,
        2 * worker.BROKER_BACKOFF_FIRST_SECONDS,
        4 * worker.BROKER_BACKOFF_FIRST_SECONDS,
    ]


def test_the_worker_runs_on_uvloop_as_serve_does() -> None:
    """uvicorn[standard] brings uvloop; the relay spends less CPU per event on it."""
    loop = event_loop_factory()()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()

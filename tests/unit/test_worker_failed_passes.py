"""What the worker's loops do when a pass fails for a reason that is neither the database nor the
broker being away (a bug, a dropped database, a role without rights): the first failure of a run
is logged with its traceback, the next ones on one line each, and the wait before the next pass
doubles from the poll interval up to a cap (decision 0060). The waits are recorded, not slept."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from application.deliver_outbox_messages import DeliveryReport
from application.publish_events import PublishReport
from entrypoints import worker
from entrypoints.settings import Settings
from tests.support.worker_loops import Container, ScriptedPasses

POLL = 2.0
SETTINGS = Settings(outbox_poll_seconds=POLL, events_batch_size=10)


async def waits_of_the_event_loop(
    outcomes: list[Any], monkeypatch: pytest.MonkeyPatch
) -> list[float]:
    waited: list[float] = []

    async def record(stop: asyncio.Event, seconds: float) -> None:
        waited.append(seconds)

    monkeypatch.setattr(worker, "_wait", record)
    stop = asyncio.Event()
    container = Container(SETTINGS, ScriptedPasses(outcomes, stop, PublishReport()))
    await worker._event_loop(container, stop, worker.WorkerMetrics())  # type: ignore[arg-type]
    assert waited[-1] == POLL  # the last pass, which stops the loop, found nothing
    return waited[:-1]


def failures(caplog: pytest.LogCaptureFixture, what: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage().startswith(f"{what} failed")]


async def test_a_run_of_failures_logs_one_traceback_and_waits_longer_each_time(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="users_items.worker")
    outcomes = [RuntimeError(f"boom {n}") for n in (1, 2, 3)]

    waits = await waits_of_the_event_loop(outcomes, monkeypatch)

    assert waits == [POLL, 2 * POLL, 4 * POLL]
    logged = failures(caplog, "event pass")
    assert [r.exc_info is not None for r in logged] == [True, False, False]
    assert [r.levelno for r in logged] == [logging.ERROR] * 3
    assert "(2 in a row)" in logged[1].getMessage()
    assert logged[1].getMessage().endswith("RuntimeError: boom 2")
    assert logged[2].getMessage().endswith("RuntimeError: boom 3")
    assert "event pass succeeded after 3 failed" in caplog.messages


async def test_the_wait_stops_growing_at_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    waits = await waits_of_the_event_loop([RuntimeError("boom")] * 12, monkeypatch)

    cap = worker.FAILED_PASSES_BACKOFF_MAX_SECONDS
    assert waits[:5] == [POLL, 2 * POLL, 4 * POLL, 8 * POLL, 16 * POLL]
    assert waits[5:] == [cap] * 7
    assert 16 * POLL < cap < 32 * POLL  # the cap, not the doubling, sets the last waits


async def test_a_pass_that_works_ends_the_run(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    outcomes = [RuntimeError("one"), RuntimeError("two"), PublishReport(claimed=10)]
    outcomes += [RuntimeError("three")]

    waits = await waits_of_the_event_loop(outcomes, monkeypatch)

    assert waits == [POLL, 2 * POLL, POLL]  # after the full batch: at once, then from the start
    logged = failures(caplog, "event pass")
    assert [r.exc_info is not None for r in logged] == [True, False, True]


async def test_the_email_loop_fails_the_same_way_and_prunes_only_once_it_works(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    waited: list[float] = []

    async def record(stop: asyncio.Event, seconds: float) -> None:
        waited.append(seconds)

    monkeypatch.setattr(worker, "_wait", record)
    stop = asyncio.Event()
    outcomes: list[Any] = [RuntimeError("smtp bug"), RuntimeError("smtp bug")]
    container = Container(SETTINGS, ScriptedPasses(outcomes, stop, DeliveryReport()))

    await worker._email_loop(container, stop)  # type: ignore[arg-type]

    assert waited == [POLL, 2 * POLL, POLL]  # two failures, then the idle pass that stops it
    assert container.pruning.runs == 1  # on the idle pass, not on a failed one
    logged = failures(caplog, "outbox pass")
    assert [r.exc_info is not None for r in logged] == [True, False]

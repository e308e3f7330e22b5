"""First come, first served admission to the connection pool (adapters/sqlalchemy/database.py)."""

from __future__ import annotations

import asyncio
import time
from typing import cast

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sqlalchemy.database import FairAdmission, is_unavailable


async def test_a_task_asking_after_a_release_waits_behind_the_one_already_waiting() -> None:
    admission = FairAdmission(1, timeout_seconds=5)
    await admission.enter()
    order: list[str] = []

    async def request(name: str) -> None:
        await admission.enter()
        order.append(name)
        await asyncio.sleep(0)
        admission.leave()

    waiting = asyncio.create_task(request("waiting since before"))
    await asyncio.sleep(0)  # it now waits for the one slot
    admission.leave()
    late = asyncio.create_task(request("asked after the release"))
    await asyncio.gather(waiting, late)

    assert order == ["waiting since before", "asked after the release"]


async def test_a_wait_longer_than_the_pool_timeout_is_unavailable() -> None:
    admission = FairAdmission(1, timeout_seconds=0.05)
    await admission.enter()

    with pytest.raises(TimeoutError) as raised:
        await admission.enter()

    assert is_unavailable(raised.value)  # a 503, like SQLAlchemy's own pool timeout
    admission.leave()
    await admission.enter()  # the timed-out wait took no slot


async def test_a_connection_is_handed_on_only_to_a_task_that_waits_for_it() -> None:
    admission = FairAdmission(1, timeout_seconds=5)
    connection = cast(AsyncConnection, object())
    assert await admission.enter() is None  # a free slot: the task checks out its own
    assert not admission.hand_on(connection, time.monotonic())  # nobody waits: to the pool

    waiting = asyncio.create_task(admission.enter())
    await asyncio.sleep(0)  # it now waits for the one slot
    out_since = time.monotonic() - 1
    assert admission.hand_on(connection, out_since)
    assert not admission.hand_on(connection, time.monotonic())  # one waiter, one connection
    admission.leave()

    assert await waiting == (connection, out_since)  # with when it left the pool


async def test_a_connection_out_of_the_pool_too_long_goes_back_through_it() -> None:
    admission = FairAdmission(1, timeout_seconds=5, hand_on_seconds=60)
    await admission.enter()
    waiting = asyncio.create_task(admission.enter())
    await asyncio.sleep(0)

    assert not admission.hand_on(cast(AsyncConnection, object()), time.monotonic() - 61)
    admission.leave()
    assert await waiting is None  # the next one checks out through the pool (its recycling)


async def test_a_connection_handed_on_to_a_task_that_gave_up_is_given_back() -> None:
    admission = FairAdmission(1, timeout_seconds=0.05)
    connection = cast(AsyncConnection, object())
    await admission.enter()
    waiting = asyncio.create_task(admission.enter())
    await asyncio.sleep(0)
    assert admission.orphans() == []  # someone waits: what is handed on is theirs

    assert admission.hand_on(connection, time.monotonic())
    waiting.cancel()  # the client went away before its turn came
    admission.leave()
    with pytest.raises(asyncio.CancelledError):
        await waiting

    assert admission.orphans() == [connection]  # nobody waits: back to the pool
    assert admission.orphans() == []
    assert await admission.enter() is None

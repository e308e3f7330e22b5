"""First come, first served admission to the connection pool (adapters/sqlalchemy/database.py)."""

from __future__ import annotations

import asyncio

import pytest

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

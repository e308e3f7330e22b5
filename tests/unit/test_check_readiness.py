from __future__ import annotations

import asyncio

import pytest

from application.check_readiness import CheckReadiness
from application.errors import NotReady
from application.ports import HealthProbe


class Answers:
    async def check(self) -> None:
        return None


class Fails:
    async def check(self) -> None:
        raise ConnectionRefusedError("database is down")


class Hangs:
    async def check(self) -> None:
        await asyncio.sleep(60)


async def test_ready_when_every_probe_answers() -> None:
    report = await CheckReadiness({"database": Answers(), "cache": Answers()}).execute()

    assert report.checks == {"database": "ok", "cache": "ok"}
    assert report.ready


async def test_a_failing_probe_is_unavailable_and_not_ready() -> None:
    with pytest.raises(NotReady) as raised:
        await CheckReadiness({"database": Fails()}).execute()

    assert raised.value.checks == {"database": "unavailable"}


async def test_a_probe_that_outlasts_the_timeout_is_reported_as_timeout() -> None:
    with pytest.raises(NotReady) as raised:
        await CheckReadiness({"database": Hangs()}, timeout_seconds=0.01).execute()

    assert raised.value.checks == {"database": "timeout"}


async def test_each_probe_is_reported_under_its_own_name() -> None:
    probes: dict[str, HealthProbe] = {"database": Answers(), "queue": Fails(), "cache": Hangs()}

    with pytest.raises(NotReady) as raised:
        await CheckReadiness(probes, timeout_seconds=0.01).execute()

    assert raised.value.checks == {"database": "ok", "queue": "unavailable", "cache": "timeout"}
    assert raised.value.failing == "queue (unavailable), cache (timeout)"

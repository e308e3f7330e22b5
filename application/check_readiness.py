"""CheckReadiness: is every dependency answering, each within its time limit?"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from application.errors import ApplicationError, NotReady
from application.ports.health_probe import HealthProbe


@dataclass(frozen=True, slots=True)
class ReadinessReport:
    checks: Mapping[str, str]  # name -> "ok" | "timeout" | "unavailable"

    @property
    def ready(self) -> bool:
        return all(status == "ok" for status in self.checks.values())


class CheckReadiness:
    """The report when every check is ``ok``; else ``NotReady`` naming each check's state."""

    raises: ClassVar[tuple[type[ApplicationError], ...]] = (NotReady,)

    def __init__(self, probes: Mapping[str, HealthProbe], timeout_seconds: float = 1.0) -> None:
        self._probes = probes
        self._timeout_seconds = timeout_seconds

    async def execute(self) -> ReadinessReport:
        names = list(self._probes)
        results = await asyncio.gather(*(self._run(self._probes[name]) for name in names))
        report = ReadinessReport(checks=dict(zip(names, results, strict=True)))
        if not report.ready:
            raise NotReady(dict(report.checks))
        return report

    async def _run(self, probe: HealthProbe) -> str:
        try:
            await asyncio.wait_for(probe.check(), timeout=self._timeout_seconds)
        except TimeoutError:
            return "timeout"
        except Exception:  # any failure of the dependency means "not ready", never a crash
            return "unavailable"
        return "ok"

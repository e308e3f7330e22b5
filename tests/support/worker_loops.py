"""The worker's loops (entrypoints/worker.py) run on scripted passes: a use case whose passes
return or raise what the test scripted, and a container that hands it out."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

from entrypoints.settings import Settings


class ScriptedPasses:
    """A use case (``PublishEvents``, ``DeliverOutboxMessages``) whose passes return, or raise,
    the scripted outcomes in turn; then one that finds nothing (``idle``) and stops the loop."""

    def __init__(self, outcomes: list[Any], stop: asyncio.Event, idle: Any) -> None:
        self._outcomes: Iterator[Any] = iter(outcomes)
        self._stop = stop
        self._idle = idle

    async def execute(self, should_stop: Any = None) -> Any:
        outcome = next(self._outcomes, None)
        if outcome is None:
            self._stop.set()
            return self._idle
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


class CountedPruning:
    def __init__(self) -> None:
        self.runs = 0

    async def execute(self) -> int:
        self.runs += 1
        return 0


class Container:
    """What the loops ask of the composition root: the settings and the scripted use case."""

    def __init__(self, settings: Settings, passes: ScriptedPasses) -> None:
        self._settings = settings
        self._passes = passes
        self.pruning = CountedPruning()

    def settings(self) -> Settings:
        return self._settings

    def publish_events(self) -> ScriptedPasses:
        return self._passes

    def deliver_outbox_messages(self) -> ScriptedPasses:
        return self._passes

    def prune_outbox(self) -> CountedPruning:
        return self.pruning

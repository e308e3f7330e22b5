"""A dependency the service cannot serve without, checked by the readiness probe."""

from __future__ import annotations

from typing import Protocol


class HealthProbe(Protocol):
    async def check(self) -> None:
        """Return when the dependency answered a real round trip; raise otherwise."""
        ...

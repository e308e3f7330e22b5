"""The unit of work: one transaction, and the repositories that work inside it."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self, TypeVar

R = TypeVar("R")


class UnitOfWork(Protocol):
    """``async with uow:`` opens a transaction; leaving the block without ``commit()`` (or with
    an exception) rolls it back. One instance serves one transaction at a time.

    Repositories are asked for by their port, inside the block:
    ``users = uow.repository(UserRepository)``. Each adapter family registers which of its
    classes implements each port (adapters/repository_registry.py), so a new aggregate's
    repository needs no change here nor in the units of work (docs/decisions/0041).
    """

    def repository(self, port: type[R]) -> R:
        """This transaction's repository implementing ``port`` (the same object for the whole
        transaction). Raises ``LookupError`` when no adapter of this unit of work's family
        implements ``port``, ``RuntimeError`` outside ``async with``."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...

"""The in-memory unit of work: serialisable transactions over a copied state."""

from __future__ import annotations

from types import TracebackType
from typing import Self, TypeVar

from adapters.memory.database import InMemoryDatabase, InMemoryState
from adapters.repository_registry import Repositories, RepositoryRegistry

R = TypeVar("R")

# Every in-memory repository, by the port it implements: ``@memory_repository(TagRepository)``
# on its class, which takes the transaction's state (adapters/repository_registry.py).
MEMORY_REPOSITORIES = RepositoryRegistry[InMemoryState](
    package="adapters.memory", decorator="memory_repository"
)
memory_repository = MEMORY_REPOSITORIES.implements


class InMemoryUnitOfWork:
    def __init__(self, database: InMemoryDatabase) -> None:
        self._database = database
        self._working: InMemoryState | None = None
        self._repositories: Repositories[InMemoryState] | None = None

    def repository(self, port: type[R]) -> R:
        if self._repositories is None:
            raise RuntimeError("uow.repository() outside 'async with uow'")
        return self._repositories.get(port)

    def _start(self, working: InMemoryState) -> None:
        """Repositories over ``working``, the transaction's own copy of the state."""
        self._working = working
        self._repositories = MEMORY_REPOSITORIES.over(working)

    async def __aenter__(self) -> Self:
        await self._database.lock.acquire()
        self._start(self._database.state.copy())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Whatever was not committed is dropped with the working copy: that is the rollback.
        self._working = None
        self._repositories = None
        self._database.lock.release()

    async def commit(self) -> None:
        if self._working is None:
            raise RuntimeError("commit() outside 'async with uow'")
        self._database.state = self._working
        self._database.commits += 1
        # Later writes in the same block start from the committed state, as in SQL.
        self._start(self._working.copy())

"""The in-memory unit of work: serialisable transactions over a copied state."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from adapters.memory.account_tokens import InMemoryAccountTokenRepository
from adapters.memory.database import InMemoryDatabase, InMemoryState
from adapters.memory.outbox import InMemoryOutbox
from adapters.memory.repositories import (
    InMemoryItemRepository,
    InMemoryRefreshTokenRepository,
    InMemoryUserRepository,
)


class InMemoryUnitOfWork:
    users: InMemoryUserRepository
    items: InMemoryItemRepository
    refresh_tokens: InMemoryRefreshTokenRepository
    outbox: InMemoryOutbox
    account_tokens: InMemoryAccountTokenRepository

    def __init__(self, database: InMemoryDatabase) -> None:
        self._database = database
        self._working: InMemoryState | None = None

    def _start(self, working: InMemoryState) -> None:
        """Every repository over ``working``, the transaction's own copy of the state."""
        self._working = working
        self.users = InMemoryUserRepository(working)
        self.items = InMemoryItemRepository(working)
        self.refresh_tokens = InMemoryRefreshTokenRepository(working)
        self.outbox = InMemoryOutbox(working)
        self.account_tokens = InMemoryAccountTokenRepository(working)

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
        self._database.lock.release()

    async def commit(self) -> None:
        if self._working is None:
            raise RuntimeError("commit() outside 'async with uow'")
        self._database.state = self._working
        self._database.commits += 1
        # Later writes in the same block start from the committed state, as in SQL.
        self._start(self._working.copy())

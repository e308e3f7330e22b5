"""The in-memory unit of work: serialisable transactions over a copied state."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Self

from adapters.memory.outbox import InMemoryOutbox
from adapters.memory.repositories import (
    InMemoryAccountTokenRepository,
    InMemoryItemRepository,
    InMemoryRefreshTokenRepository,
    InMemoryState,
    InMemoryUserRepository,
)


class InMemoryDatabase:
    """The shared store behind every ``InMemoryUnitOfWork`` of one test or process.

    One transaction at a time holds the lock, so transactions are serialisable, like the strictest
    level a real database offers; a transaction works on a copy that replaces the state on commit.
    """

    def __init__(self) -> None:
        self.state = InMemoryState()
        self.lock = asyncio.Lock()
        self.commits = 0


class InMemoryUnitOfWork:
    users: InMemoryUserRepository
    items: InMemoryItemRepository
    refresh_tokens: InMemoryRefreshTokenRepository
    outbox: InMemoryOutbox
    account_tokens: InMemoryAccountTokenRepository

    def __init__(self, database: InMemoryDatabase) -> None:
        self._database = database
        self._working: InMemoryState | None = None

    async def __aenter__(self) -> Self:
        await self._database.lock.acquire()
        self._working = self._database.state.copy()
        self.users = InMemoryUserRepository(self._working)
        self.items = InMemoryItemRepository(self._working)
        self.refresh_tokens = InMemoryRefreshTokenRepository(self._working)
        self.outbox = InMemoryOutbox(self._working)
        self.account_tokens = InMemoryAccountTokenRepository(self._working)
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
        self._working = self._working.copy()
        self.users = InMemoryUserRepository(self._working)
        self.items = InMemoryItemRepository(self._working)
        self.refresh_tokens = InMemoryRefreshTokenRepository(self._working)
        self.outbox = InMemoryOutbox(self._working)
        self.account_tokens = InMemoryAccountTokenRepository(self._working)

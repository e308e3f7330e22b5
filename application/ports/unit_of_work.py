"""The unit of work: one transaction, and the repositories that work inside it."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from application.ports.account_tokens import AccountTokenRepository
from application.ports.outbox import Outbox
from application.ports.refresh_tokens import RefreshTokenRepository
from application.ports.repositories import ItemRepository, UserRepository


class UnitOfWork(Protocol):
    """``async with uow:`` opens a transaction; leaving the block without ``commit()`` (or with
    an exception) rolls it back. One instance serves one transaction at a time."""

    # Read-only properties, so that a unit of work whose attributes are concrete repositories
    # (InMemoryUserRepository, ...) satisfies the protocol; a mutable attribute would be invariant.
    @property
    def users(self) -> UserRepository: ...

    @property
    def items(self) -> ItemRepository: ...

    @property
    def refresh_tokens(self) -> RefreshTokenRepository: ...

    @property
    def account_tokens(self) -> AccountTokenRepository: ...

    @property
    def outbox(self) -> Outbox:
        """Events to deliver once this transaction has committed (see DeliverOutboxMessages)."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...

"""The in-memory store: what the in-memory units of work commit and the in-memory queries read."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from application.pagination import HasId, PageRequest
from application.ports import StoredRefreshToken
from application.ports.outbox import OutboxMessage
from domain.item import Item
from domain.user import User

T = TypeVar("T", bound=HasId)


@dataclass
class InMemoryState:
    """Everything the in-memory database holds; copied per transaction.

    A new aggregate needs no field here: its adapters keep their rows in ``table(name)`` and
    take ids from ``next_id(name)``.
    """

    users: dict[int, User] = field(default_factory=dict)
    items: dict[int, Item] = field(default_factory=dict)
    refresh_tokens: dict[str, StoredRefreshToken] = field(default_factory=dict)
    last_user_id: int = 0
    last_item_id: int = 0
    outbox: dict[int, OutboxMessage] = field(default_factory=dict)
    last_outbox_id: int = 0
    tables: dict[str, dict[Any, Any]] = field(default_factory=dict)
    last_ids: dict[str, int] = field(default_factory=dict)

    def table(self, name: str) -> dict[Any, Any]:
        return self.tables.setdefault(name, {})

    def next_id(self, name: str) -> int:
        """Ids are never reused, like a database sequence."""
        self.last_ids[name] = self.last_ids.get(name, 0) + 1
        return self.last_ids[name]

    def copy(self) -> InMemoryState:
        return replace(
            self,
            users=dict(self.users),
            items=dict(self.items),
            refresh_tokens=dict(self.refresh_tokens),
            outbox=dict(self.outbox),
            tables={name: dict(rows) for name, rows in self.tables.items()},
            last_ids=dict(self.last_ids),
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


def keyset_page(rows: Iterable[T], page: PageRequest) -> Sequence[T]:
    """What a keyset page of ``rows`` holds: ids above ``page.after_id``, ascending, at most
    ``page.fetch_size``."""
    after = page.after_id or 0
    return sorted((r for r in rows if r.id > after), key=lambda r: r.id)[: page.fetch_size]

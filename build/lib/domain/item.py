"""The item entity: something a user owns."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 2000


@dataclass(frozen=True, slots=True)
class NewItem:
    """An item about to be stored: everything but the id the store assigns."""

    title: str
    description: str | None
    owner_id: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Item:
    """A stored item."""

    id: int
    title: str
    description: str | None
    owner_id: int
    created_at: datetime

    def is_owned_by(self, user_id: int) -> bool:
        return self.owner_id == user_id

    def with_changes(self, *, title: str, description: str | None) -> Item:
        return replace(self, title=title, description=description)

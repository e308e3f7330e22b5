"""Repository ports: what the write side reads and changes inside a unit of work (reads that
serve screens are query ports, queries.py). Repositories never commit: the unit of work does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

from application.ports.outbox import NewOutboxMessage
from domain.item import Item, NewItem
from domain.user import NewUser, User


class OwnerNotFound(LookupError):
    """No user has the owner id a new row names (checked by the store itself: the database's
    foreign key, not a read before the write)."""


class UserRepository(Protocol):
    async def add(self, user: NewUser) -> User:
        """Store a new user. Raises ``UserAlreadyExists`` when the email or username is taken
        (compared case-insensitively)."""
        ...

    async def get(self, user_id: int) -> User | None: ...

    async def get_by_email(self, email: str) -> User | None:
        """Case-insensitive look-up."""
        ...

    async def get_by_username(self, username: str) -> User | None:
        """Case-insensitive look-up."""
        ...

    async def set_password_hash(self, user_id: int, hashed_password: str) -> None:
        """Replace a user's stored password hash (after a rehash with current parameters)."""
        ...

    async def set_active(self, user_id: int, *, active: bool) -> None:
        """Switch an existing user on or off; an unknown id changes nothing."""
        ...

    async def set_admin(self, user_id: int, *, admin: bool) -> None: ...

    async def set_email_verified(self, user_id: int, *, verified: bool) -> None: ...

    async def change_profile(
        self, user_id: int, *, username: str, email: str, email_verified: bool
    ) -> None:
        """Raises ``UserAlreadyExists`` when the new email or username belongs to another user."""
        ...

    async def revoke_credentials(self, user_id: int) -> None:
        """Bump the user's credentials version: every token issued before is refused."""
        ...

    async def lock_active_admins(self) -> Sequence[int]:
        """The ids of the active admins, locked until the transaction ends: of two transactions
        that each check "another admin is left" and then demote one, the second waits and sees
        the first's change."""
        ...

    async def delete(self, user_id: int) -> None:
        """Delete the user and everything they own (items, refresh and account tokens)."""
        ...


class ItemRepository(Protocol):
    async def add(self, item: NewItem, event: NewOutboxMessage | None = None) -> Item:
        """Store a new item. Raises ``OwnerNotFound`` when no user has its ``owner_id``.

        With ``event`` (an event about the new item, ``Events.of_new_item``), record it in the
        outbox with the item, in the same write: its payload gains the new item's id as
        ``item_id`` (``with_item_id``). On PostgreSQL the two rows are one statement
        (docs/decisions/0057)."""
        ...

    async def get(self, item_id: int) -> Item | None: ...

    async def update(self, item: Item) -> None:
        """Store the title and description of an existing item."""
        ...

    async def delete(self, item_id: int) -> None: ...


NEW_ITEM_ID = "item_id"  # the field of a new item's event that ``ItemRepository.add`` fills in


def with_item_id(event: NewOutboxMessage, item_id: int) -> NewOutboxMessage:
    """``event`` about a new item, its payload completed with the id the item was stored under."""
    return replace(event, payload={**event.payload, NEW_ITEM_ID: item_id})

"""Rows to domain dataclasses: the columns each entity is read with, in one order, for the
repositories (writes) and the queries (reads) alike."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, overload

from adapters.sqlalchemy.tables import items, users
from domain.item import Item
from domain.user import User

USER_COLUMNS = (
    users.c.id,
    users.c.email,
    users.c.username,
    users.c.hashed_password,
    users.c.is_active,
    users.c.created_at,
    users.c.email_verified,
    users.c.is_admin,
    users.c.credentials_version,
    users.c.mfa_enabled,
)
ITEM_COLUMNS = (
    items.c.id,
    items.c.title,
    items.c.description,
    items.c.owner_id,
    items.c.created_at,
)


@overload
def utc(moment: datetime) -> datetime: ...


@overload
def utc(moment: None) -> None: ...


def utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every one we stored was UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


# By position, in the order of USER_COLUMNS / ITEM_COLUMNS: a SQLAlchemy Row and an asyncpg
# Record both index that way.
def user_from_row(row: Sequence[Any]) -> User:
    return User(
        id=row[0],
        email=row[1],
        username=row[2],
        hashed_password=row[3],
        is_active=row[4],
        created_at=utc(row[5]),
        email_verified=row[6],
        is_admin=row[7],
        credentials_version=row[8],
        mfa_enabled=row[9],
    )


def item_from_row(row: Sequence[Any]) -> Item:
    # Positional (id, title, description, owner_id, created_at): a page builds up to 100 of
    # these, and keyword arguments cost a third more.
    return Item(row[0], row[1], row[2], row[3], utc(row[4]))

"""Repositories as Core statements on the unit of work's connection, rows mapped to dataclasses.

The statements are built once, at import, with named bind parameters: building a ``select`` and
its ``WHERE`` per call, and generating its cache key, cost more CPU than the query's round trip
(docs/decisions/0027). A prebuilt statement memoises its cache key, so each execution goes
straight to the compiled-statement cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sqlalchemy.errors import translate_integrity_error
from adapters.sqlalchemy.readers import ConnectionReader, Reader
from adapters.sqlalchemy.tables import items, users
from application.pagination import PageRequest
from domain.item import Item, NewItem
from domain.user import NewUser, User, email_key

_USER_COLUMNS = (
    users.c.id,
    users.c.email,
    users.c.username,
    users.c.hashed_password,
    users.c.is_active,
    users.c.created_at,
    users.c.email_verified,
    users.c.is_admin,
    users.c.credentials_version,
)
_ITEM_COLUMNS = (
    items.c.id,
    items.c.title,
    items.c.description,
    items.c.owner_id,
    items.c.created_at,
)


def _utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every one we stored was UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# By position, in the order of _USER_COLUMNS / _ITEM_COLUMNS: a SQLAlchemy Row and an
# asyncpg Record both index that way.
def _user(row: Sequence[Any]) -> User:
    return User(
        id=row[0],
        email=row[1],
        username=row[2],
        hashed_password=row[3],
        is_active=row[4],
        created_at=_utc(row[5]),
        email_verified=row[6],
        is_admin=row[7],
        credentials_version=row[8],
    )


def _item(row: Sequence[Any]) -> Item:
    return Item(
        id=row[0],
        title=row[1],
        description=row[2],
        owner_id=row[3],
        created_at=_utc(row[4]),
    )


class _Repository:
    """Reads through ``reader``; writes on ``connection``, which a read-only unit of work
    does not have."""

    def __init__(self, connection: AsyncConnection | None, reader: Reader | None = None) -> None:
        self._maybe_connection = connection
        if reader is None:
            if connection is None:
                raise ValueError("a repository needs a connection or a reader")
            reader = ConnectionReader(connection)
        self._reader = reader

    @property
    def _connection(self) -> AsyncConnection:
        if self._maybe_connection is None:
            raise RuntimeError("a write in a read-only unit of work")
        return self._maybe_connection


def _keyset(statement: Select[Any], id_column: Any) -> tuple[Select[Any], Select[Any]]:
    """The first page, and the page after ``:after_id``; both read ``:fetch_size`` rows."""
    first = statement.order_by(id_column).limit(bindparam("fetch_size"))
    after = statement.where(id_column > bindparam("after_id")).order_by(id_column)
    return first, after.limit(bindparam("fetch_size"))


def _page_statement(pages: tuple[Select[Any], Select[Any]], page: PageRequest) -> Select[Any]:
    return pages[0] if page.after_id is None else pages[1]


def _page_parameters(page: PageRequest, **parameters: Any) -> dict[str, Any]:
    return {"fetch_size": page.fetch_size, "after_id": page.after_id, **parameters}


_SELECT_USERS = select(*_USER_COLUMNS)
_USER_BY_ID = _SELECT_USERS.where(users.c.id == bindparam("user_id"))
_USER_BY_EMAIL_KEY = _SELECT_USERS.where(users.c.email_key == bindparam("email_key"))
_USER_BY_USERNAME = _SELECT_USERS.where(
    func.lower(users.c.username) == func.lower(bindparam("username"))
)
_USER_PAGES = _keyset(_SELECT_USERS, users.c.id)
_INSERT_USER = insert(users).returning(users.c.id)

_SELECT_ITEMS = select(*_ITEM_COLUMNS)
_ITEM_BY_ID = _SELECT_ITEMS.where(items.c.id == bindparam("item_id"))
_ITEM_PAGES = _keyset(_SELECT_ITEMS, items.c.id)
_OWNER_ITEM_PAGES = _keyset(
    _SELECT_ITEMS.where(items.c.owner_id == bindparam("owner_id")), items.c.id
)
_INSERT_ITEM = insert(items).returning(items.c.id)


class SqlAlchemyUserRepository(_Repository):
    async def add(self, user: NewUser) -> User:
        values = {
            "email": user.email,
            "email_key": email_key(user.email),
            "username": user.username,
            "hashed_password": user.hashed_password,
            "is_active": user.is_active,
            "created_at": user.created_at,
            "is_admin": user.is_admin,
            "email_verified": user.email_verified,
        }
        try:
            new_id = (await self._connection.execute(_INSERT_USER, values)).scalar_one()
        except IntegrityError as error:
            raise translate_integrity_error(error) from error
        return User(
            id=new_id,
            email=user.email,
            username=user.username,
            hashed_password=user.hashed_password,
            is_active=user.is_active,
            created_at=user.created_at,
            email_verified=user.email_verified,
            is_admin=user.is_admin,
        )

    async def get(self, user_id: int) -> User | None:
        return await self._one(_USER_BY_ID, {"user_id": user_id})

    async def get_by_email(self, email: str) -> User | None:
        return await self._one(_USER_BY_EMAIL_KEY, {"email_key": email_key(email)})

    async def get_by_username(self, username: str) -> User | None:
        return await self._one(_USER_BY_USERNAME, {"username": username})

    async def set_password_hash(self, user_id: int, hashed_password: str) -> None:
        await self._connection.execute(
            update(users).where(users.c.id == user_id).values(hashed_password=hashed_password)
        )

    async def list(self, page: PageRequest) -> Sequence[User]:
        rows = await self._reader.all(_page_statement(_USER_PAGES, page), _page_parameters(page))
        return [_user(row) for row in rows]

    async def set_active(self, user_id: int, *, active: bool) -> None:
        await self._connection.execute(
            update(users).where(users.c.id == user_id).values(is_active=active)
        )

    async def set_admin(self, user_id: int, *, admin: bool) -> None:
        await self._connection.execute(
            update(users).where(users.c.id == user_id).values(is_admin=admin)
        )

    async def set_email_verified(self, user_id: int, *, verified: bool) -> None:
        await self._connection.execute(
            update(users).where(users.c.id == user_id).values(email_verified=verified)
        )

    async def change_profile(
        self, user_id: int, *, username: str, email: str, email_verified: bool
    ) -> None:
        try:
            await self._connection.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(
                    username=username,
                    email=email,
                    email_key=email_key(email),
                    email_verified=email_verified,
                )
            )
        except IntegrityError as error:
            raise translate_integrity_error(error) from error

    async def revoke_credentials(self, user_id: int) -> None:
        await self._connection.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(credentials_version=users.c.credentials_version + 1)
        )

    async def lock_active_admins(self) -> Sequence[int]:
        # FOR UPDATE on PostgreSQL: two admins demoting each other at once are serialised here,
        # and the second, once the first committed, re-reads the rows and sees one admin left.
        # SQLite's writers are serialised already (BEGIN IMMEDIATE); it omits the clause.
        rows = await self._connection.execute(
            select(users.c.id)
            .where(users.c.is_admin, users.c.is_active)
            .order_by(users.c.id)
            .with_for_update()
        )
        return [row[0] for row in rows]

    async def delete(self, user_id: int) -> None:
        # Items, refresh tokens and account tokens go with it (ON DELETE CASCADE).
        await self._connection.execute(delete(users).where(users.c.id == user_id))

    async def _one(self, statement: Select[Any], parameters: dict[str, Any]) -> User | None:
        row = await self._reader.one(statement, parameters)
        return None if row is None else _user(row)


class SqlAlchemyItemRepository(_Repository):
    async def add(self, item: NewItem) -> Item:
        values = {
            "title": item.title,
            "description": item.description,
            "owner_id": item.owner_id,
            "created_at": item.created_at,
        }
        new_id = (await self._connection.execute(_INSERT_ITEM, values)).scalar_one()
        return Item(
            id=new_id,
            title=item.title,
            description=item.description,
            owner_id=item.owner_id,
            created_at=item.created_at,
        )

    async def get(self, item_id: int) -> Item | None:
        row = await self._reader.one(_ITEM_BY_ID, {"item_id": item_id})
        return None if row is None else _item(row)

    async def list(self, page: PageRequest) -> Sequence[Item]:
        rows = await self._reader.all(_page_statement(_ITEM_PAGES, page), _page_parameters(page))
        return [_item(row) for row in rows]

    async def list_by_owner(self, owner_id: int, page: PageRequest) -> Sequence[Item]:
        rows = await self._reader.all(
            _page_statement(_OWNER_ITEM_PAGES, page), _page_parameters(page, owner_id=owner_id)
        )
        return [_item(row) for row in rows]

    async def update(self, item: Item) -> None:
        await self._connection.execute(
            update(items)
            .where(items.c.id == item.id)
            .values(title=item.title, description=item.description)
        )

    async def delete(self, item_id: int) -> None:
        await self._connection.execute(delete(items).where(items.c.id == item_id))

"""Repositories as Core statements on the unit of work's connection, rows mapped to dataclasses."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sqlalchemy.errors import translate_integrity_error
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


def _user(row: Any) -> User:
    return User(
        id=row.id,
        email=row.email,
        username=row.username,
        hashed_password=row.hashed_password,
        is_active=row.is_active,
        created_at=_utc(row.created_at),
    )


def _item(row: Any) -> Item:
    return Item(
        id=row.id,
        title=row.title,
        description=row.description,
        owner_id=row.owner_id,
        created_at=_utc(row.created_at),
    )


def _keyset(statement: Select[Any], id_column: Any, page: PageRequest) -> Select[Any]:
    if page.after_id is not None:
        statement = statement.where(id_column > page.after_id)
    return statement.order_by(id_column).limit(page.fetch_size)


class SqlAlchemyUserRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, user: NewUser) -> User:
        statement = (
            insert(users)
            .values(
                email=user.email,
                email_key=email_key(user.email),
                username=user.username,
                hashed_password=user.hashed_password,
                is_active=user.is_active,
                created_at=user.created_at,
            )
            .returning(users.c.id)
        )
        try:
            new_id = (await self._connection.execute(statement)).scalar_one()
        except IntegrityError as error:
            raise translate_integrity_error(error) from error
        return User(
            id=new_id,
            email=user.email,
            username=user.username,
            hashed_password=user.hashed_password,
            is_active=user.is_active,
            created_at=user.created_at,
        )

    async def get(self, user_id: int) -> User | None:
        return await self._one(select(*_USER_COLUMNS).where(users.c.id == user_id))

    async def get_by_email(self, email: str) -> User | None:
        return await self._one(select(*_USER_COLUMNS).where(users.c.email_key == email_key(email)))

    async def get_by_username(self, username: str) -> User | None:
        return await self._one(
            select(*_USER_COLUMNS).where(func.lower(users.c.username) == func.lower(username))
        )

    async def set_password_hash(self, user_id: int, hashed_password: str) -> None:
        await self._connection.execute(
            update(users).where(users.c.id == user_id).values(hashed_password=hashed_password)
        )

    async def list(self, page: PageRequest) -> Sequence[User]:
        result = await self._connection.execute(_keyset(select(*_USER_COLUMNS), users.c.id, page))
        return [_user(row) for row in result]

    async def set_active(self, user_id: int, *, active: bool) -> None:
        await self._connection.execute(
            update(users).where(users.c.id == user_id).values(is_active=active)
        )

    async def _one(self, statement: Select[Any]) -> User | None:
        row = (await self._connection.execute(statement)).first()
        return None if row is None else _user(row)


class SqlAlchemyItemRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, item: NewItem) -> Item:
        statement = (
            insert(items)
            .values(
                title=item.title,
                description=item.description,
                owner_id=item.owner_id,
                created_at=item.created_at,
            )
            .returning(items.c.id)
        )
        new_id = (await self._connection.execute(statement)).scalar_one()
        return Item(
            id=new_id,
            title=item.title,
            description=item.description,
            owner_id=item.owner_id,
            created_at=item.created_at,
        )

    async def get(self, item_id: int) -> Item | None:
        row = (
            await self._connection.execute(select(*_ITEM_COLUMNS).where(items.c.id == item_id))
        ).first()
        return None if row is None else _item(row)

    async def list(self, page: PageRequest) -> Sequence[Item]:
        result = await self._connection.execute(_keyset(select(*_ITEM_COLUMNS), items.c.id, page))
        return [_item(row) for row in result]

    async def list_by_owner(self, owner_id: int, page: PageRequest) -> Sequence[Item]:
        statement = select(*_ITEM_COLUMNS).where(items.c.owner_id == owner_id)
        result = await self._connection.execute(_keyset(statement, items.c.id, page))
        return [_item(row) for row in result]

    async def update(self, item: Item) -> None:
        await self._connection.execute(
            update(items)
            .where(items.c.id == item.id)
            .values(title=item.title, description=item.description)
        )

    async def delete(self, item_id: int) -> None:
        await self._connection.execute(delete(items).where(items.c.id == item_id))

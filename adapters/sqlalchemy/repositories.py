"""The write side's repositories: Core statements on the unit of work's connection, rows mapped
to dataclasses. Reads that serve screens live in queries.py.

The statements are built once, at import, with named bind parameters: building a statement and
its cache key per call costs more CPU than the round trip (docs/decisions/0027).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, bindparam, cast, delete, func, insert, literal_column, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError

from adapters.sqlalchemy.database import SqlTransaction
from adapters.sqlalchemy.errors import is_foreign_key_violation, translate_integrity_error
from adapters.sqlalchemy.outbox import NEW_ROW_COLUMNS, SqlAlchemyOutbox, new_row, status_literal
from adapters.sqlalchemy.rows import ITEM_COLUMNS, USER_COLUMNS, item_from_row, user_from_row
from adapters.sqlalchemy.tables import items, outbox, users
from adapters.sqlalchemy.unit_of_work import sql_repository
from application.ports import NewOutboxMessage, OutboxStatus
from application.ports.repositories import (
    NEW_ITEM_ID,
    ItemRepository,
    OwnerNotFound,
    UserRepository,
    with_item_id,
)
from domain.item import Item, NewItem
from domain.user import NewUser, User, email_key

_USER_BY_ID = select(*USER_COLUMNS).where(users.c.id == bindparam("user_id"))
_USER_BY_EMAIL_KEY = select(*USER_COLUMNS).where(users.c.email_key == bindparam("email_key"))
_USER_BY_USERNAME = select(*USER_COLUMNS).where(
    func.lower(users.c.username) == func.lower(bindparam("username"))
)
_INSERT_USER = insert(users).returning(users.c.id)

_ITEM_BY_ID = select(*ITEM_COLUMNS).where(items.c.id == bindparam("item_id"))
# Named values: the same statement runs on the driver (decision 0053), which takes what it was
# compiled with, not the columns of a parameter dictionary as SQLAlchemy's execute does.
_INSERT_ITEM = (
    insert(items)
    .values(
        title=bindparam("title"),
        description=bindparam("description"),
        owner_id=bindparam("owner_id"),
        created_at=bindparam("created_at"),
    )
    .returning(items.c.id)
)


# ``item.created``'s data as the new items row holds it: each field and its column. The event
# ``Events.of_new_item`` makes for ``AddItemToUser`` holds exactly these (and the id the store
# gives it); ``_INSERT_ITEM_WITH_ITS_DATA`` has the server build it from the row (decision 0059).
_ITEM_DATA_COLUMNS = {
    "user_id": items.c.owner_id,
    "title": items.c.title,
    "description": items.c.description,
}


def item_data(item: NewItem | Item) -> dict[str, Any]:
    """``_ITEM_DATA_COLUMNS``'s fields, with ``item``'s values (its attributes are the columns'
    names)."""
    return {field: getattr(item, column.key) for field, column in _ITEM_DATA_COLUMNS.items()}


# The outbox row's values that the statements below send, by column (``_INSERT_ITEM_WITH_ITS_DATA``
# all but the payload). A new row is pending, never tried and due when it was recorded
# (``new_row``): the statements write those themselves.
_SENT_EVENT_COLUMNS: tuple[str, ...] = (
    "event_id",
    "event_type",
    "payload",
    "created_at",
    "destination",
    "ordering_key",
)
_SENT_WITH_ITS_DATA = tuple(name for name in _SENT_EVENT_COLUMNS if name != "payload")
_EVENT_PARAMETERS = {name: f"outbox_{name}" for name in _SENT_EVENT_COLUMNS}


def _insert_item_with_event(*, data_from_the_row: bool) -> Select[Any]:
    """PostgreSQL: the item and its outbox row in one statement (decision 0057):

        WITH new_item AS (INSERT INTO items ... RETURNING id, owner_id, title, description),
             new_event AS (INSERT INTO outbox (...) SELECT ..., <payload> FROM new_item)
        SELECT id FROM new_item

    A data-modifying WITH runs to completion whether or not the query reads it. The payload is
    the sent one completed with the new id (``payload || {item_id}``), or, ``data_from_the_row``,
    built by the server from the new row alone (``json_build_object``, decision 0059): the
    client then encodes no JSON. The other values are the ``outbox_``-prefixed names of
    ``_SENT_EVENT_COLUMNS``."""
    data = {**_ITEM_DATA_COLUMNS, NEW_ITEM_ID: items.c.id}
    new_item = _INSERT_ITEM.returning(*_ITEM_DATA_COLUMNS.values()).cte("new_item")
    sent = {
        name: bindparam(_EVENT_PARAMETERS[name], type_=outbox.c[name].type)
        for name in _SENT_EVENT_COLUMNS
    }
    if data_from_the_row:
        fields: list[tuple[Any, Any]] = [
            (literal_column(f"'{name}'"), new_item.c[column.key]) for name, column in data.items()
        ]
        payload: Any = func.json_build_object(
            *(part for pair in fields for part in pair), type_=outbox.c.payload.type
        )
    else:
        completed = cast(sent["payload"], JSONB).op("||", return_type=JSONB)(
            func.jsonb_build_object(literal_column(f"'{NEW_ITEM_ID}'"), new_item.c.id)
        )
        payload = cast(completed, outbox.c.payload.type)
    values = {
        **sent,
        "payload": payload,
        "status": status_literal(OutboxStatus.PENDING),
        "attempts": literal_column("0"),
        "available_at": sent["created_at"],
    }
    new_event = (
        insert(outbox)
        .from_select(
            NEW_ROW_COLUMNS,
            select(*(values[name] for name in NEW_ROW_COLUMNS)).select_from(new_item),
        )
        .cte("new_event")
    )
    return select(new_item.c.id).add_cte(new_event)


_INSERT_ITEM_WITH_EVENT = _insert_item_with_event(data_from_the_row=False)
_INSERT_ITEM_WITH_ITS_DATA = _insert_item_with_event(data_from_the_row=True)


@sql_repository(UserRepository)
class SqlAlchemyUserRepository:
    def __init__(self, transaction: SqlTransaction) -> None:
        self._connection = transaction.connection

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
        row = (await self._connection.execute(statement, parameters)).first()
        return None if row is None else user_from_row(row)


@sql_repository(ItemRepository)
class SqlAlchemyItemRepository:
    def __init__(self, transaction: SqlTransaction) -> None:
        self._transaction = transaction
        self._connection = transaction.connection
        self._statements = transaction.statements
        self._item_and_event_in_one_statement = self._connection.dialect.name == "postgresql"

    async def add(self, item: NewItem, event: NewOutboxMessage | None = None) -> Item:
        values = {
            "title": item.title,
            "description": item.description,
            "owner_id": item.owner_id,
            "created_at": item.created_at,
        }
        statement: Any = _INSERT_ITEM
        if event is not None and self._item_and_event_in_one_statement:
            statement = _INSERT_ITEM_WITH_EVENT
            sent = _SENT_EVENT_COLUMNS
            if event.payload == item_data(item):
                statement, sent = _INSERT_ITEM_WITH_ITS_DATA, _SENT_WITH_ITS_DATA
            event_row = new_row(event)
            values.update({_EVENT_PARAMETERS[name]: event_row[name] for name in sent})
        try:
            row = await self._statements.one(statement, values)
        except IntegrityError as error:
            if is_foreign_key_violation(error):
                raise OwnerNotFound(item.owner_id) from error
            raise
        assert row is not None  # noqa: S101 - INSERT ... RETURNING returns the row it wrote
        if event is not None and not self._item_and_event_in_one_statement:
            await SqlAlchemyOutbox(self._transaction).add(with_item_id(event, row[0]))
        return Item(
            id=row[0],
            title=item.title,
            description=item.description,
            owner_id=item.owner_id,
            created_at=item.created_at,
        )

    async def get(self, item_id: int) -> Item | None:
        row = (await self._connection.execute(_ITEM_BY_ID, {"item_id": item_id})).first()
        return None if row is None else item_from_row(row)

    async def update(self, item: Item) -> None:
        await self._connection.execute(
            update(items)
            .where(items.c.id == item.id)
            .values(title=item.title, description=item.description)
        )

    async def delete(self, item_id: int) -> None:
        await self._connection.execute(delete(items).where(items.c.id == item_id))

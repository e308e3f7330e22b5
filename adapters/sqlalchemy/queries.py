"""The read side on SQL: prebuilt ``SELECT`` statements (docs/decisions/0027) run through the
database's reader, rows mapped to the domain dataclasses. Every page is a keyset page."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, case, func, select

from adapters.sqlalchemy.database import SqlAlchemyDatabase
from adapters.sqlalchemy.rows import ITEM_COLUMNS, USER_COLUMNS, item_from_row, user_from_row, utc
from adapters.sqlalchemy.tables import items, refresh_tokens, users
from application.pagination import PageRequest
from application.ports import Session
from domain.item import Item
from domain.user import User


class KeysetPages:
    """The first page of ``statement`` and the page after ``:after_id``, by ascending id."""

    def __init__(self, statement: Select[Any], id_column: Any) -> None:
        self._first = statement.order_by(id_column).limit(bindparam("fetch_size"))
        after = statement.where(id_column > bindparam("after_id")).order_by(id_column)
        self._after = after.limit(bindparam("fetch_size"))

    def statement(self, page: PageRequest) -> Select[Any]:
        return self._first if page.after_id is None else self._after

    @staticmethod
    def parameters(page: PageRequest, **parameters: Any) -> dict[str, Any]:
        return {"fetch_size": page.fetch_size, "after_id": page.after_id, **parameters}


_USER_BY_ID = select(*USER_COLUMNS).where(users.c.id == bindparam("user_id"))
_USER_PAGES = KeysetPages(select(*USER_COLUMNS), users.c.id)

_ITEM_BY_ID = select(*ITEM_COLUMNS).where(items.c.id == bindparam("item_id"))
_ITEM_PAGES = KeysetPages(select(*ITEM_COLUMNS), items.c.id)
_OWNER_ITEM_PAGES = KeysetPages(
    select(*ITEM_COLUMNS).where(items.c.owner_id == bindparam("owner_id")), items.c.id
)


class SqlAlchemyUserQueries:
    def __init__(self, database: SqlAlchemyDatabase) -> None:
        self._database = database

    async def get(self, user_id: int) -> User | None:
        async with self._database.reader() as reader:
            row = await reader.one(_USER_BY_ID, {"user_id": user_id})
        return None if row is None else user_from_row(row)

    async def page(self, page: PageRequest) -> Sequence[User]:
        async with self._database.reader() as reader:
            rows = await reader.all(_USER_PAGES.statement(page), _USER_PAGES.parameters(page))
        return [user_from_row(row) for row in rows]


class SqlAlchemyItemQueries:
    def __init__(self, database: SqlAlchemyDatabase) -> None:
        self._database = database

    async def get(self, item_id: int) -> Item | None:
        async with self._database.reader() as reader:
            row = await reader.one(_ITEM_BY_ID, {"item_id": item_id})
        return None if row is None else item_from_row(row)

    async def page(self, page: PageRequest) -> Sequence[Item]:
        async with self._database.reader() as reader:
            rows = await reader.all(_ITEM_PAGES.statement(page), _ITEM_PAGES.parameters(page))
        return [item_from_row(row) for row in rows]

    async def page_of_owner(self, owner_id: int, page: PageRequest) -> Sequence[Item]:
        statement = _OWNER_ITEM_PAGES.statement(page)
        parameters = _OWNER_ITEM_PAGES.parameters(page, owner_id=owner_id)
        async with self._database.reader() as reader:
            rows = await reader.all(statement, parameters)
        return [item_from_row(row) for row in rows]


# A session is a refresh-token family holding a live token; named by its first token's id.
_SESSION_ID = func.min(refresh_tokens.c.id)
_LIVE = (
    refresh_tokens.c.spent_at.is_(None)
    & refresh_tokens.c.revoked_at.is_(None)
    & (refresh_tokens.c.expires_at > bindparam("now"))
)
_SESSIONS = (
    select(
        _SESSION_ID,
        refresh_tokens.c.family_id,
        func.min(refresh_tokens.c.issued_at),
        func.max(refresh_tokens.c.issued_at),
    )
    .where(refresh_tokens.c.user_id == bindparam("user_id"))
    .group_by(refresh_tokens.c.family_id)
)
# "Some token of the family is live", with no literal (the raw asyncpg reader takes named
# parameters only).
_HAS_LIVE_TOKEN = func.max(case((_LIVE, refresh_tokens.c.id))).is_not(None)
_FIRST_SESSIONS = _SESSIONS.having(_HAS_LIVE_TOKEN).order_by(_SESSION_ID)
_SESSIONS_AFTER = _SESSIONS.having(_HAS_LIVE_TOKEN, bindparam("after_id") < _SESSION_ID)
_FIRST_SESSION_PAGE = _FIRST_SESSIONS.limit(bindparam("fetch_size"))
_SESSION_PAGE_AFTER = _SESSIONS_AFTER.order_by(_SESSION_ID).limit(bindparam("fetch_size"))


class SqlAlchemySessionQueries:
    def __init__(self, database: SqlAlchemyDatabase) -> None:
        self._database = database

    async def page(self, user_id: int, now: datetime, page: PageRequest) -> Sequence[Session]:
        statement = _FIRST_SESSION_PAGE if page.after_id is None else _SESSION_PAGE_AFTER
        parameters = KeysetPages.parameters(page, user_id=user_id, now=now)
        async with self._database.reader() as reader:
            rows = await reader.all(statement, parameters)
        return [
            Session(id=row[0], family_id=row[1], created_at=utc(row[2]), last_used_at=utc(row[3]))
            for row in rows
        ]

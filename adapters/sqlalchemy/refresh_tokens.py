"""Refresh-token storage as Core statements on the unit of work's connection."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, insert, select, update

from adapters.sqlalchemy.database import SqlTransaction
from adapters.sqlalchemy.rows import utc
from adapters.sqlalchemy.tables import refresh_tokens
from adapters.sqlalchemy.unit_of_work import sql_repository
from application.ports import NewRefreshToken, RefreshTokenRepository, StoredRefreshToken

_COLUMNS = (
    refresh_tokens.c.token_hash,
    refresh_tokens.c.family_id,
    refresh_tokens.c.user_id,
    refresh_tokens.c.issued_at,
    refresh_tokens.c.expires_at,
    refresh_tokens.c.spent_at,
    refresh_tokens.c.revoked_at,
    refresh_tokens.c.authenticated_at,
    refresh_tokens.c.credentials_version,
    refresh_tokens.c.id,
    refresh_tokens.c.amr,
)


def _stored(row: Any) -> StoredRefreshToken:
    return StoredRefreshToken(
        token_hash=row.token_hash,
        family_id=row.family_id,
        user_id=row.user_id,
        issued_at=utc(row.issued_at),
        expires_at=utc(row.expires_at),
        spent_at=utc(row.spent_at),
        revoked_at=utc(row.revoked_at),
        authenticated_at=utc(row.authenticated_at),
        credentials_version=row.credentials_version,
        id=row.id,
        amr=tuple(row.amr.split()),
    )


@sql_repository(RefreshTokenRepository)
class SqlAlchemyRefreshTokenRepository:
    def __init__(self, transaction: SqlTransaction) -> None:
        self._connection = transaction.connection

    async def add(self, token: NewRefreshToken) -> None:
        await self._connection.execute(
            insert(refresh_tokens).values(
                token_hash=token.token_hash,
                family_id=token.family_id,
                user_id=token.user_id,
                issued_at=token.issued_at,
                expires_at=token.expires_at,
                authenticated_at=token.authenticated_at,
                credentials_version=token.credentials_version,
                amr=" ".join(token.amr),
            )
        )

    async def get(self, token_hash: str) -> StoredRefreshToken | None:
        row = (
            await self._connection.execute(
                select(*_COLUMNS).where(refresh_tokens.c.token_hash == token_hash)
            )
        ).first()
        return None if row is None else _stored(row)

    async def spend(self, token_hash: str, now: datetime) -> StoredRefreshToken | None:
        # The WHERE clause is the whole decision. On PostgreSQL a concurrent UPDATE of the same
        # row waits for the first to commit, then re-checks spent_at IS NULL and matches nothing;
        # on SQLite (BEGIN IMMEDIATE) the second transaction waits for the write lock and then
        # sees the committed spend. Either way the row count says who won.
        result = await self._connection.execute(
            update(refresh_tokens)
            .where(
                refresh_tokens.c.token_hash == token_hash,
                refresh_tokens.c.spent_at.is_(None),
                refresh_tokens.c.revoked_at.is_(None),
                refresh_tokens.c.expires_at > now,
            )
            .values(spent_at=now)
        )
        if result.rowcount != 1:
            return None
        return await self.get(token_hash)

    async def revoke_family(self, family_id: str, now: datetime) -> None:
        await self._revoke(refresh_tokens.c.family_id == family_id, now)

    async def revoke_all_for_user(self, user_id: int, now: datetime) -> None:
        await self._revoke(refresh_tokens.c.user_id == user_id, now)

    async def revoke_other_families(self, user_id: int, family_id: str, now: datetime) -> None:
        await self._revoke(
            (refresh_tokens.c.user_id == user_id) & (refresh_tokens.c.family_id != family_id), now
        )

    async def revoke_session(self, user_id: int, session_id: int, now: datetime) -> bool:
        first = refresh_tokens.alias("first")
        earlier = refresh_tokens.alias("earlier")
        # The family whose first token (none earlier in the family) is `session_id`.
        family_id = (
            await self._connection.execute(
                select(first.c.family_id).where(
                    first.c.id == session_id,
                    first.c.user_id == user_id,
                    ~exists().where(
                        earlier.c.family_id == first.c.family_id, earlier.c.id < first.c.id
                    ),
                )
            )
        ).scalar_one_or_none()
        if family_id is None:
            return False
        # Its live token, if any: the one that could still be refreshed.
        result = await self._connection.execute(
            update(refresh_tokens)
            .where(
                refresh_tokens.c.family_id == family_id,
                refresh_tokens.c.revoked_at.is_(None),
                refresh_tokens.c.spent_at.is_(None),
                refresh_tokens.c.expires_at > now,
            )
            .values(revoked_at=now)
        )
        return bool(result.rowcount)

    async def _revoke(self, chosen: ColumnElement[bool], now: datetime) -> None:
        await self._connection.execute(
            update(refresh_tokens)
            .where(chosen, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )

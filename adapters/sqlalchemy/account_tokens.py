"""Account-token storage as Core statements on the unit of work's connection."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, delete, insert, select, update

from adapters.sqlalchemy.database import SqlTransaction
from adapters.sqlalchemy.rows import utc
from adapters.sqlalchemy.tables import account_tokens
from adapters.sqlalchemy.unit_of_work import sql_repository
from application.ports.account_tokens import (
    AccountTokenKind,
    AccountTokenRepository,
    NewAccountToken,
    UsedAccountToken,
)


def _usable(token_hash: str, kind: AccountTokenKind, now: datetime) -> list[ColumnElement[bool]]:
    return [
        account_tokens.c.token_hash == token_hash,
        account_tokens.c.kind == kind.value,
        account_tokens.c.used_at.is_(None),
        account_tokens.c.expires_at > now,
    ]


@sql_repository(AccountTokenRepository)
class SqlAlchemyAccountTokenRepository:
    def __init__(self, transaction: SqlTransaction) -> None:
        self._connection = transaction.connection

    async def add(self, token: NewAccountToken) -> None:
        await self._connection.execute(
            insert(account_tokens).values(
                kind=token.kind.value,
                user_id=token.user_id,
                token_hash=token.token_hash,
                created_at=token.created_at,
                expires_at=token.expires_at,
            )
        )

    async def void(self, user_id: int, kind: AccountTokenKind) -> None:
        await self._connection.execute(
            delete(account_tokens).where(
                account_tokens.c.user_id == user_id, account_tokens.c.kind == kind.value
            )
        )

    async def find_usable(
        self, token_hash: str, kind: AccountTokenKind, now: datetime
    ) -> UsedAccountToken | None:
        row = (
            await self._connection.execute(
                select(account_tokens.c.user_id, account_tokens.c.created_at).where(
                    *_usable(token_hash, kind, now)
                )
            )
        ).first()
        return None if row is None else UsedAccountToken(user_id=row[0], created_at=utc(row[1]))

    async def use(
        self, token_hash: str, kind: AccountTokenKind, now: datetime
    ) -> UsedAccountToken | None:
        # Like a refresh-token spend: the WHERE clause decides, and of concurrent uses exactly
        # one updates the row (PostgreSQL re-checks used_at after the first commits; SQLite
        # serialises writers).
        result = await self._connection.execute(
            update(account_tokens)
            .where(*_usable(token_hash, kind, now))
            .values(used_at=now)
            .returning(account_tokens.c.user_id, account_tokens.c.created_at)
        )
        row = result.first()
        return None if row is None else UsedAccountToken(user_id=row[0], created_at=utc(row[1]))

"""The second factor's enrolments and recovery codes as Core statements on the unit of work's
connection. Each conditional write is one UPDATE whose WHERE clause decides and whose row
count says who won: on PostgreSQL a concurrent UPDATE of the row waits for the first to commit
and re-checks the clause; on SQLite writers are serialised (BEGIN IMMEDIATE)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, delete, func, insert, select, update

from adapters.sqlalchemy.database import SqlTransaction
from adapters.sqlalchemy.tables import mfa_recovery_codes, user_mfa, users
from adapters.sqlalchemy.unit_of_work import sql_repository
from application.ports.second_factor import MfaRepository, StoredMfa

_ENROLMENT = select(
    user_mfa.c.user_id,
    user_mfa.c.secret_ciphertext,
    user_mfa.c.enabled,
    user_mfa.c.last_step,
    user_mfa.c.generation,
).where(user_mfa.c.user_id == bindparam("user_id"))
_ACCEPT_STEP = (
    update(user_mfa)
    .where(
        user_mfa.c.user_id == bindparam("b_user_id"),
        user_mfa.c.enabled,
        user_mfa.c.last_step < bindparam("step"),
    )
    .values(last_step=bindparam("step"))
)
_ADVANCE_GENERATION = (
    update(user_mfa)
    .where(
        user_mfa.c.user_id == bindparam("b_user_id"),
        user_mfa.c.generation == bindparam("b_generation"),
    )
    .values(generation=user_mfa.c.generation + 1)
)
_USE_RECOVERY_CODE = (
    update(mfa_recovery_codes)
    .where(
        mfa_recovery_codes.c.user_id == bindparam("b_user_id"),
        mfa_recovery_codes.c.code_hash == bindparam("b_code_hash"),
        mfa_recovery_codes.c.used_at.is_(None),
    )
    .values(used_at=bindparam("b_now"))
)


@sql_repository(MfaRepository)
class SqlAlchemyMfaRepository:
    def __init__(self, transaction: SqlTransaction) -> None:
        self._connection = transaction.connection

    async def get(self, user_id: int) -> StoredMfa | None:
        row = (await self._connection.execute(_ENROLMENT, {"user_id": user_id})).first()
        if row is None:
            return None
        return StoredMfa(
            user_id=row[0],
            secret_ciphertext=row[1],
            enabled=bool(row[2]),
            last_step=row[3],
            generation=row[4],
        )

    async def start_enrolment(self, user_id: int, secret_ciphertext: str, now: datetime) -> None:
        # Replace a pending enrolment (never an enabled one: the use case checked in this
        # transaction). DELETE + INSERT is one portable upsert for one user's row.
        await self._connection.execute(
            delete(user_mfa).where(user_mfa.c.user_id == user_id, user_mfa.c.enabled.is_(False))
        )
        await self._connection.execute(
            insert(user_mfa).values(
                user_id=user_id, secret_ciphertext=secret_ciphertext, created_at=now
            )
        )

    async def enable(self, user_id: int, step: int, now: datetime) -> bool:
        result = await self._connection.execute(
            update(user_mfa)
            .where(user_mfa.c.user_id == user_id, user_mfa.c.enabled.is_(False))
            .values(enabled=True, last_step=step, enabled_at=now)
        )
        if result.rowcount != 1:
            return False
        await self._connection.execute(
            update(users).where(users.c.id == user_id).values(mfa_enabled=True)
        )
        return True

    async def disable(self, user_id: int) -> None:
        await self._connection.execute(
            delete(mfa_recovery_codes).where(mfa_recovery_codes.c.user_id == user_id)
        )
        await self._connection.execute(delete(user_mfa).where(user_mfa.c.user_id == user_id))
        await self._connection.execute(
            update(users).where(users.c.id == user_id).values(mfa_enabled=False)
        )

    async def accept_step(self, user_id: int, step: int) -> bool:
        result = await self._connection.execute(_ACCEPT_STEP, {"b_user_id": user_id, "step": step})
        return bool(result.rowcount == 1)

    async def advance_generation(self, user_id: int, generation: int) -> bool:
        result = await self._connection.execute(
            _ADVANCE_GENERATION, {"b_user_id": user_id, "b_generation": generation}
        )
        return bool(result.rowcount == 1)

    async def replace_recovery_codes(self, user_id: int, code_hashes: Sequence[str]) -> None:
        await self._connection.execute(
            delete(mfa_recovery_codes).where(mfa_recovery_codes.c.user_id == user_id)
        )
        await self._connection.execute(
            insert(mfa_recovery_codes),
            [{"user_id": user_id, "code_hash": code_hash} for code_hash in code_hashes],
        )

    async def use_recovery_code(self, user_id: int, code_hash: str, now: datetime) -> bool:
        result = await self._connection.execute(
            _USE_RECOVERY_CODE, {"b_user_id": user_id, "b_code_hash": code_hash, "b_now": now}
        )
        return bool(result.rowcount == 1)

    async def unused_recovery_codes(self, user_id: int) -> int:
        count = (
            await self._connection.execute(
                select(func.count()).where(
                    mfa_recovery_codes.c.user_id == user_id,
                    mfa_recovery_codes.c.used_at.is_(None),
                )
            )
        ).scalar_one()
        return int(count)

"""The second factor's enrolments and recovery codes, in the store's generic tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from adapters.memory.database import InMemoryState
from adapters.memory.unit_of_work import memory_repository
from application.ports.second_factor import MfaRepository, StoredMfa


@dataclass(frozen=True, slots=True)
class StoredRecoveryCode:
    user_id: int
    code_hash: str
    used_at: datetime | None


@memory_repository(MfaRepository)
class InMemoryMfaRepository:
    """Atomic conditional writes for free: the unit of work's lock serialises transactions."""

    def __init__(self, state: InMemoryState) -> None:
        self._state = state

    @property
    def _enrolments(self) -> dict[int, StoredMfa]:
        return self._state.table("user_mfa")

    @property
    def _codes(self) -> dict[int, StoredRecoveryCode]:
        return self._state.table("mfa_recovery_codes")

    async def get(self, user_id: int) -> StoredMfa | None:
        return self._enrolments.get(user_id)

    async def start_enrolment(self, user_id: int, secret_ciphertext: str, now: datetime) -> None:
        if user_id not in self._state.users:
            raise ValueError(f"no user {user_id}")  # what the foreign key says in SQL
        self._enrolments[user_id] = StoredMfa(
            user_id=user_id,
            secret_ciphertext=secret_ciphertext,
            enabled=False,
            last_step=-1,
            generation=0,
        )

    async def enable(self, user_id: int, step: int, now: datetime) -> bool:
        stored = self._enrolments.get(user_id)
        if stored is None or stored.enabled:
            return False
        self._enrolments[user_id] = replace(stored, enabled=True, last_step=step)
        self._set_flag(user_id, enabled=True)
        return True

    async def disable(self, user_id: int) -> None:
        self._enrolments.pop(user_id, None)
        for code_id in [i for i, code in self._codes.items() if code.user_id == user_id]:
            del self._codes[code_id]
        self._set_flag(user_id, enabled=False)

    async def accept_step(self, user_id: int, step: int) -> bool:
        stored = self._enrolments.get(user_id)
        if stored is None or not stored.enabled or stored.last_step >= step:
            return False
        self._enrolments[user_id] = replace(stored, last_step=step)
        return True

    async def advance_generation(self, user_id: int, generation: int) -> bool:
        stored = self._enrolments.get(user_id)
        if stored is None or stored.generation != generation:
            return False
        self._enrolments[user_id] = replace(stored, generation=generation + 1)
        return True

    async def replace_recovery_codes(self, user_id: int, code_hashes: Sequence[str]) -> None:
        for code_id in [i for i, code in self._codes.items() if code.user_id == user_id]:
            del self._codes[code_id]
        for code_hash in code_hashes:
            if any(code.code_hash == code_hash for code in self._codes.values()):
                raise ValueError("duplicate recovery code hash")  # the unique index in SQL
            self._codes[self._state.next_id("mfa_recovery_codes")] = StoredRecoveryCode(
                user_id=user_id, code_hash=code_hash, used_at=None
            )

    async def use_recovery_code(self, user_id: int, code_hash: str, now: datetime) -> bool:
        for code_id, code in self._codes.items():
            if code.user_id == user_id and code.code_hash == code_hash and code.used_at is None:
                self._codes[code_id] = replace(code, used_at=now)
                return True
        return False

    async def unused_recovery_codes(self, user_id: int) -> int:
        return sum(
            1 for code in self._codes.values() if code.user_id == user_id and code.used_at is None
        )

    def _set_flag(self, user_id: int, *, enabled: bool) -> None:
        if (user := self._state.users.get(user_id)) is not None:
            self._state.users[user_id] = replace(user, mfa_enabled=enabled)

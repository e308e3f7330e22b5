"""The argon2 adapter: parameters from settings, a bounded queue, rehash detection."""

from __future__ import annotations

import asyncio
import os

import pytest
from argon2 import extract_parameters

from adapters.argon2_hasher import Argon2PasswordHasher, default_hash_concurrency
from application.errors import PasswordHashingBusy
from entrypoints.settings import Settings


async def test_the_configured_parameters_are_in_the_hash() -> None:
    hasher = Argon2PasswordHasher(time_cost=2, memory_cost_kib=2048, parallelism=1)
    try:
        parameters = extract_parameters(await hasher.hash("correct horse"))
    finally:
        hasher.close()
    assert (parameters.time_cost, parameters.memory_cost, parameters.parallelism) == (2, 2048, 1)


async def test_a_hash_with_other_parameters_needs_a_rehash() -> None:
    old = Argon2PasswordHasher(time_cost=1, memory_cost_kib=1024, parallelism=1)
    new = Argon2PasswordHasher(time_cost=2, memory_cost_kib=1024, parallelism=1)
    try:
        old_hash = await old.hash("correct horse")
        assert new.needs_rehash(old_hash)
        assert not old.needs_rehash(old_hash)
        assert new.needs_rehash("not-an-argon2-hash")
    finally:
        old.close()
        new.close()


async def test_when_every_slot_stays_busy_past_the_queue_timeout_hashing_is_refused() -> None:
    # One slot, held by a hash at the default cost (tens of milliseconds at the very least);
    # the second request may wait a millisecond only.
    hasher = Argon2PasswordHasher(max_concurrency=1, queue_timeout_seconds=0.001)
    try:
        first = asyncio.ensure_future(hasher.hash("correct horse"))
        await asyncio.sleep(0)  # let the first one take the slot
        with pytest.raises(PasswordHashingBusy) as busy:
            await hasher.hash("another password")
        assert busy.value.retry_after_seconds >= 1
        assert (await first).startswith("$argon2id$")
        # The slot is free again.
        assert await hasher.verify(await hasher.hash("again"), "again")
    finally:
        hasher.close()


async def test_requests_within_the_queue_timeout_wait_for_a_slot() -> None:
    hasher = Argon2PasswordHasher(
        time_cost=1,
        memory_cost_kib=1024,
        parallelism=1,
        max_concurrency=1,
        queue_timeout_seconds=30,
    )
    try:
        hashes = await asyncio.gather(*(hasher.hash(f"password {n}") for n in range(8)))
    finally:
        hasher.close()
    assert len(set(hashes)) == 8


@pytest.mark.parametrize(("cpus", "expected"), [(None, 1), (1, 1), (2, 1), (8, 7)])
def test_hashing_leaves_a_core_to_the_event_loop_by_default(
    monkeypatch: pytest.MonkeyPatch, cpus: int | None, expected: int
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: cpus)
    assert default_hash_concurrency() == expected
    assert Settings(_env_file=None).password_hash_concurrency == expected

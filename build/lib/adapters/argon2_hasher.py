"""argon2id password hashing (argon2-cffi), run in a bounded thread pool off the event loop."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher as Argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

T = TypeVar("T")


class Argon2PasswordHasher:
    """argon2-cffi's defaults are RFC 9106's low-memory profile (t=3, m=64 MiB, p=4).

    Hashing is CPU- and memory-bound and releases the GIL, so it runs in a thread pool whose size
    bounds how many hashes (and how many 64 MiB buffers) exist at once; further requests queue.
    """

    def __init__(
        self,
        *,
        time_cost: int = 3,
        memory_cost_kib: int = 65536,
        parallelism: int = 4,
        max_concurrency: int | None = None,
    ) -> None:
        self._argon2 = Argon2(
            time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=parallelism
        )
        self._executor = ThreadPoolExecutor(
            max_workers=max_concurrency or os.cpu_count() or 1,
            thread_name_prefix="argon2",
        )
        # A hash of a random secret nobody knows, verified when a login names no user. Made on
        # first use, in the pool: constructing the hasher must not block the event loop.
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        return await self._run(self._argon2.hash, password)

    async def verify(self, hashed_password: str, password: str) -> bool:
        return await self._run(self._verify_sync, hashed_password, password)

    async def verify_dummy(self, password: str) -> None:
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash(secrets.token_hex(16))
        await self.verify(self._dummy_hash, password)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _verify_sync(self, hashed_password: str, password: str) -> bool:
        try:
            return self._argon2.verify(hashed_password, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def _run(self, func: Callable[..., T], *args: str) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, func, *args)

"""argon2id password hashing (argon2-cffi), run in a bounded thread pool off the event loop."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar, TypeVar

from argon2 import PasswordHasher as Argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.profiles import RFC_9106_LOW_MEMORY

from application.errors import ApplicationError, PasswordHashingBusy

T = TypeVar("T")

# argon2-cffi's own default: RFC 9106's low-memory profile (t=3, m=64 MiB, p=4).
DEFAULT_PARAMETERS = RFC_9106_LOW_MEMORY


def default_hash_concurrency() -> int:
    """One hash per CPU but one: the event loop keeps a core to itself, so a signup or login
    flood cannot starve every other request (measured in `make bench`, decision 0012)."""
    return max(1, (os.cpu_count() or 1) - 1)


class Argon2PasswordHasher:
    """argon2id with configurable cost, ``max_concurrency`` hashes at a time.

    Hashing is CPU- and memory-bound (each hash holds ``memory_cost_kib``) and releases the GIL,
    so it runs in a thread pool of ``max_concurrency`` threads. Admission is a semaphore of the
    same size: a request waits for a free slot at most ``queue_timeout_seconds``, then gets
    ``PasswordHashingBusy`` (503 + Retry-After) instead of queueing without bound. So a flood of
    signups holds at most ``max_concurrency`` argon2 buffers and never stalls the event loop.
    """

    raises: ClassVar[tuple[type[ApplicationError], ...]] = (PasswordHashingBusy,)

    def __init__(
        self,
        *,
        time_cost: int = DEFAULT_PARAMETERS.time_cost,
        memory_cost_kib: int = DEFAULT_PARAMETERS.memory_cost,
        parallelism: int = DEFAULT_PARAMETERS.parallelism,
        max_concurrency: int | None = None,
        queue_timeout_seconds: float = 2.0,
    ) -> None:
        self._argon2 = Argon2(
            time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=parallelism
        )
        self.max_concurrency = max_concurrency or default_hash_concurrency()
        self._executor = ThreadPoolExecutor(
            max_workers=self.max_concurrency, thread_name_prefix="argon2"
        )
        self._slots = asyncio.Semaphore(self.max_concurrency)
        self._queue_timeout_seconds = queue_timeout_seconds
        # A hash of a random secret nobody knows, verified when a login names no user. Made on
        # first use, in the pool: constructing the hasher must not block the event loop. It is
        # made with the current parameters, so it costs what a real user's verification costs.
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        return await self._run(self._argon2.hash, password)

    async def verify(self, hashed_password: str, password: str) -> bool:
        return await self._run(self._verify_sync, hashed_password, password)

    def needs_rehash(self, hashed_password: str) -> bool:
        try:
            return self._argon2.check_needs_rehash(hashed_password)
        except InvalidHashError:
            return True

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
        try:
            async with asyncio.timeout(self._queue_timeout_seconds):
                await self._slots.acquire()
        except TimeoutError:
            raise PasswordHashingBusy(retry_after_seconds=1) from None
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, func, *args)
        finally:
            self._slots.release()

"""Login throttling with the ``limits`` library (async API): in memory, or in Redis to share
the counts between every process of the service."""

from __future__ import annotations

import math
import time
from typing import ClassVar

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from application.errors import ApplicationError, LoginThrottled, LoginThrottleUnavailable


def storage_for(redis_url: str | None) -> Storage:
    """Redis (through coredis) when ``redis_url`` is set (``redis://``, ``rediss://``), else a
    per-process memory store."""
    if redis_url is None:
        return MemoryStorage()
    # wrap_exceptions: every driver error arrives as limits' StorageError, translated below.
    return RedisStorage(f"async+{redis_url.removeprefix('async+')}", wrap_exceptions=True)


class LimitsLoginThrottle:
    """Failed logins in a moving window: ``max_per_account`` per ``account_window_seconds`` for
    one account, ``max_per_address`` per ``address_window_seconds`` from one client address.

    ``check`` and ``record_failure`` are separate round trips, so N logins racing for the last
    free attempt may all get their verification: the overshoot is bounded by the concurrency of
    one attacker's requests (and each one still costs a full argon2 verification).

    When the storage (Redis) fails, logins fail closed: ``LoginThrottleUnavailable`` (503), never
    an unthrottled login.
    """

    raises: ClassVar[tuple[type[ApplicationError], ...]] = (
        LoginThrottled,
        LoginThrottleUnavailable,
    )

    def __init__(
        self,
        *,
        storage: Storage,
        key_prefix: str,
        max_per_account: int,
        account_window_seconds: int,
        max_per_address: int,
        address_window_seconds: int,
    ) -> None:
        self._limiter = MovingWindowRateLimiter(storage)
        self._per_account: RateLimitItem = RateLimitItemPerSecond(
            max_per_account, account_window_seconds, namespace=f"{key_prefix}/login-account"
        )
        self._per_address: RateLimitItem = RateLimitItemPerSecond(
            max_per_address, address_window_seconds, namespace=f"{key_prefix}/login-address"
        )

    async def check(self, account: str, address: str | None) -> None:
        try:
            await self._check(account, address)
        except StorageError as error:
            raise LoginThrottleUnavailable from error

    async def record_failure(self, account: str, address: str | None) -> None:
        try:
            await self._limiter.hit(self._per_account, account)
            if address is not None:
                await self._limiter.hit(self._per_address, address)
        except StorageError as error:
            raise LoginThrottleUnavailable from error

    async def record_success(self, account: str) -> None:
        try:
            await self._limiter.clear(self._per_account, account)
        except StorageError as error:
            raise LoginThrottleUnavailable from error

    async def _check(self, account: str, address: str | None) -> None:
        counts = [(self._per_account, account)]
        if address is not None:
            counts.append((self._per_address, address))
        waits = [
            await self._seconds_until_free(item, key)
            for item, key in counts
            if not await self._limiter.test(item, key)
        ]
        if waits:
            raise LoginThrottled(retry_after_seconds=max(waits))

    async def _seconds_until_free(self, item: RateLimitItem, key: str) -> int:
        stats = await self._limiter.get_window_stats(item, key)
        return max(1, math.ceil(stats.reset_time - time.time()))

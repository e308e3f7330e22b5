"""The throttle with the ``limits`` library (async API): in memory, or in Redis to share the
counts between every process of the service. Decisions 0011 and 0032."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from application.errors import ApplicationError, Throttled, ThrottleUnavailable
from application.ports import Count


class SafeMemoryStorage(MemoryStorage):
    """limits' memory storage, except that clearing a key empties its moving window in place.

    The library's expiry task lists the keys, then awaits between them; a key that ``clear``
    popped meanwhile made it fail with a ``KeyError`` ("Task exception was never retrieved" in
    the log) after a successful login had released its count. An emptied window is removed by
    that task itself on its next pass.
    """

    async def clear(self, key: str) -> None:
        if key in self.events:
            self.events[key] = []
        self.storage.pop(key, None)
        self.expirations.pop(key, None)


def storage_for(redis_url: str | None) -> Storage:
    """Redis (through coredis) when ``redis_url`` is set (``redis://``, ``rediss://``), else a
    per-process memory store."""
    if redis_url is None:
        return SafeMemoryStorage()
    # wrap_exceptions: every driver error arrives as limits' StorageError, translated below.
    return RedisStorage(f"async+{redis_url.removeprefix('async+')}", wrap_exceptions=True)


@dataclass(frozen=True, slots=True)
class Rate:
    """``amount`` units per ``window_seconds`` (a moving window)."""

    amount: int
    window_seconds: int


class LimitsThrottle:
    """Named limits (``rates``, by ``Limit.name``) in moving windows: exactly "N in the last W
    seconds", no burst at window edges.

    ``reserve`` takes each unit with the limiter's ``hit``, which is atomic in both storages (a
    Lua script in Redis; under a per-key lock in memory) and refuses once the window is full:
    of N simultaneous reservations of the last free unit, one wins. Before that, one ``test``
    per count refuses without taking anything when a count is already spent, so an attempt
    stopped by a wide count (the account ceiling) does not use up the narrower ones listed
    before it. Only two attempts racing for a count's last unit can leave a unit of an earlier
    count taken for nothing (it expires with its window).

    When the storage (Redis) fails: ``ThrottleUnavailable`` (503), never an unthrottled attempt.
    """

    raises: ClassVar[tuple[type[ApplicationError], ...]] = (Throttled, ThrottleUnavailable)

    def __init__(self, *, storage: Storage, key_prefix: str, rates: Mapping[str, Rate]) -> None:
        self._limiter = MovingWindowRateLimiter(storage)
        self._items: dict[str, RateLimitItem] = {
            name: RateLimitItemPerSecond(
                rate.amount, rate.window_seconds, namespace=f"{key_prefix}/{name}"
            )
            for name, rate in rates.items()
        }

    async def reserve(self, *counts: Count) -> None:
        resolved = [(self._items[count.limit.name], count) for count in counts]
        try:
            refused = None
            for item, count in resolved:
                if not await self._limiter.test(item, count.key):
                    refused = (item, count)
                    break
            else:
                for item, count in resolved:
                    if not await self._limiter.hit(item, count.key):
                        refused = (item, count)
                        break
            if refused is not None:
                wait = await self._seconds_until_free(*refused)
                raise Throttled(retry_after_seconds=wait, counts=refused[1].limit.counts)
        except StorageError as error:
            raise ThrottleUnavailable from error

    async def release(self, count: Count) -> None:
        try:
            await self._limiter.clear(self._items[count.limit.name], count.key)
        except StorageError as error:
            raise ThrottleUnavailable from error

    async def _seconds_until_free(self, item: RateLimitItem, count: Count) -> int:
        """Retry-After: the seconds until the oldest unit in the window leaves it."""
        stats = await self._limiter.get_window_stats(item, count.key)
        return max(1, math.ceil(stats.reset_time - time.time()))

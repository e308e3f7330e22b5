"""The throttle's memory storage survives a count released while the library expires windows."""

from __future__ import annotations

import asyncio

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from adapters.limits_throttle import SafeMemoryStorage, storage_for


async def _release_during_expiry(storage: MemoryStorage) -> BaseException | None:
    limiter = MovingWindowRateLimiter(storage)
    item = RateLimitItemPerSecond(5, 60)
    await limiter.hit(item, "first")
    await limiter.hit(item, "second")
    if storage.timer is not None:
        await asyncio.wait([storage.timer])  # the pass the hits started
    await limiter.hit(item, "first")  # starts the library's next expiry pass
    expiry = storage.timer
    assert expiry is not None
    await asyncio.sleep(0)  # that pass now awaits its thread on the first key
    await limiter.clear(item, "second")
    await asyncio.wait([expiry])
    return expiry.exception()


async def test_releasing_a_count_while_windows_expire_raises_nothing() -> None:
    assert await _release_during_expiry(SafeMemoryStorage()) is None


async def test_the_library_storage_alone_fails_there() -> None:
    """Why SafeMemoryStorage exists; if this starts passing, limits fixed it upstream."""
    assert isinstance(await _release_during_expiry(MemoryStorage()), KeyError)


def test_the_service_uses_the_safe_storage_without_redis() -> None:
    assert isinstance(storage_for(None), SafeMemoryStorage)

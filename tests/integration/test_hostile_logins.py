"""Login throttling against a real ``users-items serve`` and real concurrent clients,
with the counts in process memory and in Redis.

No timings: what is asserted is how many passwords were checked (the 401s) and how many
attempts were refused (the 429s).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.api.test_login_throttle import REDIS_URL, redis_available
from tests.support.service import RunningService, running_service

PAIR_LIMIT = 5  # LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS's default
PASSWORD = "correct horse battery"
# Hashing that takes a few milliseconds, as real hashing takes tens: long enough for a check
# and a count made as two steps to let simultaneous guesses through, and a queue that never
# times out (a 503 would hide how many passwords were checked).
HASHING = {
    "ARGON2_TIME_COST": "1",
    "ARGON2_MEMORY_COST_KIB": "8192",
    "ARGON2_PARALLELISM": "1",
    "PASSWORD_HASH_QUEUE_TIMEOUT_SECONDS": "120",
}


@pytest.fixture(params=["memory", "redis"])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningService]:
    """One serve process on SQLite; its throttle in memory or in Redis (a fresh key prefix)."""
    env = {**HASHING}
    prefix = f"users-items-test-{uuid.uuid4().hex}"
    if request.param == "redis":
        if not redis_available():
            if os.environ.get("REQUIRE_REDIS") == "1":
                pytest.fail(f"REQUIRE_REDIS=1 but no Redis at {REDIS_URL}")
            pytest.skip(f"no Redis at {REDIS_URL}")
        env |= {"REDIS_URL": REDIS_URL, "RATE_LIMIT_KEY_PREFIX": prefix}
    with running_service(tmp_path, env) as running:
        signup = httpx.post(
            f"{running.base_url}/users",
            json={"email": "ada@example.com", "username": "ada", "password": PASSWORD},
        )
        assert signup.status_code == 201, signup.text
        yield running
    if request.param == "redis":
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(match=f"*{prefix}*"):
            client.delete(key)


async def _logins(base_url: str, attempts: list[tuple[str, str]]) -> Counter[int]:
    """All at once, one connection each: (password, client address via X-Forwarded-For)."""
    limits = httpx.Limits(max_connections=len(attempts), max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:
        responses = await asyncio.gather(
            *(
                client.post(
                    "/auth/token",
                    data={"username": "ada", "password": password},
                    headers={"X-Forwarded-For": address},
                )
                for password, address in attempts
            )
        )
    for response in responses:
        assert response.headers["content-type"].startswith("application/problem+json") or (
            response.status_code == 200
        )
        if response.status_code == 429:
            assert int(response.headers["retry-after"]) >= 1
    return Counter(response.status_code for response in responses)


def test_200_simultaneous_wrong_logins_check_at_most_the_limits_worth(
    service: RunningService,
) -> None:
    statuses = asyncio.run(_logins(service.base_url, [("wrong horse", "203.0.113.5")] * 200))

    # Each 401 is a password checked; the rest were refused before any hashing.
    assert statuses == {401: PAIR_LIMIT, 429: 200 - PAIR_LIMIT}, statuses


def test_failures_from_one_address_never_lock_the_owner_out(service: RunningService) -> None:
    # 30 failures "from" one address, through the trusted loopback proxy.
    guesses = asyncio.run(_logins(service.base_url, [("wrong horse", "203.0.113.7")] * 30))
    assert guesses == {401: PAIR_LIMIT, 429: 30 - PAIR_LIMIT}, guesses

    # The owner, from another address, gets in; the guessing address stays shut out.
    owner = asyncio.run(_logins(service.base_url, [(PASSWORD, "198.51.100.8")]))
    assert owner == {200: 1}, owner
    guesser = asyncio.run(_logins(service.base_url, [(PASSWORD, "203.0.113.7")]))
    assert guesser == {429: 1}, guesser

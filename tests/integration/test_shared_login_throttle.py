"""Two ``users-items serve`` processes with one REDIS_URL share the login-failure count."""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
import redis

from tests.api.test_login_throttle import REDIS_URL, redis_available
from tests.support.service import running_service


@pytest.fixture
def serve_with_redis(tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Starts instances in ``tmp_path`` (one SQLite file) sharing Redis under a fresh prefix."""
    if not redis_available():
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"REQUIRE_REDIS=1 but no Redis at {REDIS_URL}")
        pytest.skip(f"no Redis at {REDIS_URL}")
    prefix = f"users-items-test-{uuid.uuid4().hex}"
    env = {
        "REDIS_URL": REDIS_URL,
        "RATE_LIMIT_KEY_PREFIX": prefix,
        # Cheap hashing: this test is about the shared count, not the cost.
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_COST_KIB": "1024",
        "ARGON2_PARALLELISM": "1",
    }
    instance_numbers = itertools.count(1)
    with ExitStack() as services:

        def start() -> str:
            name = f"serve-{next(instance_numbers)}.log"
            return services.enter_context(running_service(tmp_path, env, log_name=name)).base_url

        yield start
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"*{prefix}*"):
        client.delete(key)


def test_two_processes_share_one_failure_count(serve_with_redis: Callable[[], str]) -> None:
    first, second = serve_with_redis(), serve_with_redis()
    signup = httpx.post(
        f"{first}/users",
        json={"email": "ada@example.com", "username": "ada", "password": "correct horse"},
    )
    assert signup.status_code == 201, signup.text
    wrong = {"username": "ada", "password": "wrong horse"}

    statuses = [
        httpx.post(f"{instance}/auth/token", data=wrong).status_code
        for instance in (first, second, first, second, first)
    ]
    assert statuses == [401] * 5

    for instance in (second, first):
        throttled = httpx.post(f"{instance}/auth/token", data=wrong)
        assert throttled.status_code == 429, throttled.text
        assert int(throttled.headers["retry-after"]) >= 1


def test_two_processes_share_the_limits_on_account_emails(
    serve_with_redis: Callable[[], str],
) -> None:
    """Reset emails per address (5 an hour by default) and the current-password check (a
    failed login of the account) count in Redis like logins do."""
    first, second = serve_with_redis(), serve_with_redis()
    signup = httpx.post(
        f"{first}/users",
        json={"email": "ada@example.com", "username": "ada", "password": "correct horse"},
    )
    assert signup.status_code == 201, signup.text

    resets = [
        httpx.post(f"{instance}/auth/password-reset", json={"email": "ada@example.com"})
        for instance in (first, second, first, second, first, second)
    ]

    assert [r.status_code for r in resets] == [202] * 5 + [429]
    assert int(resets[-1].headers["retry-after"]) >= 1

    login = httpx.post(f"{first}/auth/token", data={"username": "ada", "password": "correct horse"})
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    wrong = {"current_password": "wrong horse", "new_password": "a brand new horse"}
    statuses = [
        httpx.post(f"{instance}/users/me/password", json=wrong, headers=headers).status_code
        for instance in (first, second, first, second, first)
    ]
    assert statuses == [403] * 5
    throttled = httpx.post(f"{second}/auth/token", data={"username": "ada", "password": "x"})
    assert throttled.status_code == 429, throttled.text

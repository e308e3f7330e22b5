"""Login throttling over HTTP: in memory (the default) and in Redis (shared between instances).

Redis is the real server on 127.0.0.1:6379 (REDIS_URL overrides); every test uses its own key
prefix, so parallel runs and leftovers never meet.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import redis
from dependency_injector import providers
from sqlalchemy.ext.asyncio import AsyncEngine

from application.login_attempts import LoginAttempts
from entrypoints.container import Container
from tests.api.helpers import PASSWORD, app_client, assert_problem, sign_up
from tests.conftest import build_container

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ACCOUNT_LIMIT = 5  # LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS's default (the test client's)


def redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def redis_url() -> str:
    if not redis_available():
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"REQUIRE_REDIS=1 but no Redis at {REDIS_URL}")
        pytest.skip(f"no Redis at {REDIS_URL}")
    return REDIS_URL


@pytest.fixture
def key_prefix() -> str:
    return f"users-items-test-{uuid.uuid4().hex}"


async def fail(client: httpx.AsyncClient, login: str = "ada") -> httpx.Response:
    return await client.post("/auth/token", data={"username": login, "password": "wrong horse"})


def assert_throttled(response: httpx.Response) -> None:
    body = assert_problem(response, 429)
    assert int(response.headers["retry-after"]) >= 1
    assert response.headers["cache-control"] == "no-store"
    assert "access_token" not in body


async def test_the_sixth_failed_login_is_429_with_retry_after(client: httpx.AsyncClient) -> None:
    await sign_up(client, "ada")
    for _ in range(ACCOUNT_LIMIT):
        assert_problem(await fail(client), 401)

    assert_throttled(await fail(client))
    # The right password does not get through either, and email names the same account.
    ok = {"username": "ada@example.com", "password": PASSWORD}
    assert_throttled(await client.post("/auth/token", data=ok))


async def test_a_successful_login_clears_the_count(client: httpx.AsyncClient) -> None:
    await sign_up(client, "ada")
    for _ in range(ACCOUNT_LIMIT - 1):
        assert_problem(await fail(client), 401)
    ok = await client.post("/auth/token", data={"username": "ada", "password": PASSWORD})
    assert ok.status_code == 200

    for _ in range(ACCOUNT_LIMIT):
        assert_problem(await fail(client), 401)
    assert_throttled(await fail(client))


async def test_an_unknown_account_is_throttled_like_a_known_one(
    client: httpx.AsyncClient,
) -> None:
    for _ in range(ACCOUNT_LIMIT):
        assert_problem(await fail(client, "nobody"), 401)

    assert_throttled(await fail(client, "nobody"))


async def test_the_address_limit_spans_accounts(
    database_url: str, clean_engine: AsyncEngine
) -> None:
    container = build_container(database_url, login_max_failures_per_address=3)
    container.engine.override(providers.Object(clean_engine))
    try:
        async with app_client(container) as client:
            for name in ("ann", "ben", "cid"):
                assert_problem(await fail(client, name), 401)
            assert_throttled(await fail(client, "dee"))
    finally:
        container.password_hasher().close()


# --- Redis: several instances share one count ------------------------------------------------


@pytest.fixture
async def redis_containers(
    database_url: str, clean_engine: AsyncEngine, redis_url: str, key_prefix: str
) -> AsyncIterator[tuple[Container, Container]]:
    """Two service instances' containers: the same database and Redis, separate memories."""
    pair = []
    for _ in range(2):
        container = build_container(
            database_url, redis_url=redis_url, rate_limit_key_prefix=key_prefix
        )
        container.engine.override(providers.Object(clean_engine))
        pair.append(container)
    yield pair[0], pair[1]
    for container in pair:
        container.password_hasher().close()
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"*{key_prefix}*"):
        client.delete(key)


async def test_in_redis_mode_the_sixth_failed_login_is_429(
    redis_containers: tuple[Container, Container],
) -> None:
    first, _ = redis_containers
    async with app_client(first) as client:
        await sign_up(client, "ada")
        for _ in range(ACCOUNT_LIMIT):
            assert_problem(await fail(client), 401)

        assert_throttled(await fail(client))


async def test_in_redis_mode_two_instances_share_the_count(
    redis_containers: tuple[Container, Container],
) -> None:
    first, second = redis_containers
    # The second instance's failures, counted through its own throttle (its own connection).
    async with app_client(first) as client:
        ada = await sign_up(client, "ada")
    attempts = LoginAttempts(second.throttle())
    for _ in range(ACCOUNT_LIMIT):  # failed logins: reserved and never given back
        await attempts.begin(f"user:{ada['id']}", "127.0.0.1")  # the ASGI client

    async with app_client(first) as client:
        assert_throttled(await fail(client))


async def test_in_redis_mode_the_counts_live_in_redis_under_the_prefix(
    redis_containers: tuple[Container, Container], redis_url: str, key_prefix: str
) -> None:
    first, _ = redis_containers
    async with app_client(first) as client:
        await fail(client, "nobody")

    keys = redis.Redis.from_url(redis_url).keys(f"*{key_prefix}*")
    assert keys


async def test_when_redis_is_down_logins_fail_closed_with_503(
    database_url: str, clean_engine: AsyncEngine, key_prefix: str
) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    container = build_container(
        database_url,
        redis_url=f"redis://127.0.0.1:{closed_port}/0",
        rate_limit_key_prefix=key_prefix,
    )
    container.engine.override(providers.Object(clean_engine))
    try:
        async with app_client(container) as client:
            await sign_up(client, "ada")
            ok = {"username": "ada", "password": PASSWORD}
            response = await client.post("/auth/token", data=ok)
    finally:
        container.password_hasher().close()

    assert_problem(response, 503)
    assert response.headers["retry-after"] == "1"
    assert "access_token" not in response.text

"""The real ``serve`` on PostgreSQL with a pool far smaller than the load: every request must
still succeed, the log must stay clean and the pool must hold no more connections than allowed.

A connection given back to an asyncio pool must be closed inside SQLAlchemy's greenlet when the
pool does not keep it (an overflow connection, an invalidated one); closing it anywhere else is
IO outside the greenlet, which fails, leaks the connection and logs a traceback per request.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from pathlib import Path

import asyncpg
import httpx
import pytest

from adapters.sqlalchemy.migrate import upgrade_to_head
from tests.support.postgres import database_on_server, to_asyncpg_url
from tests.support.service import running_service

pytestmark = pytest.mark.postgres

POOL_SIZE = 2
MAX_OVERFLOW = 1
CLIENTS = 40
SECONDS = 4.0
USERS = 4
PASSWORD = "correct horse battery"


async def _sign_up(client: httpx.AsyncClient, number: int) -> tuple[int, str]:
    created = await client.post(
        "/users",
        json={"email": f"u{number}@example.com", "username": f"user{number}", "password": PASSWORD},
    )
    assert created.status_code == 201, created.text
    login = {"username": f"user{number}", "password": PASSWORD}
    token = await client.post("/auth/token", data=login)
    assert token.status_code == 200, token.text
    return created.json()["id"], token.json()["access_token"]


async def _mixed_load(base_url: str) -> Counter[str]:
    """``CLIENTS`` clients for ``SECONDS``, each cycling through reads and a write."""
    outcomes: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
        accounts = [await _sign_up(client, number) for number in range(USERS)]
        deadline = asyncio.get_running_loop().time() + SECONDS

        async def one_client(number: int) -> None:
            user_id, token = accounts[number % USERS]
            headers = {"Authorization": f"Bearer {token}"}
            requests = itertools.cycle(
                [
                    ("GET", f"/users/{user_id}", None),
                    ("GET", f"/users/{user_id}/items?limit=20", None),
                    ("POST", f"/users/{user_id}/items", {"title": f"from client {number}"}),
                    ("GET", "/items?limit=5", None),
                    ("GET", "/users/me", None),
                ]
            )
            while asyncio.get_running_loop().time() < deadline:
                method, path, body = next(requests)
                response = await client.request(method, path, json=body, headers=headers)
                outcomes[f"{method} {response.status_code}"] += 1

        await asyncio.gather(*(one_client(number) for number in range(CLIENTS)))
    return outcomes


async def _service_connections(url: str) -> int:
    connection = await asyncpg.connect(to_asyncpg_url(url).replace("+asyncpg", ""))
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = 'users-items'"
        )
    finally:
        await connection.close()
    return count


def test_a_pool_of_two_plus_one_serves_forty_clients_without_errors_or_leaks(
    postgres_url: str, tmp_path: Path
) -> None:
    with database_on_server(postgres_url) as url:
        upgrade_to_head(url)
        env = {
            "DATABASE_URL": url,
            "DB_POOL_SIZE": str(POOL_SIZE),
            "DB_MAX_OVERFLOW": str(MAX_OVERFLOW),
            "LOG_LEVEL": "WARNING",
            # Cheap hashing: the signups and logins of the set-up must not meet the hash queue.
            "ARGON2_TIME_COST": "1",
            "ARGON2_MEMORY_COST_KIB": "1024",
            "ARGON2_PARALLELISM": "1",
        }
        with running_service(tmp_path, env) as service:
            outcomes = asyncio.run(_mixed_load(service.base_url))
            held = asyncio.run(_service_connections(url))
            log = service.log()

    failures = {k: n for k, n in outcomes.items() if not k.endswith((" 200", " 201"))}
    assert failures == {}, f"{failures} of {sum(outcomes.values())} requests failed"
    assert outcomes["POST 201"] > 0, outcomes
    assert outcomes["GET 200"] > 0, outcomes
    assert "Traceback" not in log, log[-4000:]
    assert "Exception closing connection" not in log, log[-4000:]
    assert "sqlalchemy.pool" not in log, log[-4000:]
    assert held <= POOL_SIZE + MAX_OVERFLOW, f"the service holds {held} connections"

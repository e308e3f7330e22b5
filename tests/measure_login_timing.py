"""Measure what a failed login costs: an unknown user vs a known user with a wrong password.

    .venv/bin/python -m tests.measure_login_timing [rounds]

The real app in process (httpx's ASGI transport) on a fresh SQLite file, with the DEFAULT argon2
parameters (RFC 9106 low-memory: t=3, m=64 MiB, p=4) and throttling limits raised out of the
way. Prints the median of ``rounds`` (default 50) logins of each kind, interleaved so that
machine load affects both alike. A measurement, not a test: nothing asserts a time.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from dependency_injector import providers

from adapters.argon2_hasher import DEFAULT_PARAMETERS
from adapters.sqlalchemy.migrate import upgrade_to_head
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.settings import Settings

PASSWORD = "correct horse battery"


async def _timed(client: httpx.AsyncClient, username: str) -> float:
    started = time.perf_counter()
    response = await client.post("/auth/token", data={"username": username, "password": "wrong"})
    elapsed = time.perf_counter() - started
    assert response.status_code == 401, response.text
    return elapsed


async def measure(rounds: int, database_url: str) -> tuple[list[float], list[float]]:
    container = Container()
    settings = Settings(
        database_url=database_url,
        environment="test",
        login_max_failures_per_account=10 * rounds,
        login_max_failures_per_address=10 * rounds,
    )
    container.settings.override(providers.Object(settings))
    app = create_app(container)
    transport = httpx.ASGITransport(app=app)
    unknown: list[float] = []
    known: list[float] = []
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://timing") as client:
            body = {"email": "ada@example.com", "username": "ada", "password": PASSWORD}
            assert (await client.post("/users", json=body)).status_code == 201
            await _timed(client, "nobody")  # warm-up: makes the dummy hash, fills the pool
            await _timed(client, "ada")
            for _ in range(rounds):
                unknown.append(await _timed(client, "nobody"))
                known.append(await _timed(client, "ada"))
    finally:
        await container.engine().dispose()
        container.password_hasher().close()
    return unknown, known


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    with tempfile.TemporaryDirectory() as directory:
        database_url = f"sqlite+aiosqlite:///{Path(directory) / 'timing.db'}"
        upgrade_to_head(database_url)
        unknown, known = asyncio.run(measure(rounds, database_url))
    p = DEFAULT_PARAMETERS
    print(f"argon2id t={p.time_cost} m={p.memory_cost} KiB p={p.parallelism}; {rounds} rounds each")
    for label, times in (("unknown user", unknown), ("known user, wrong password", known)):
        ms = sorted(t * 1000 for t in times)
        print(
            f"{label:28} median {statistics.median(ms):7.1f} ms"
            f"  (min {ms[0]:.1f}, max {ms[-1]:.1f})"
        )


if __name__ == "__main__":
    main()

"""Password hashing over HTTP: upgrade of old hashes at login, and the bounded hashing queue."""

from __future__ import annotations

import asyncio

import httpx
from argon2 import extract_parameters
from dependency_injector import providers
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.argon2_hasher import DEFAULT_PARAMETERS, Argon2PasswordHasher
from entrypoints.container import Container
from tests.api.helpers import PASSWORD, app_client, assert_problem, sign_up
from tests.conftest import build_container


async def stored_hash(container: Container, username: str) -> str:
    async with container.engine().connect() as connection:
        statement = text("SELECT hashed_password FROM users WHERE username = :name")
        return str((await connection.execute(statement, {"name": username})).scalar_one())


def with_default_hasher(
    database_url: str, engine: AsyncEngine, **hasher_options: float
) -> Container:
    """A container like production's: the default argon2 parameters, not the tests' cheap ones."""
    container = build_container(database_url)
    container.engine.override(providers.Object(engine))
    container.password_hasher.override(providers.Singleton(Argon2PasswordHasher, **hasher_options))
    return container


async def test_a_login_upgrades_a_hash_made_with_weaker_parameters(
    client: httpx.AsyncClient, container: Container, database_url: str
) -> None:
    await sign_up(client, "ada")  # hashed with the tests' cheap parameters (t=1, 1 MiB, p=1)
    weak = extract_parameters(await stored_hash(container, "ada"))
    assert weak.memory_cost < DEFAULT_PARAMETERS.memory_cost

    production = with_default_hasher(database_url, container.engine())
    try:
        async with app_client(production) as upgraded:
            ok = {"username": "ada", "password": PASSWORD}
            assert (await upgraded.post("/auth/token", data=ok)).status_code == 200
            upgraded_hash = await stored_hash(container, "ada")
            # ...and the new hash still logs in.
            assert (await upgraded.post("/auth/token", data=ok)).status_code == 200
    finally:
        production.password_hasher().close()

    parameters = extract_parameters(upgraded_hash)
    assert (parameters.time_cost, parameters.memory_cost, parameters.parallelism) == (
        DEFAULT_PARAMETERS.time_cost,
        DEFAULT_PARAMETERS.memory_cost,
        DEFAULT_PARAMETERS.parallelism,
    )


async def test_a_signup_flood_past_the_hashing_queue_gets_503_with_retry_after(
    database_url: str, clean_engine: AsyncEngine
) -> None:
    # One hashing slot at the default cost; a request may wait a millisecond for it.
    container = with_default_hasher(
        database_url, clean_engine, max_concurrency=1, queue_timeout_seconds=0.001
    )
    try:
        async with app_client(container) as client:
            signups = [
                client.post(
                    "/users",
                    json={
                        "email": f"u{n}@example.com",
                        "username": f"user{n}",
                        "password": PASSWORD,
                    },
                )
                for n in range(6)
            ]
            responses = await asyncio.gather(*signups)
            live = await client.get("/health/live")
    finally:
        container.password_hasher().close()

    statuses = sorted(response.status_code for response in responses)
    assert 201 in statuses
    assert 503 in statuses
    assert set(statuses) <= {201, 503}
    for response in responses:
        if response.status_code == 503:
            assert_problem(response, 503)
            assert int(response.headers["retry-after"]) >= 1
    assert live.status_code == 200

"""POST /auth/refresh and /auth/logout over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from entrypoints.container import Container
from tests.api.contract import BODY, Operation
from tests.api.helpers import PASSWORD, Account, assert_problem, bearer, error_fields

OPERATIONS = {
    ("post", "/auth/refresh"): Operation("refresh_access_token", BODY | {401, 503}),
    ("post", "/auth/logout"): Operation("log_out", BODY | {401, 503}, success=204),
}


async def token_pair(client: httpx.AsyncClient, login: str = "ada") -> dict[str, Any]:
    response = await client.post("/auth/token", data={"username": login, "password": PASSWORD})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post("/auth/refresh", json={"refresh_token": refresh_token})


async def log_out(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post("/auth/logout", json={"refresh_token": refresh_token})


async def test_login_returns_a_refresh_token(client: httpx.AsyncClient, ada: Account) -> None:
    body = await token_pair(client)

    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert isinstance(body["refresh_token"], str)
    assert len(body["refresh_token"]) >= 43  # 256 bits, base64url


async def test_the_database_holds_only_a_hash_of_the_refresh_token(
    client: httpx.AsyncClient, container: Container, ada: Account
) -> None:
    token = (await token_pair(client))["refresh_token"]

    async with container.engine().connect() as connection:
        rows = (await connection.execute(text("SELECT * FROM refresh_tokens"))).all()
    assert rows
    assert token not in repr(rows)


async def test_a_refresh_rotates_the_pair(client: httpx.AsyncClient, ada: Account) -> None:
    login = await token_pair(client)

    response = await refresh(client, login["refresh_token"])

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    renewed = response.json()
    assert set(renewed) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert renewed["refresh_token"] != login["refresh_token"]
    me = await client.get("/users/me", headers=bearer(renewed["access_token"]))
    assert me.json()["id"] == ada.id
    # The new refresh token works once in turn.
    assert (await refresh(client, renewed["refresh_token"])).status_code == 200


async def test_reusing_a_spent_refresh_token_revokes_the_family(
    client: httpx.AsyncClient, ada: Account
) -> None:
    login = await token_pair(client)
    other_session = await token_pair(client)
    renewed = (await refresh(client, login["refresh_token"])).json()

    assert_problem(await refresh(client, login["refresh_token"]), 401)  # reuse

    assert_problem(await refresh(client, renewed["refresh_token"]), 401)  # family revoked
    assert (await refresh(client, other_session["refresh_token"])).status_code == 200


async def test_concurrent_refreshes_with_one_token_let_exactly_one_succeed(
    client: httpx.AsyncClient, ada: Account
) -> None:
    login = await token_pair(client)

    responses = await asyncio.gather(*(refresh(client, login["refresh_token"]) for _ in range(5)))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 401, 401, 401, 401], [r.text for r in responses]


async def test_an_expired_refresh_token_is_401(
    client: httpx.AsyncClient, container: Container, ada: Account
) -> None:
    login = await token_pair(client)
    async with container.engine().begin() as connection:
        await connection.execute(
            text("UPDATE refresh_tokens SET expires_at = :past"),
            {"past": datetime.now(UTC) - timedelta(seconds=1)},
        )

    assert_problem(await refresh(client, login["refresh_token"]), 401)


async def test_logout_revokes_the_refresh_token(client: httpx.AsyncClient, ada: Account) -> None:
    login = await token_pair(client)

    response = await log_out(client, login["refresh_token"])

    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["cache-control"] == "no-store"
    assert_problem(await refresh(client, login["refresh_token"]), 401)
    assert_problem(await log_out(client, login["refresh_token"]), 401)


@pytest.mark.parametrize("path", ["/auth/refresh", "/auth/logout"])
async def test_an_unknown_refresh_token_is_401_with_no_store(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.post(path, json={"refresh_token": "never-issued"})

    assert_problem(response, 401)
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", ["/auth/refresh", "/auth/logout"])
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body.refresh_token"),
        ({"refresh_token": ""}, "body.refresh_token"),
        ({"refresh_token": "x" * 201}, "body.refresh_token"),
        ({"refresh_token": 7}, "body.refresh_token"),
        ({"refresh_token": "x", "user_id": 1}, "body.user_id"),
    ],
    ids=["missing", "empty", "too-long", "not-a-string", "unknown-field"],
)
async def test_a_bad_refresh_body_is_422(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], field: str
) -> None:
    response = await client.post(path, json=body)

    assert field in error_fields(assert_problem(response, 422))
    assert response.headers["cache-control"] == "no-store"


async def test_a_deactivated_users_refresh_token_is_401(
    client: httpx.AsyncClient, container: Container, ada: Account
) -> None:
    login = await token_pair(client)
    async with container.engine().begin() as connection:
        await connection.execute(text("UPDATE users SET is_active = false"))

    assert_problem(await refresh(client, login["refresh_token"]), 401)

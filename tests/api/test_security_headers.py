"""X-Content-Type-Options: nosniff on every response; Cache-Control: no-store on all of /auth."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from dependency_injector import providers

from entrypoints.container import Container
from tests.api.helpers import MIB_PLUS_ONE, PASSWORD, Account, app_client, sign_up


def assert_nosniff(response: httpx.Response) -> None:
    assert response.headers.get_list("x-content-type-options") == ["nosniff"], response.headers


def assert_no_store(response: httpx.Response) -> None:
    assert response.headers.get_list("cache-control") == ["no-store"], response.headers


async def _oversized() -> AsyncIterator[bytes]:
    for _ in range(20):  # chunked, no Content-Length: 20 x 64 KiB > 1 MiB
        yield b"x" * (64 * 1024)


AUTH_REQUESTS: list[tuple[str, str, dict[str, Any], int]] = [
    ("POST", "/auth/token", {"data": {"username": "ada", "password": PASSWORD}}, 200),
    ("POST", "/auth/token", {"data": {"username": "ada", "password": "wrong horse"}}, 401),
    ("POST", "/auth/token", {"data": {"username": "ada"}}, 422),
    ("POST", "/auth/token", {"content": b"x" * MIB_PLUS_ONE}, 413),
    ("GET", "/auth/token", {}, 405),
    ("POST", "/auth/refresh", {"json": {"refresh_token": "never-issued"}}, 401),
    ("POST", "/auth/refresh", {"json": {"refresh_token": "x", "admin": True}}, 422),
    ("POST", "/auth/logout", {"json": {"refresh_token": "never-issued"}}, 401),
    ("POST", "/auth/nothing-here", {}, 404),
]


@pytest.mark.parametrize(("method", "path", "request_args", "status"), AUTH_REQUESTS)
async def test_every_auth_response_is_no_store_and_nosniff(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    request_args: dict[str, Any],
    status: int,
) -> None:
    await sign_up(client, "ada")

    response = await client.request(method, path, **request_args)

    assert response.status_code == status, response.text
    assert_no_store(response)
    assert_nosniff(response)


async def test_a_chunked_oversized_auth_body_is_413_and_no_store(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/auth/refresh", content=_oversized(), headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert "content-length" not in response.request.headers
    assert_no_store(response)
    assert_nosniff(response)


async def test_refresh_and_logout_successes_are_no_store(
    client: httpx.AsyncClient, ada: Account
) -> None:
    login = await client.post("/auth/token", data={"username": "ada", "password": PASSWORD})
    token = login.json()["refresh_token"]
    refreshed = await client.post("/auth/refresh", json={"refresh_token": token})
    logged_out = await client.post(
        "/auth/logout", json={"refresh_token": refreshed.json()["refresh_token"]}
    )

    for response, status in ((login, 200), (refreshed, 200), (logged_out, 204)):
        assert response.status_code == status
        assert_no_store(response)


async def test_the_throttled_login_is_no_store(client: httpx.AsyncClient) -> None:
    for _ in range(6):
        response = await client.post(
            "/auth/token", data={"username": "nobody", "password": "wrong horse"}
        )

    assert response.status_code == 429
    assert_no_store(response)
    assert_nosniff(response)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/health/live", 200),
        ("GET", "/health/ready", 200),
        ("GET", "/openapi.json", 200),
        ("GET", "/docs", 200),
        ("GET", "/users/me", 200),
        ("GET", "/users/me", 401),
        ("GET", "/nothing-here", 404),
        ("DELETE", "/users", 405),
        ("GET", "/users?limit=0", 422),
    ],
)
async def test_every_response_is_nosniff(
    client: httpx.AsyncClient, ada: Account, method: str, path: str, status: int
) -> None:
    headers = {} if status == 401 else ada.headers

    response = await client.request(method, path, headers=headers)

    assert response.status_code == status
    assert_nosniff(response)
    assert "no-store" not in response.headers.get("cache-control", "")  # only /auth is no-store


class _Exploding:
    async def execute(self, *_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("boom")


@pytest.mark.parametrize(
    ("provider", "method", "path", "request_args"),
    [
        ("get_current_user", "GET", "/users/me", {"headers": {"Authorization": "Bearer x"}}),
        ("refresh_access_token", "POST", "/auth/refresh", {"json": {"refresh_token": "x"}}),
    ],
)
async def test_an_unexpected_500_carries_the_headers_too(
    container: Container, provider: str, method: str, path: str, request_args: dict[str, Any]
) -> None:
    getattr(container, provider).override(providers.Object(_Exploding()))
    async with app_client(container) as client:
        response = await client.request(method, path, **request_args)

    assert response.status_code == 500
    assert_nosniff(response)
    if path.startswith("/auth/"):
        assert_no_store(response)

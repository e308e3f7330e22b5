"""Liveness and readiness probes, and what an unreachable database looks like to clients."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.api.contract import Operation
from tests.api.helpers import PASSWORD, app_client, assert_problem, bearer, make_token
from tests.conftest import build_container

OPERATIONS = {
    ("get", "/health/live"): Operation("check_liveness", set()),
    ("get", "/health/ready"): Operation("check_readiness", {503}),
}

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/none"  # port 1 refuses connections


@pytest.fixture
async def unreachable() -> AsyncIterator[httpx.AsyncClient]:
    """The app over a database that refuses every connection."""
    container = build_container(UNREACHABLE)
    try:
        async with app_client(container) as client:
            yield client
    finally:
        await container.engine().dispose()
        container.password_hasher().close()


async def test_live(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


async def test_not_ready_without_a_database(unreachable: httpx.AsyncClient) -> None:
    body = assert_problem(await unreachable.get("/health/ready"), 503)
    assert "database" in body["detail"]
    live = await unreachable.get("/health/live")
    assert live.status_code == 200
    assert live.json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        (
            "POST",
            "/users",
            {"json": {"email": "ada@example.com", "username": "ada", "password": PASSWORD}},
        ),
        ("POST", "/auth/token", {"data": {"username": "ada", "password": PASSWORD}}),
        ("GET", "/users/me", {"headers": bearer(make_token(1))}),
        ("GET", "/items", {"headers": bearer(make_token(1))}),
    ],
)
async def test_requests_without_a_database_are_503_not_500(
    unreachable: httpx.AsyncClient, method: str, path: str, kwargs: dict[str, object]
) -> None:
    response = await unreachable.request(method, path, **kwargs)  # type: ignore[arg-type]
    body = assert_problem(response, 503)
    assert "127.0.0.1" not in response.text
    assert "Connect" not in body["detail"]

"""Errors the framework and the unexpected produce: unknown paths and methods, redirects, 500s."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from dependency_injector import providers

from entrypoints.container import Container
from tests.api.helpers import Account, account, add_item, app_client, assert_problem


@pytest.mark.parametrize(
    "path", ["/nope", "/users/1/nope", "/items/1/items", "/auth", "/health", "/user", "/"]
)
async def test_unknown_path_is_404_problem(
    client: httpx.AsyncClient, ada: Account, path: str
) -> None:
    assert_problem(await client.get(path, headers=ada.headers), 404)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/users", "GET, HEAD, POST"),
        ("PUT", "/users/1", "GET, HEAD"),
        ("PUT", "/users/me", "DELETE, GET, HEAD, PATCH"),
        ("GET", "/users/me/password", "POST"),
        ("POST", "/admin/users", "GET, HEAD"),
        ("POST", "/items", "GET, HEAD"),
        ("PUT", "/items/1", "DELETE, GET, HEAD, PATCH"),
        ("POST", "/items/1", "DELETE, GET, HEAD, PATCH"),
        ("PUT", "/users/1/items", "GET, HEAD, POST"),
        ("GET", "/auth/token", "POST"),
        ("POST", "/health/live", "GET, HEAD"),
        ("DELETE", "/health/ready", "GET, HEAD"),
    ],
)
async def test_wrong_method_is_405_problem_listing_every_allowed_method(
    client: httpx.AsyncClient, ada: Account, method: str, path: str, allowed: str
) -> None:
    response = await client.request(method, path, headers=ada.headers)
    assert_problem(response, 405)
    assert response.headers["allow"] == allowed


@pytest.mark.parametrize(
    ("method", "path", "canonical"),
    [
        ("GET", "/users/", "/users"),
        ("POST", "/users/", "/users"),
        ("GET", "/users/?limit=5", "/users?limit=5"),
        ("GET", "/items/", "/items"),
        ("GET", "/users/me/", "/users/me"),
        ("GET", "/health/live/", "/health/live"),
    ],
)
async def test_trailing_slash_redirects_to_the_canonical_path(
    client: httpx.AsyncClient, method: str, path: str, canonical: str
) -> None:
    response = await client.request(method, path)
    assert response.status_code in (307, 308), response.text
    location = httpx.URL(response.headers["location"])
    assert location.raw_path.decode() == canonical


async def test_redirected_sign_up_lands(client: httpx.AsyncClient) -> None:
    body = {"email": "ada@example.com", "username": "ada", "password": "long enough"}
    response = await client.post("/users/", json=body, follow_redirects=True)
    assert response.status_code == 201, response.text
    assert response.url.path == "/users"


class _Exploding:
    async def execute(self, *_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("boom SELECT secret FROM users")


@pytest.mark.parametrize("request_id", ["caller-id-123", None, "not sane!"])
async def test_an_unexpected_error_is_an_opaque_500_naming_the_request_id(
    container: Container, caplog: pytest.LogCaptureFixture, request_id: str | None
) -> None:
    container.get_item.override(providers.Object(_Exploding()))
    async with app_client(container) as client:
        ada = await account(client, "ada")
        item = await add_item(client, ada)
        headers = dict(ada.headers)
        if request_id is not None:
            headers["X-Request-ID"] = request_id
        response = await client.get(f"/items/{item['id']}", headers=headers)
        body = assert_problem(response, 500)
        for leak in ("boom", "SELECT", "secret", "Traceback", "RuntimeError"):
            assert leak not in response.text
        echoed = response.headers["x-request-id"]
        assert echoed in body["detail"]
        if request_id == "caller-id-123":
            assert echoed == request_id
        else:  # a fresh one
            assert echoed not in {"", "unknown", request_id}
        assert response.headers.get_list("x-request-id") == [echoed]
        logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert any(getattr(r, "request_id", None) == echoed for r in logged), logged
        # the app still serves afterwards
        assert (await client.get("/users/me", headers=ada.headers)).status_code == 200

"""Hostile input over HTTP: no amplification in a 422, HEAD wherever GET is, 415 for a
body in a media type the operation does not take."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from entrypoints.container import Container
from entrypoints.http.app import create_app
from tests.api.helpers import Account, assert_problem

MIB = 1024 * 1024


def _object_of_unknown_keys(size: int) -> bytes:
    """A JSON object of about ``size`` bytes, every key unknown to every schema."""
    keys = {f"k{index:07d}": 0 for index in range(size // 13)}
    body = json.dumps(keys, separators=(",", ":")).encode()
    assert size - 100 < len(body) <= size
    return body


async def test_a_1_mib_object_of_unknown_keys_gets_a_small_422(client: httpx.AsyncClient) -> None:
    body = _object_of_unknown_keys(MIB)

    response = await client.post(
        "/users", content=body, headers={"Content-Type": "application/json"}
    )

    problem = assert_problem(response, 422)
    assert len(problem["errors"]) == 20
    assert len(response.content) < 4096, len(response.content)
    # The known fields are still reported missing, then the unknown ones, all within 20.
    fields = [error["field"] for error in problem["errors"]]
    assert "body.email" in fields
    assert any(field.startswith("body.k") for field in fields)


async def test_a_422_never_lists_more_than_20_errors(client: httpx.AsyncClient) -> None:
    # Many errors that are not unknown keys: a query with every parameter wrong.
    body = {f"{'x' * 5000}{index}": index for index in range(40)}

    response = await client.post("/users", json=body)

    problem = assert_problem(response, 422)
    assert len(problem["errors"]) == 20
    assert all(len(error["field"]) <= 200 for error in problem["errors"])
    assert len(response.content) < 8192


async def test_a_few_unknown_keys_are_all_named(client: httpx.AsyncClient) -> None:
    body = {"email": "ada@example.com", "username": "ada", "password": "x" * 12, "is_admin": 1}

    response = await client.post("/users", json=body)

    problem = assert_problem(response, 422)
    assert [error["field"] for error in problem["errors"]] == ["body.is_admin"]


# --- HEAD -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/health/live", "/users/me", "/items", "/openapi.json"])
async def test_head_is_answered_wherever_get_is(
    client: httpx.AsyncClient, ada: Account, path: str
) -> None:
    got = await client.get(path, headers=ada.headers)
    head = await client.head(path, headers=ada.headers)

    assert got.status_code == 200
    assert head.status_code == 200, head.text
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-length"] == got.headers["content-length"]


async def test_head_of_a_protected_path_without_a_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.head("/users/me")

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.content == b""


async def test_head_where_there_is_no_get_is_405(client: httpx.AsyncClient) -> None:
    response = await client.head("/auth/token")

    assert response.status_code == 405
    assert "HEAD" not in response.headers["allow"]
    assert "POST" in response.headers["allow"]


# --- 415 ------------------------------------------------------------------------------------

JSON_BODY = b'{"title": "Bike"}'


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (JSON_BODY, "text/plain"),
        (b"<item><title>Bike</title></item>", "application/xml"),
        (b"<item/>", "text/xml"),
        (b"title=Bike", "application/x-www-form-urlencoded"),
        (JSON_BODY, None),
    ],
)
async def test_a_json_operation_refuses_other_media_types_with_415(
    client: httpx.AsyncClient, ada: Account, content: bytes, content_type: str | None
) -> None:
    headers = dict(ada.headers)
    if content_type is not None:
        headers["Content-Type"] = content_type

    response = await client.post(f"/users/{ada.id}/items", content=content, headers=headers)

    problem = assert_problem(response, 415)
    assert "application/json" in problem["detail"]


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "application/x+json"]
)
async def test_json_media_types_are_taken(
    client: httpx.AsyncClient, ada: Account, content_type: str
) -> None:
    response = await client.post(
        f"/users/{ada.id}/items",
        content=JSON_BODY,
        headers={**ada.headers, "Content-Type": content_type},
    )

    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/users", "text/plain"), ("/auth/refresh", "application/xml"), ("/auth/logout", "text/csv")],
)
async def test_every_json_operation_checks_the_media_type(
    client: httpx.AsyncClient, path: str, content_type: str
) -> None:
    response = await client.post(path, content=b"{}", headers={"Content-Type": content_type})

    assert_problem(response, 415)


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "application/xml"])
async def test_the_login_form_refuses_other_media_types_with_415(
    client: httpx.AsyncClient, content_type: str
) -> None:
    response = await client.post(
        "/auth/token",
        content=b'{"username": "ada", "password": "x"}',
        headers={"Content-Type": content_type},
    )

    problem = assert_problem(response, 415)
    assert "application/x-www-form-urlencoded" in problem["detail"]


async def test_the_login_form_takes_multipart(client: httpx.AsyncClient, ada: Account) -> None:
    fields: Any = {"username": (None, "ada"), "password": (None, "correct horse battery")}

    response = await client.post("/auth/token", files=fields)

    assert response.status_code == 200, response.text


async def test_the_schema_documents_413_and_415_on_every_body(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    with_body = [
        operation
        for item in schema["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "requestBody" in operation
    ]

    assert len(with_body) >= 6
    for operation in with_body:
        assert {"413", "415"} <= set(operation["responses"]), operation["operationId"]


# --- look-alike email addresses ---------------------------------------------------------------


async def _sign_up(client: httpx.AsyncClient, email: str, username: str) -> httpx.Response:
    body = {"email": email, "username": username, "password": "correct horse battery"}
    return await client.post("/users", json=body)


@pytest.mark.parametrize(
    "look_alike",
    [
        "p\u0430ypal@example.com",  # Cyrillic a
        "\uff50aypal@example.com",  # fullwidth p
    ],
)
async def test_a_local_part_outside_ascii_is_refused(
    client: httpx.AsyncClient, look_alike: str
) -> None:
    assert (await _sign_up(client, "paypal@example.com", "paypal")).status_code == 201

    problem = assert_problem(await _sign_up(client, look_alike, "paypal2"), 422)

    assert [error["field"] for error in problem["errors"]] == ["body.email"]


@pytest.mark.parametrize(
    "same_address",
    [
        "PayPal@EXAMPLE.com",
        "paypal@\uff45xample.com",  # fullwidth e
        "PAYPAL@" + "".join(chr(ord(c) + 0xFEE0) for c in "EXAMPLE") + ".com",  # fullwidth
    ],
)
async def test_addresses_equal_after_nfkc_and_case_folding_are_one_account(
    client: httpx.AsyncClient, same_address: str
) -> None:
    assert (await _sign_up(client, "paypal@example.com", "paypal")).status_code == 201

    problem = assert_problem(await _sign_up(client, same_address, "paypal2"), 409)

    assert [error["field"] for error in problem["errors"]] == ["email"]


async def test_an_internationalised_domain_is_stored_in_ascii_and_found_either_way(
    client: httpx.AsyncClient,
) -> None:
    created = await _sign_up(client, "Ada@Bücher.DE", "ada")
    assert created.status_code == 201, created.text
    assert created.json()["email"] == "Ada@xn--bcher-kva.de"

    assert_problem(await _sign_up(client, "ada@xn--BCHER-kva.de", "ada2"), 409)
    for login in ("ada@bücher.de", "ADA@XN--BCHER-KVA.DE", "\uff41da@b\u00fccher.de"):
        response = await client.post(
            "/auth/token", data={"username": login, "password": "correct horse battery"}
        )
        assert response.status_code == 200, (login, response.text)


def test_building_many_apps_wraps_each_route_once() -> None:
    """Route objects are shared by every app built in a process (tests build hundreds)."""
    apps = [create_app(Container()) for _ in range(3)]

    for app in apps:
        for route in app.router.routes:
            if isinstance(route, APIRoute) and route.body_field is not None:
                assert not isinstance(getattr(route.app, "app", None), type(route.app))

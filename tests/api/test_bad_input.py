"""Hostile or broken input: every case is a 4xx problem, never a 500, and writes nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from entrypoints.container import Container
from tests.api.helpers import PASSWORD, Account, add_item, assert_problem, error_fields

MIB = 1024 * 1024
BAD_IDS = ["0", "-1", "abc", "1.5", "99999999999999999999", str(2**63), "%00", "1e3"]
ID_PATHS = [
    ("GET", "/users/{id}", None, "path.user_id"),
    ("GET", "/users/{id}/items", None, "path.user_id"),
    ("POST", "/users/{id}/items", {"title": "New"}, "path.user_id"),
    ("GET", "/items/{id}", None, "path.item_id"),
    ("PATCH", "/items/{id}", {"title": "Changed"}, "path.item_id"),
    ("DELETE", "/items/{id}", None, "path.item_id"),
]
NEW_USER = {"email": "new@example.com", "username": "newbie", "password": PASSWORD}
BODY_ENDPOINTS = [
    ("POST", "/users", NEW_USER),
    ("POST", "/users/{ada}/items", {"title": "New", "description": "Fresh"}),
    ("PATCH", "/items/{item}", {"title": "Changed", "description": "Changed"}),
]


@pytest.fixture
async def seeded(client: httpx.AsyncClient, ada: Account) -> tuple[Account, dict[str, Any]]:
    """ada and one item of hers."""
    return ada, await add_item(client, ada, "Bike", description="Blue")


async def _snapshot(container: Container) -> tuple[list[Any], list[Any]]:
    """Every stored row: what "nothing written" compares."""
    async with container.engine().connect() as connection:
        users = await connection.execute(
            text("SELECT id, email, username, hashed_password, is_active FROM users ORDER BY id")
        )
        items = await connection.execute(
            text("SELECT id, title, description, owner_id FROM items ORDER BY id")
        )
        return [tuple(r) for r in users], [tuple(r) for r in items]


@asynccontextmanager
async def _writes_nothing(container: Container) -> AsyncIterator[None]:
    """The block leaves every stored row as it found it."""
    before = await _snapshot(container)
    yield
    assert await _snapshot(container) == before


def _url(path: str, ada: Account, item: dict[str, Any]) -> str:
    return path.format(ada=ada.id, item=item["id"])


def _assert_4xx_problem(response: httpx.Response) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, response.text
    return assert_problem(response, response.status_code)


@pytest.mark.parametrize("bad_id", BAD_IDS)
@pytest.mark.parametrize(("method", "path", "body", "field"), ID_PATHS)
async def test_bad_id_in_path_is_422(
    client: httpx.AsyncClient,
    container: Container,
    seeded: tuple[Account, dict[str, Any]],
    method: str,
    path: str,
    body: dict[str, str] | None,
    field: str,
    bad_id: str,
) -> None:
    ada, _ = seeded
    async with _writes_nothing(container):
        response = await client.request(
            method, path.format(id=bad_id), json=body, headers=ada.headers
        )
        assert field in error_fields(assert_problem(response, 422))


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/users", {**NEW_USER, "id": 99}),
        ("POST", "/users", {**NEW_USER, "is_active": False}),
        ("POST", "/users", {**NEW_USER, "hashed_password": "$argon2id$forged"}),
        ("POST", "/users", {**NEW_USER, "created_at": "2000-01-01T00:00:00Z"}),
        ("POST", "/users", {**NEW_USER, "owner_id": 1}),
        ("POST", "/users/{ada}/items", {"title": "New", "id": 99}),
        ("POST", "/users/{ada}/items", {"title": "New", "owner_id": 99}),
        ("POST", "/users/{ada}/items", {"title": "New", "created_at": "2000-01-01T00:00:00Z"}),
        ("POST", "/users/{ada}/items", {"title": "New", "is_active": False}),
        ("PATCH", "/items/{item}", {"title": "New", "id": 99}),
        ("PATCH", "/items/{item}", {"owner_id": 99}),
        ("PATCH", "/items/{item}", {"created_at": "2000-01-01T00:00:00Z"}),
    ],
)
async def test_unknown_body_field_is_422(
    client: httpx.AsyncClient,
    container: Container,
    seeded: tuple[Account, dict[str, Any]],
    method: str,
    path: str,
    body: dict[str, Any],
) -> None:
    ada, item = seeded
    async with _writes_nothing(container):
        response = await client.request(
            method, _url(path, ada, item), json=body, headers=ada.headers
        )
        extra = next(k for k in body if k not in {"email", "username", "password", "title"})
        assert f"body.{extra}" in error_fields(assert_problem(response, 422))


WRONG_TYPES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/users", {**NEW_USER, "email": []}),
    ("POST", "/users", {**NEW_USER, "email": 42}),
    ("POST", "/users", {**NEW_USER, "username": 12345}),
    ("POST", "/users", {**NEW_USER, "username": None}),
    ("POST", "/users", {**NEW_USER, "password": None}),
    ("POST", "/users", {**NEW_USER, "password": 123456789}),
    ("POST", "/users", {**NEW_USER, "password": {"a": 1}}),
    ("POST", "/users/{ada}/items", {"title": 123}),
    ("POST", "/users/{ada}/items", {"title": True}),
    ("POST", "/users/{ada}/items", {"title": ["Bike"]}),
    ("POST", "/users/{ada}/items", {"title": {"text": "Bike"}}),
    ("POST", "/users/{ada}/items", {"title": "Bike", "description": 5}),
    ("POST", "/users/{ada}/items", {"title": "Bike", "description": []}),
    ("PATCH", "/items/{item}", {"title": 123}),
    ("PATCH", "/items/{item}", {"description": False}),
]


@pytest.mark.parametrize(("method", "path", "body"), WRONG_TYPES)
async def test_wrong_type_is_422(
    client: httpx.AsyncClient,
    container: Container,
    seeded: tuple[Account, dict[str, Any]],
    method: str,
    path: str,
    body: dict[str, Any],
) -> None:
    ada, item = seeded
    async with _writes_nothing(container):
        response = await client.request(
            method, _url(path, ada, item), json=body, headers=ada.headers
        )
        assert_problem(response, 422)


RAW_BODIES = {
    "not-json": (b"this is not json", "application/json"),
    "json-array": (b'[{"title": "New"}]', "application/json"),
    "empty-array": (b"[]", "application/json"),
    "empty": (b"", "application/json"),
    "empty-no-type": (b"", None),
    "null": (b"null", "application/json"),
    "string": (b'"New"', "application/json"),
    "number": (b"42", "application/json"),
    "truncated": (b'{"title": "New"', "application/json"),
    "trailing-garbage": (b'{"title": "New"} x', "application/json"),
    "invalid-utf8": (b'{"title": "\xff\xfe"}', "application/json"),
    "nan": (b'{"title": NaN}', "application/json"),
    "huge-number": (b'{"title": 1e999}', "application/json"),
    "huge-integer": (b'{"title": ' + b"1" * 5000 + b"}", "application/json"),
    "deep-nesting": (b"[" * 100_000 + b"]" * 100_000, "application/json"),
    "form": (b"title=New&description=Fresh", "application/x-www-form-urlencoded"),
    "text-plain": (b'{"title": "New"}', "text/plain"),
}


@pytest.mark.parametrize("raw", RAW_BODIES)
@pytest.mark.parametrize(("method", "path", "_body"), BODY_ENDPOINTS)
async def test_malformed_body_is_4xx(
    client: httpx.AsyncClient,
    container: Container,
    seeded: tuple[Account, dict[str, Any]],
    method: str,
    path: str,
    _body: dict[str, Any],
    raw: str,
) -> None:
    ada, item = seeded
    content, content_type = RAW_BODIES[raw]
    headers = dict(ada.headers)
    if content_type is not None:
        headers["Content-Type"] = content_type
    async with _writes_nothing(container):
        response = await client.request(
            method, _url(path, ada, item), content=content, headers=headers
        )
        _assert_4xx_problem(response)


def _with(body: dict[str, Any], field: str, raw_value: str) -> bytes:
    """``body`` as JSON with ``field`` set to ``raw_value``, a JSON string literal as written."""
    marker = "\u2603MARKER\u2603"
    encoded = json.dumps({**body, field: marker})
    return encoded.replace(json.dumps(marker), raw_value).encode()


STRING_FIELDS = [
    ("POST", "/users", "email"),
    ("POST", "/users", "username"),
    ("POST", "/users", "password"),
    ("POST", "/users/{ada}/items", "title"),
    ("POST", "/users/{ada}/items", "description"),
    ("PATCH", "/items/{item}", "title"),
    ("PATCH", "/items/{item}", "description"),
]
UNSTORABLE = {
    "nul": '"Bi\\u0000ke@example.com"',
    "nul-alone": '"\\u0000"',
    "lone-high-surrogate": '"\\ud800"',
    "lone-low-surrogate": '"abc\\udc00def"',
    "reversed-pair": '"\\ude00\\ud83d"',
}


@pytest.mark.parametrize("value", UNSTORABLE)
@pytest.mark.parametrize(("method", "path", "field"), STRING_FIELDS)
async def test_unstorable_text_is_422(
    client: httpx.AsyncClient,
    container: Container,
    seeded: tuple[Account, dict[str, Any]],
    method: str,
    path: str,
    field: str,
    value: str,
) -> None:
    ada, item = seeded
    base = next(body for m, p, body in BODY_ENDPOINTS if (m, p) == (method, path))
    async with _writes_nothing(container):
        response = await client.request(
            method,
            _url(path, ada, item),
            content=_with(base, field, UNSTORABLE[value]),
            headers={**ada.headers, "Content-Type": "application/json"},
        )
        assert f"body.{field}" in error_fields(assert_problem(response, 422))


async def test_a_proper_surrogate_pair_is_stored(
    client: httpx.AsyncClient, seeded: tuple[Account, dict[str, Any]]
) -> None:
    ada, _ = seeded
    response = await client.post(
        f"/users/{ada.id}/items",
        content=b'{"title": "Snow \\ud83d\\ude00", "description": "caf\\u00e9"}',
        headers={**ada.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    assert (response.json()["title"], response.json()["description"]) == ("Snow 😀", "café")


@pytest.mark.parametrize(
    "form",
    [
        {"username": "ada\x00", "password": PASSWORD},
        {"username": "ada", "password": PASSWORD + "\x00"},
        {"username": "a" * 10_000, "password": PASSWORD},
    ],
    ids=["nul-username", "nul-password", "long-username"],
)
async def test_unusable_login_is_422(
    client: httpx.AsyncClient, seeded: tuple[Account, dict[str, Any]], form: dict[str, str]
) -> None:
    response = await client.post("/auth/token", data=form)
    assert_problem(response, 422)


@pytest.mark.parametrize(
    ("method", "path"),
    [*((m, p) for m, p, _ in BODY_ENDPOINTS), ("POST", "/auth/token")],
)
async def test_body_over_1_mib_is_413_before_parsing(
    client: httpx.AsyncClient,
    container: Container,
    seeded: tuple[Account, dict[str, Any]],
    method: str,
    path: str,
) -> None:
    ada, item = seeded
    async with _writes_nothing(container):
        content = json.dumps({"title": "x" * (10 * MIB)}).encode()
        response = await client.request(
            method,
            _url(path, ada, item),
            content=content,
            headers={**ada.headers, "Content-Type": "application/json"},
        )
        assert_problem(response, 413)


@pytest.mark.parametrize(("size", "status"), [(MIB, 422), (MIB + 1, 413)])
async def test_the_limit_is_exactly_1_mib(
    client: httpx.AsyncClient,
    container: Container,
    seeded: tuple[Account, dict[str, Any]],
    size: int,
    status: int,
) -> None:
    ada, _ = seeded
    prefix = b'{"title": "New", "description": "'
    content = prefix + b"d" * (size - len(prefix) - 2) + b'"}'
    assert len(content) == size
    async with _writes_nothing(container):
        response = await client.post(
            f"/users/{ada.id}/items",
            content=content,
            headers={**ada.headers, "Content-Type": "application/json"},
        )
        assert_problem(response, status)  # 422: under the limit it is parsed (and too long)


@pytest.mark.parametrize(("method", "path", "_body"), BODY_ENDPOINTS)
async def test_chunked_body_over_1_mib_is_413(
    client: httpx.AsyncClient,
    container: Container,
    seeded: tuple[Account, dict[str, Any]],
    method: str,
    path: str,
    _body: dict[str, Any],
) -> None:
    ada, item = seeded

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"title": "'
        for _ in range(40):  # 40 x 64 KiB = 2.5 MiB
            yield b"x" * (64 * 1024)
        yield b'"}'

    async with _writes_nothing(container):
        response = await client.request(
            method,
            _url(path, ada, item),
            content=chunks(),
            headers={**ada.headers, "Content-Type": "application/json"},
        )
        assert "content-length" not in response.request.headers
        assert_problem(response, 413)


async def test_chunked_body_under_the_limit_is_served(
    client: httpx.AsyncClient, seeded: tuple[Account, dict[str, Any]]
) -> None:
    ada, _ = seeded

    async def chunks() -> AsyncIterator[bytes]:
        for part in (b'{"title": ', b'"Chunked"', b"}"):
            yield part

    response = await client.post(
        f"/users/{ada.id}/items",
        content=chunks(),
        headers={**ada.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["title"] == "Chunked"


@pytest.mark.parametrize(
    "query",
    [
        "limit=%00",
        "limit=%ED%A0%80",
        "cursor=%ED%A0%80",
        "cursor=%00",
        "cursor=" + "A" * 5000,
        "limit=1&limit=abc",
    ],
)
async def test_hostile_query_is_422(
    client: httpx.AsyncClient, seeded: tuple[Account, dict[str, Any]], query: str
) -> None:
    ada, _ = seeded
    response = await client.get(f"/items?{query}", headers=ada.headers)
    assert_problem(response, 422)

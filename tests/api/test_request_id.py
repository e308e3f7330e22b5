"""X-Request-ID: a sane caller id is echoed, anything else is replaced by a fresh one."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.api.helpers import MIB_PLUS_ONE, Account, assert_problem

FRESH = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


@pytest.mark.parametrize(
    "request_id", ["a", "abc-123", "A.b_c-9", "x" * 128, "0123456789abcdef0123456789abcdef"]
)
async def test_a_sane_request_id_is_echoed(client: httpx.AsyncClient, request_id: str) -> None:
    response = await client.get("/health/live", headers={"X-Request-ID": request_id})
    assert response.headers.get_list("x-request-id") == [request_id]


@pytest.mark.parametrize(
    "request_id",
    ["x" * 129, "a" * 200, "has space", "semi;colon", "slash/es", 'quote"d', "tab\there", " "],
)
async def test_an_insane_request_id_is_replaced(client: httpx.AsyncClient, request_id: str) -> None:
    response = await client.get("/health/live", headers={"X-Request-ID": request_id})
    echoed = response.headers.get_list("x-request-id")
    assert len(echoed) == 1
    assert echoed[0] != request_id.strip()
    assert FRESH.match(echoed[0])


async def test_an_absent_request_id_is_made_fresh_each_time(client: httpx.AsyncClient) -> None:
    first = (await client.get("/health/live")).headers.get_list("x-request-id")
    second = (await client.get("/health/live")).headers.get_list("x-request-id")
    assert len(first) == len(second) == 1
    assert FRESH.match(first[0])
    assert FRESH.match(second[0])
    assert first != second


@pytest.mark.parametrize(
    ("status", "method", "path", "kwargs"),
    [
        (404, "GET", "/nope", {}),
        (405, "DELETE", "/users", {}),
        (401, "GET", "/users/me", {}),
        (422, "POST", "/users", {"json": {}}),
        (413, "POST", "/users", {"content": b"x" * MIB_PLUS_ONE}),
        (409, "POST", "/users", {"json": {"email": "ada@example.com", "username": "ada",
                                          "password": "long enough"}}),
    ],
)  # fmt: skip
@pytest.mark.parametrize("request_id", ["caller-7", None, "bad id"])
async def test_errors_carry_the_request_id(
    client: httpx.AsyncClient,
    ada: Account,
    status: int,
    method: str,
    path: str,
    kwargs: dict[str, object],
    request_id: str | None,
) -> None:
    headers = {} if request_id is None else {"X-Request-ID": request_id}
    response = await client.request(method, path, headers=headers, **kwargs)  # type: ignore[arg-type]
    assert_problem(response, status)
    echoed = response.headers.get_list("x-request-id")
    assert len(echoed) == 1
    assert FRESH.match(echoed[0])
    if request_id == "caller-7":
        assert echoed == [request_id]
    else:
        assert echoed != [request_id]

"""The authorization matrix: every bearer-protected operation x five callers.

Columns: no token, a garbage token, an expired token, another user's valid token, the owner's
valid token. Expected: 401, 401, 401, then 403 or 2xx, then 2xx.

Which operations are protected is not listed here: every operation the API tests declare
(tests/api/contract.py) that is not in ``PUBLIC`` is, and the schema must say so. The last two
columns need to know the operation: the test module that declares it must say what another user
and the owner get (``Callers``). So a new route is in the matrix with no edit here, and a new
public route is a deliberate edit of ``PUBLIC``.

"Another user" is bob; the resource belongs to ada: the path names ada's id, her item, her
session. Where the contract gives a resource no owner (the user list, public profiles, item
reads: every logged-in user may read them), bob's token is served (2xx) and the test checks
that he is shown nothing private: ``/users/me`` answers with bob's own account, a profile
carries no email; on ``/users/me/...`` bob acts on his own account. Writes to ada's collection
or items are 403; ada's session is unknown to him (404).
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.api.contract import HTTP_METHODS, Callers, declared_operations
from tests.api.helpers import (
    USER_PRIVATE_FIELDS,
    USER_PUBLIC_FIELDS,
    Account,
    add_item,
    assert_problem,
    bearer,
    make_token,
)

# The operations anyone may call without an access token. The /auth ones take none (the refresh
# token in the body is the credential; tests/api/test_refresh_tokens.py covers them).
PUBLIC = {
    ("post", "/users"),
    ("post", "/auth/token"),
    ("post", "/auth/token/mfa"),  # the mfa_token in the body is the credential
    ("post", "/auth/refresh"),
    ("post", "/auth/logout"),
    ("post", "/auth/verify-email"),
    ("post", "/auth/password-reset"),
    ("post", "/auth/password-reset/confirm"),
    ("get", "/health/live"),
    ("get", "/health/ready"),
    ("get", "/metrics"),
}
DECLARED = declared_operations()
PROTECTED = sorted(key for key in DECLARED if key not in PUBLIC)
WITH_CALLERS = sorted(
    ((key, callers) for key, op in DECLARED.items() if (callers := op.callers) is not None),
    key=lambda row: row[0],
)
BAD_CALLERS = ["no-token", "garbage", "expired"]
PATH_PARAMETER = re.compile(r"\{(\w+)\}")


def credentials(caller: str, ada: Account, bob: Account) -> dict[str, str]:
    return {
        "no-token": {},
        "garbage": bearer("garbage.not-a.jwt"),
        "expired": bearer(make_token(ada.id, lifetime=-3600)),
        "other-user": bob.headers,
        "owner": ada.headers,
    }[caller]


async def url_of(client: httpx.AsyncClient, path: str, ada: Account, item: dict[str, Any]) -> str:
    """The path with ada's resources: her id, her item, her session; any other id is 1."""
    values = {"user_id": ada.id, "item_id": item["id"]}
    if "{session_id}" in path:
        sessions = (await client.get("/users/me/sessions", headers=ada.headers)).json()
        values["session_id"] = sessions["items"][0]["id"]
    return PATH_PARAMETER.sub(lambda name: str(values.get(name[1], 1)), path)


def test_every_protected_operation_says_what_another_user_and_the_owner_get() -> None:
    assert [key for key in PROTECTED if DECLARED[key].callers is None] == []


async def test_the_schema_secures_exactly_the_operations_that_are_not_public(
    client: httpx.AsyncClient,
) -> None:
    schema = (await client.get("/openapi.json")).json()
    secured = {
        (method, path): bool(operation.get("security"))
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    }
    assert {key for key, is_secured in secured.items() if not is_secured} == PUBLIC
    assert all(secured[key] for key in PROTECTED)


@pytest.mark.parametrize("caller", BAD_CALLERS)
@pytest.mark.parametrize(("method", "path"), PROTECTED, ids=[f"{m} {p}" for m, p in PROTECTED])
async def test_a_protected_operation_refuses_a_caller_without_a_valid_token(
    client: httpx.AsyncClient, ada: Account, bob: Account, method: str, path: str, caller: str
) -> None:
    item = await add_item(client, ada, "Ada's")
    url = await url_of(client, path, ada, item)

    response = await client.request(method, url, headers=credentials(caller, ada, bob))

    assert_problem(response, 401)
    # Refused: ada's item is exactly as it was.
    assert (await client.get(f"/items/{item['id']}", headers=ada.headers)).json() == item


@pytest.mark.parametrize("caller", ["other-user", "owner"])
@pytest.mark.parametrize(
    ("operation", "callers"), WITH_CALLERS, ids=[f"{m} {p}" for (m, p), _ in WITH_CALLERS]
)
async def test_authorization_matrix(
    client: httpx.AsyncClient,
    ada: Account,
    bob: Account,
    operation: tuple[str, str],
    callers: Callers,
    caller: str,
) -> None:
    method, path = operation
    item = await add_item(client, ada, "Ada's")
    url = await url_of(client, path, ada, item)
    body = None if callers.body is None else dict(callers.body)

    response = await client.request(method, url, json=body, headers=credentials(caller, ada, bob))

    expected = callers.other_user if caller == "other-user" else callers.owner
    if expected >= 400:
        assert_problem(response, expected)
        # Refused: ada's item is exactly as it was.
        assert (await client.get(f"/items/{item['id']}", headers=ada.headers)).json() == item
        return
    assert response.status_code == expected, response.text
    if caller == "other-user":
        _assert_nothing_private_of_ada(response, url, ada, bob)


def _assert_nothing_private_of_ada(
    response: httpx.Response, url: str, ada: Account, bob: Account
) -> None:
    assert ada.email not in response.text
    if not response.content:
        return
    body = response.json()
    if url == "/users/me":
        assert body["id"] == bob.id
        assert set(body) == USER_PRIVATE_FIELDS
    elif url == f"/users/{ada.id}":
        assert set(body) == USER_PUBLIC_FIELDS
    elif url == "/users":
        assert all(set(user) == USER_PUBLIC_FIELDS for user in body["items"])

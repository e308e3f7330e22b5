"""The authorization matrix: every bearer-protected endpoint x five callers.

Columns: no token, a garbage token, an expired token, another user's valid token, the owner's
valid token. Expected: 401, 401, 401, then 403 or 2xx, then 2xx.

"Another user" is bob; the resource belongs to ada. Where the contract gives a resource no owner
(the user list, public profiles, item reads: every logged-in user may read them), bob's token is
served (2xx) and the test checks that he is shown nothing private: ``/users/me`` answers with
bob's own account, a profile carries no email. Writes to ada's collection or items are 403.
The /auth endpoints take no bearer token (the refresh token in the body is the credential) and
``POST /users`` is public, so they are not in this matrix; tests/api/test_refresh_tokens.py
covers them.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.helpers import (
    USER_PRIVATE_FIELDS,
    USER_PUBLIC_FIELDS,
    Account,
    add_item,
    assert_problem,
    bearer,
    make_token,
)

# method, path template, body, status for another user, status for the owner
MATRIX: list[tuple[str, str, dict[str, Any] | None, int, int]] = [
    ("GET", "/users", None, 200, 200),
    ("GET", "/users/me", None, 200, 200),
    ("GET", "/users/{ada}", None, 200, 200),
    ("POST", "/users/{ada}/items", {"title": "New"}, 403, 201),
    ("GET", "/users/{ada}/items", None, 200, 200),
    ("GET", "/items", None, 200, 200),
    ("GET", "/items/{item}", None, 200, 200),
    ("PATCH", "/items/{item}", {"title": "Changed"}, 403, 200),
    ("DELETE", "/items/{item}", None, 403, 204),
    ("GET", "/users/me/sessions", None, 200, 200),
    ("GET", "/users/me/export", None, 200, 200),
    ("GET", "/admin/users", None, 403, 403),
    ("PATCH", "/admin/users/{ada}", {"is_active": False}, 403, 403),
]
CALLERS = ["no-token", "garbage", "expired", "other-user", "owner"]


def credentials(caller: str, ada: Account, bob: Account) -> dict[str, str]:
    return {
        "no-token": {},
        "garbage": bearer("garbage.not-a.jwt"),
        "expired": bearer(make_token(ada.id, lifetime=-3600)),
        "other-user": bob.headers,
        "owner": ada.headers,
    }[caller]


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("method", "path", "body", "other_status", "owner_status"), MATRIX)
async def test_authorization_matrix(
    client: httpx.AsyncClient,
    ada: Account,
    bob: Account,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    other_status: int,
    owner_status: int,
    caller: str,
) -> None:
    item = await add_item(client, ada, "Ada's")
    url = path.format(ada=ada.id, item=item["id"])

    response = await client.request(method, url, json=body, headers=credentials(caller, ada, bob))

    expected = {"other-user": other_status, "owner": owner_status}.get(caller, 401)
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
    body = response.json()
    if url == "/users/me":
        assert body["id"] == bob.id
        assert set(body) == USER_PRIVATE_FIELDS
    elif url == f"/users/{ada.id}":
        assert set(body) == USER_PUBLIC_FIELDS
    elif url == "/users":
        assert all(set(user) == USER_PUBLIC_FIELDS for user in body["items"])
    assert ada.email not in response.text

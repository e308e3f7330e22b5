"""POST /auth/token, and who may call what: the 401 and 403 matrix of every protected route."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from entrypoints.container import Container
from tests.api.contract import BODY, Operation
from tests.api.helpers import (
    PASSWORD,
    Account,
    account,
    add_item,
    assert_problem,
    bearer,
    error_fields,
    log_in,
    make_token,
    set_active,
)

OPERATIONS = {
    ("post", "/auth/token"): Operation("create_access_token", BODY | {401, 429, 503}),
}

# --- logging in ------------------------------------------------------------------------------


@pytest.mark.parametrize("login", ["ada", "ada@example.com", "ADA@EXAMPLE.COM", "Ada@Example.Com"])
async def test_log_in_with_username_or_email(
    client: httpx.AsyncClient, ada: Account, login: str
) -> None:
    response = await client.post("/auth/token", data={"username": login, "password": PASSWORD})
    assert response.status_code == 200, response.text
    assert "no-store" in response.headers["cache-control"]
    body = response.json()
    assert set(body) >= {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert isinstance(body["expires_in"], int)
    assert body["expires_in"] > 0
    me = await client.get("/users/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["id"] == ada.id


async def test_grant_type_password_is_accepted(client: httpx.AsyncClient, ada: Account) -> None:
    form = {"grant_type": "password", "username": "ada", "password": PASSWORD}
    response = await client.post("/auth/token", data=form)
    assert response.status_code == 200, response.text


async def test_login_failures_are_one_generic_401(
    client: httpx.AsyncClient, container: Container, ada: Account, bob: Account
) -> None:
    await set_active(container, bob.id, False)
    attempts = [
        {"username": "nobody", "password": PASSWORD},
        {"username": "nobody@example.com", "password": PASSWORD},
        {"username": "ada", "password": PASSWORD + "x"},
        {"username": "ada@example.com", "password": PASSWORD.upper()},
        {"username": "bob", "password": PASSWORD},  # inactive, right password
        {"username": "bob@example.com", "password": PASSWORD},
    ]
    bodies = []
    for form in attempts:
        response = await client.post("/auth/token", data=form)
        bodies.append(assert_problem(response, 401))
        assert "access_token" not in response.text
    assert len({(b["title"], b["detail"]) for b in bodies}) == 1


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({}, "body.username"),
        ({"username": "ada"}, "body.password"),
        ({"password": PASSWORD}, "body.username"),
        ({"username": "", "password": PASSWORD}, "body.username"),
        ({"username": "ada", "password": ""}, "body.password"),
        ({"username": "ada", "password": PASSWORD, "grant_type": "refresh"}, "body.grant_type"),
        ({"username": "ada", "password": PASSWORD, "role": "admin"}, "body.role"),
        ({"username": "ada", "password": "a" * 129}, "body.password"),
    ],
    ids=["empty", "no-password", "no-username", "blank-username", "blank-password",
         "other-grant", "unknown-field", "password-too-long"],
)  # fmt: skip
async def test_bad_login_form_is_422(
    client: httpx.AsyncClient, ada: Account, form: dict[str, str], field: str
) -> None:
    response = await client.post("/auth/token", data=form)
    assert field in error_fields(assert_problem(response, 422))
    assert "access_token" not in response.text


async def test_json_login_is_415(client: httpx.AsyncClient, ada: Account) -> None:
    # The login takes a form; JSON is a media type it does not take (contract: 415).
    response = await client.post("/auth/token", json={"username": "ada", "password": PASSWORD})
    assert_problem(response, 415)


# --- the authorization matrix ----------------------------------------------------------------

PROTECTED = [
    ("GET", "/users", None),
    ("GET", "/users/me", None),
    ("GET", "/users/{user}", None),
    ("POST", "/users/{user}/items", {"title": "New"}),
    ("GET", "/users/{user}/items", None),
    ("GET", "/items", None),
    ("GET", "/items/{item}", None),
    ("PATCH", "/items/{item}", {"title": "Changed"}),
    ("DELETE", "/items/{item}", None),
]
OWNER_SUCCESS = {"POST": 201, "PATCH": 200, "DELETE": 204, "GET": 200}

Credentials = Callable[[Account, Account], dict[str, Any]]
BAD_CREDENTIALS: dict[str, Credentials] = {
    "none": lambda _owner, _inactive: {},
    "empty-bearer": lambda _owner, _inactive: {"Authorization": "Bearer "},
    "garbage": lambda _owner, _inactive: bearer("not.a.jwt"),
    "wrong-scheme": lambda owner, _inactive: {"Authorization": f"Basic {owner.token}"},
    "other-secret": lambda owner, _inactive: bearer(
        make_token(owner.id, secret="another-secret-that-is-32-bytes-long!")
    ),
    "expired": lambda owner, _inactive: bearer(make_token(owner.id, lifetime=-3600)),
    "wrong-issuer": lambda owner, _inactive: bearer(make_token(owner.id, iss="someone-else")),
    "wrong-audience": lambda owner, _inactive: bearer(make_token(owner.id, aud="someone-else")),
    "unknown-user": lambda owner, _inactive: bearer(make_token(owner.id + 1000)),
    "huge-subject": lambda _owner, _inactive: bearer(make_token("9" * 40)),
    "alg-none": lambda owner, _inactive: bearer(make_token(owner.id, secret="", algorithm="none")),
    "no-expiry": lambda owner, _inactive: bearer(make_token(owner.id, exp=None)),
    "no-subject": lambda owner, _inactive: bearer(make_token(owner.id, sub=None)),
    "subject-not-a-number": lambda _owner, _inactive: bearer(make_token("ada")),
    "subject-zero": lambda _owner, _inactive: bearer(make_token(0)),
    "subject-negative": lambda owner, _inactive: bearer(make_token(-owner.id)),
    "subject-as-integer": lambda owner, _inactive: bearer(make_token(owner.id, sub=owner.id)),
    "issued-in-the-future": lambda owner, _inactive: bearer(
        make_token(owner.id, iat=int(time.time()) + 3600, lifetime=7200)
    ),
    "non-ascii-bytes": lambda _owner, _inactive: {"Authorization": b"Bearer \xff\xfe.\xe9"},
    "deactivated-user": lambda _owner, inactive: inactive.headers,
}


def _url(path: str, owner: Account, item_id: int) -> str:
    return path.format(user=owner.id, item=item_id)


@pytest.mark.parametrize("credentials", BAD_CREDENTIALS)
@pytest.mark.parametrize(("method", "path", "body"), PROTECTED)
async def test_bad_credentials_are_401_and_change_nothing(
    client: httpx.AsyncClient,
    container: Container,
    ada: Account,
    method: str,
    path: str,
    body: dict[str, str] | None,
    credentials: str,
) -> None:
    item = await add_item(client, ada, "Keep me")
    inactive = await account(client, "cyd")
    await set_active(container, inactive.id, False)
    headers = BAD_CREDENTIALS[credentials](ada, inactive)
    response = await client.request(method, _url(path, ada, item["id"]), json=body, headers=headers)
    assert_problem(response, 401)
    page = (await client.get("/items", headers=ada.headers)).json()
    assert page["items"] == [item]


@pytest.mark.parametrize(
    ("method", "path", "body"), [p for p in PROTECTED if p[0] in {"POST", "PATCH", "DELETE"}]
)
async def test_acting_on_another_users_resource_is_403(
    client: httpx.AsyncClient,
    ada: Account,
    bob: Account,
    method: str,
    path: str,
    body: dict[str, str] | None,
) -> None:
    item = await add_item(client, ada, "Ada's")
    url = _url(path, ada, item["id"])
    assert_problem(await client.request(method, url, json=body, headers=bob.headers), 403)
    assert (await client.get("/items", headers=ada.headers)).json()["items"] == [item]
    owner = await client.request(method, url, json=body, headers=ada.headers)
    assert owner.status_code == OWNER_SUCCESS[method], owner.text


@pytest.mark.parametrize(("method", "path", "body"), PROTECTED)
async def test_a_valid_token_is_served(
    client: httpx.AsyncClient,
    ada: Account,
    bob: Account,
    method: str,
    path: str,
    body: dict[str, str] | None,
) -> None:
    item = await add_item(client, ada, "Ada's")
    token = await log_in(client, "ada@example.com")
    response = await client.request(
        method, _url(path, ada, item["id"]), json=body, headers=bearer(token)
    )
    assert response.status_code == OWNER_SUCCESS[method], response.text


async def test_reactivated_user_is_served_again(
    client: httpx.AsyncClient, container: Container, ada: Account
) -> None:
    await set_active(container, ada.id, False)
    assert_problem(await client.get("/users/me", headers=ada.headers), 401)
    await set_active(container, ada.id, True)
    assert (await client.get("/users/me", headers=ada.headers)).status_code == 200

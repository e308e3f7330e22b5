"""/users: sign up, the caller's own account, public profiles."""

from __future__ import annotations

import httpx
import pytest

from entrypoints.container import Container
from tests.api.contract import BODY, Callers, Operation
from tests.api.helpers import (
    PASSWORD,
    RFC3339,
    USER_PRIVATE_FIELDS,
    USER_PUBLIC_FIELDS,
    Account,
    assert_problem,
    count_rows,
    error_fields,
    sign_up,
)

OPERATIONS = {
    ("post", "/users"): Operation("create_user", BODY | {409, 503}, success=201),
    ("get", "/users"): Operation(
        "list_users", {401, 422, 503}, callers=Callers(other_user=200, owner=200)
    ),
    ("get", "/users/me"): Operation(
        "get_current_user", {401, 503}, callers=Callers(other_user=200, owner=200)
    ),
    ("get", "/users/{user_id}"): Operation(
        "get_user", {401, 404, 422, 503}, callers=Callers(other_user=200, owner=200)
    ),
}


def _signup(
    email: str = "ada@example.com", username: str = "ada", password: str = PASSWORD
) -> dict[str, str]:
    return {"email": email, "username": username, "password": password}


async def test_sign_up_returns_the_private_user_and_its_location(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/users", json=_signup())
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == USER_PRIVATE_FIELDS
    assert isinstance(body["id"], int)
    assert body["id"] >= 1
    assert body["username"] == "ada"
    assert body["email"] == "ada@example.com"
    assert body["is_active"] is True
    assert (body["email_verified"], body["is_admin"]) == (False, False)
    assert RFC3339.match(body["created_at"]), body["created_at"]
    assert response.headers["location"] == f"/users/{body['id']}"
    assert PASSWORD not in response.text
    assert "password" not in response.text


async def test_email_is_stored_normalised(client: httpx.AsyncClient) -> None:
    user = await sign_up(client, "ada", email="Ada.Lovelace@EXAMPLE.Com")
    assert user["email"] == "Ada.Lovelace@example.com"


@pytest.mark.parametrize(
    ("second", "fields"),
    [
        (_signup(email="ADA@example.com", username="other"), {"email"}),
        (_signup(email="ada@EXAMPLE.COM", username="other"), {"email"}),
        (_signup(email="other@example.com", username="ADA"), {"username"}),
        (_signup(email="Ada@Example.com", username="aDa"), {"email", "username"}),
        (_signup(email="ada@example.com", username="BOB"), {"email", "username"}),
    ],
    ids=["email-local-case", "email-domain-case", "username-case", "both", "both-two-users"],
)
async def test_taken_email_or_username_is_409_naming_the_fields(
    client: httpx.AsyncClient, container: Container, second: dict[str, str], fields: set[str]
) -> None:
    await sign_up(client, "ada", email="ada@example.com")
    await sign_up(client, "bob", email="bob@example.com")
    body = assert_problem(await client.post("/users", json=second), 409)
    assert error_fields(body) == fields
    assert len(body["errors"]) == len(fields)
    assert all(isinstance(e["message"], str) and e["message"] for e in body["errors"])
    assert await count_rows(container, "users") == 2


async def test_an_internationalised_domain_is_taken_case_insensitively(
    client: httpx.AsyncClient,
) -> None:
    # A non-ASCII local part is refused (tests/api/test_hostile_clients.py); a domain is not.
    await sign_up(client, "ada", email="ada@Ärger.de")
    body = assert_problem(
        await client.post("/users", json=_signup(email="ADA@ärger.DE", username="bob")), 409
    )
    assert error_fields(body) == {"email"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "not-an-email"}, "body.email"),
        ({"email": "ada@"}, "body.email"),
        ({"email": "@example.com"}, "body.email"),
        ({"email": "ada@@example.com"}, "body.email"),
        ({"email": ""}, "body.email"),
        ({"username": "ab"}, "body.username"),
        ({"username": "a" * 33}, "body.username"),
        ({"username": "ada lovelace"}, "body.username"),
        ({"username": "ada!"}, "body.username"),
        ({"username": "ädä"}, "body.username"),
        ({"username": ""}, "body.username"),
        ({"username": "ada\n"}, "body.username"),
        ({"username": "\nada"}, "body.username"),
        ({"email": "ada@example.com\n"}, "body.email"),
        ({"email": "ada@example.com "}, "body.email"),
        ({"email": "ada@" + "d" * 250 + ".com"}, "body.email"),
        ({"password": "a" * 7}, "body.password"),
        ({"password": "a" * 129}, "body.password"),
        ({"password": ""}, "body.password"),
    ],
)
async def test_invalid_sign_up_is_422_naming_the_field(
    client: httpx.AsyncClient, container: Container, changes: dict[str, str], field: str
) -> None:
    body = assert_problem(await client.post("/users", json={**_signup(), **changes}), 422)
    assert field in error_fields(body)
    assert await count_rows(container, "users") == 0


@pytest.mark.parametrize(
    "changes",
    [
        {"username": "abc"},
        {"username": "a" * 32},
        {"username": "A.b_c-9"},
        {"password": "a" * 8},
        {"password": "a" * 128},
    ],
)
async def test_boundary_values_are_accepted(
    client: httpx.AsyncClient, changes: dict[str, str]
) -> None:
    response = await client.post("/users", json={**_signup(), **changes})
    assert response.status_code == 201, response.text


async def test_list_users_is_a_page_of_public_users(
    client: httpx.AsyncClient, ada: Account, bob: Account
) -> None:
    response = await client.get("/users", headers=ada.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"items", "next_cursor"}
    assert body["next_cursor"] is None
    assert [u["id"] for u in body["items"]] == [ada.id, bob.id]
    for user in body["items"]:
        assert set(user) == USER_PUBLIC_FIELDS
        assert RFC3339.match(user["created_at"])
    assert "@example.com" not in response.text
    assert "password" not in response.text


async def test_me_is_the_private_user(client: httpx.AsyncClient, ada: Account) -> None:
    response = await client.get("/users/me", headers=ada.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == USER_PRIVATE_FIELDS
    assert (body["id"], body["username"], body["email"]) == (ada.id, "ada", ada.email)
    assert body["is_active"] is True


async def test_get_user_is_the_public_profile(
    client: httpx.AsyncClient, ada: Account, bob: Account
) -> None:
    for caller in (ada, bob):
        response = await client.get(f"/users/{ada.id}", headers=caller.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == USER_PUBLIC_FIELDS
        assert (body["id"], body["username"], body["is_active"]) == (ada.id, "ada", True)
        assert ada.email not in response.text


async def test_unknown_user_is_404(client: httpx.AsyncClient, ada: Account) -> None:
    assert_problem(await client.get(f"/users/{ada.id + 1000}", headers=ada.headers), 404)

"""The "Accounts" section of the contract over HTTP, on SQLite and on PostgreSQL: email
verification, password reset and change, profile edits, deletion, export, sessions, step-up,
credentials cut-off and administration. The emails are read from the outbox (the worker and a
real SMTP server are tests/integration/test_account_emails.py)."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import jwt
import pytest

from application.ports import Outbox, OutboxStatus, UserRepository
from entrypoints.container import Container
from tests.api.contract import BODY, Callers, Operation
from tests.api.helpers import (
    PASSWORD,
    USER_PRIVATE_FIELDS,
    Account,
    account,
    add_item,
    assert_problem,
    bearer,
    error_fields,
    log_in,
    make_token,
    sign_up,
)
from tests.conftest import TEST_JWT_SECRET

NEW_PASSWORD = "a brand new horse battery"
STALE = int(time.time()) - 3600  # a login an hour ago: older than REAUTH_MAX_AGE_SECONDS

OPERATIONS = {
    # Self-service: the caller's own account (another user's token acts on their own).
    ("patch", "/users/me"): Operation(
        "update_current_user",
        BODY | {401, 409, 503},
        callers=Callers(other_user=200, owner=200, body={"username": "renamed"}),
    ),
    ("delete", "/users/me"): Operation(
        "delete_current_user", {401, 503}, success=204, callers=Callers(other_user=204, owner=204)
    ),
    ("post", "/users/me/verify-email"): Operation(
        "resend_verification_email",
        {401, 409, 429, 503},
        success=202,
        callers=Callers(other_user=202, owner=202),
    ),
    ("post", "/users/me/password"): Operation(
        "change_password",
        BODY | {401, 403, 429, 503},
        success=204,
        callers=Callers(
            other_user=204,
            owner=204,
            body={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        ),
    ),
    ("get", "/users/me/export"): Operation(
        "export_current_user", {401, 503}, callers=Callers(other_user=200, owner=200)
    ),
    ("get", "/users/me/sessions"): Operation(
        "list_sessions", {401, 422, 503}, callers=Callers(other_user=200, owner=200)
    ),
    ("delete", "/users/me/sessions"): Operation(
        "end_all_sessions", {401, 503}, success=204, callers=Callers(other_user=204, owner=204)
    ),
    # {session_id} is ada's session: someone else's is unknown to bob.
    ("delete", "/users/me/sessions/{session_id}"): Operation(
        "end_session",
        {401, 404, 422, 503},
        success=204,
        callers=Callers(other_user=404, owner=204),
    ),
    # Recovery: no access token.
    ("post", "/auth/verify-email"): Operation("verify_email", BODY | {503}),
    ("post", "/auth/password-reset"): Operation(
        "request_password_reset", BODY | {429, 503}, success=202
    ),
    ("post", "/auth/password-reset/confirm"): Operation(
        "confirm_password_reset", BODY | {503}, success=204
    ),
    # Administration: neither ada nor bob is an admin.
    ("get", "/admin/users"): Operation(
        "admin_list_users", {401, 403, 422, 503}, callers=Callers(other_user=403, owner=403)
    ),
    ("patch", "/admin/users/{user_id}"): Operation(
        "admin_update_user",
        BODY | {401, 403, 404, 409, 503},
        callers=Callers(other_user=403, owner=403, body={"is_active": False}),
    ),
}


async def emails(container: Container, event_type: str | None = None) -> list[dict[str, Any]]:
    """The payloads of the emails queued so far (oldest first), of one type or all."""
    async with container.uow() as uow:
        messages = await uow.repository(Outbox).list(OutboxStatus.PENDING, 1000)
    return [
        {"type": m.event_type, **m.payload}
        for m in messages
        if event_type is None or m.event_type == event_type
    ]


async def last_token(container: Container, event_type: str, email: str) -> str:
    tokens = [m["token"] for m in await emails(container, event_type) if m["email"] == email]
    assert tokens, (event_type, email)
    token: str = tokens[-1]
    return token


async def make_admin(container: Container, user_id: int) -> None:
    async with container.uow() as uow:
        await uow.repository(UserRepository).set_admin(user_id, admin=True)
        await uow.commit()


async def tokens(client: httpx.AsyncClient, login: str, password: str = PASSWORD) -> Any:
    response = await client.post("/auth/token", data={"username": login, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


def stale_token(user_id: int) -> str:
    """A valid access token whose login is older than REAUTH_MAX_AGE_SECONDS."""
    return make_token(user_id, auth_time=STALE)


def claims(access_token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(
        access_token, TEST_JWT_SECRET, algorithms=["HS256"], audience="users-items"
    )
    return decoded


# --- email verification ----------------------------------------------------------------------


async def test_the_welcome_email_carries_a_token_that_verifies_the_email_once(
    client: httpx.AsyncClient, container: Container
) -> None:
    ada = await account(client, "ada")
    token = await last_token(container, "UserRegistered", ada.email)
    assert len(token) >= 43
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

    verified = await client.post("/auth/verify-email", json={"token": token})
    again = await client.post("/auth/verify-email", json={"token": token})
    me = await client.get("/users/me", headers=ada.headers)

    assert verified.status_code == 200, verified.text
    assert set(verified.json()) == USER_PRIVATE_FIELDS
    assert verified.json()["email_verified"] is True
    assert_problem(again, 400)
    assert me.json()["email_verified"] is True
    # Already verified: no new email.
    assert_problem(await client.post("/users/me/verify-email", headers=ada.headers), 409)


@pytest.mark.parametrize(
    "body",
    [{"token": "x" * 43}, {"token": ""}, {"token": "t" * 43, "user_id": 1}, {}],
    ids=["unknown", "empty", "extra-field", "missing"],
)
async def test_a_bad_verification_token_is_400_or_422(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    response = await client.post("/auth/verify-email", json=body)

    assert_problem(response, 400 if body == {"token": "x" * 43} else 422)


async def test_a_resent_verification_email_voids_the_older_links_and_is_limited(
    client: httpx.AsyncClient, container: Container, ada: Account
) -> None:
    first = await last_token(container, "UserRegistered", ada.email)

    resent = await client.post("/users/me/verify-email", headers=ada.headers)
    second = await last_token(container, "EmailVerificationRequested", ada.email)

    assert resent.status_code == 202
    assert second != first
    assert_problem(await client.post("/auth/verify-email", json={"token": first}), 400)
    for _ in range(4):  # five resends an hour by default
        assert (await client.post("/users/me/verify-email", headers=ada.headers)).status_code == 202
    limited = await client.post("/users/me/verify-email", headers=ada.headers)
    assert_problem(limited, 429)
    assert int(limited.headers["Retry-After"]) >= 1
    assert len(await emails(container, "EmailVerificationRequested")) == 5
    assert_problem(await client.post("/users/me/verify-email"), 401)


# --- password reset --------------------------------------------------------------------------


async def test_a_reset_answers_alike_for_every_address_and_emails_only_an_account(
    client: httpx.AsyncClient, container: Container, ada: Account
) -> None:
    known = await client.post("/auth/password-reset", json={"email": "ADA@example.com"})
    unknown = await client.post("/auth/password-reset", json={"email": "nobody@example.com"})

    assert (known.status_code, unknown.status_code) == (202, 202)
    assert known.content == unknown.content == b""
    assert [m["email"] for m in await emails(container, "PasswordResetRequested")] == [ada.email]


async def test_an_inactive_account_gets_no_reset_email(
    client: httpx.AsyncClient, container: Container, ada: Account
) -> None:
    async with container.uow() as uow:
        await uow.repository(UserRepository).set_active(ada.id, active=False)
        await uow.commit()

    response = await client.post("/auth/password-reset", json={"email": ada.email})

    assert response.status_code == 202
    assert await emails(container, "PasswordResetRequested") == []


async def test_a_reset_sets_the_password_and_ends_every_old_credential(
    client: httpx.AsyncClient, container: Container
) -> None:
    await sign_up(client, "ada")
    old = await tokens(client, "ada")
    await client.post("/auth/password-reset", json={"email": "ada@example.com"})
    token = await last_token(container, "PasswordResetRequested", "ada@example.com")

    weak = await client.post(
        "/auth/password-reset/confirm", json={"token": token, "new_password": "ada-and-more"}
    )
    assert_problem(weak, 422)
    assert error_fields(weak.json()) == {"body.new_password"}
    assert "username" in weak.json()["detail"]
    done = await client.post(
        "/auth/password-reset/confirm", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert done.status_code == 204, done.text  # the token survived the refused attempt

    assert_problem(await client.get("/users/me", headers=bearer(old["access_token"])), 401)
    refresh = await client.post("/auth/refresh", json={"refresh_token": old["refresh_token"]})
    assert_problem(refresh, 401)
    wrong = await client.post("/auth/token", data={"username": "ada", "password": PASSWORD})
    assert_problem(wrong, 401)
    fresh = await log_in(client, "ada", NEW_PASSWORD)  # within the same second: it works
    me = await client.get("/users/me", headers=bearer(fresh))
    assert me.json()["email_verified"] is True
    reused = await client.post(
        "/auth/password-reset/confirm", json={"token": token, "new_password": NEW_PASSWORD + "!"}
    )
    assert_problem(reused, 400)


async def test_a_newer_reset_voids_the_older_link(
    client: httpx.AsyncClient, container: Container, ada: Account
) -> None:
    await client.post("/auth/password-reset", json={"email": ada.email})
    older = await last_token(container, "PasswordResetRequested", ada.email)
    await client.post("/auth/password-reset", json={"email": ada.email})

    response = await client.post(
        "/auth/password-reset/confirm", json={"token": older, "new_password": NEW_PASSWORD}
    )

    assert_problem(response, 400)


async def test_reset_requests_are_limited_per_address(
    client: httpx.AsyncClient, container: Container, ada: Account
) -> None:
    for _ in range(5):
        await client.post("/auth/password-reset", json={"email": ada.email})

    limited = await client.post("/auth/password-reset", json={"email": ada.email})
    other = await client.post("/auth/password-reset", json={"email": "grace@example.com"})

    assert_problem(limited, 429)
    assert int(limited.headers["Retry-After"]) >= 1
    assert other.status_code == 202
    assert len(await emails(container, "PasswordResetRequested")) == 5


# --- password change -------------------------------------------------------------------------


async def test_a_password_change_ends_old_credentials_and_sends_a_notice(
    client: httpx.AsyncClient, container: Container
) -> None:
    await sign_up(client, "ada")
    old = await tokens(client, "ada")
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}

    changed = await client.post(
        "/users/me/password", json=body, headers=bearer(old["access_token"])
    )

    assert changed.status_code == 204, changed.text
    assert_problem(await client.get("/users/me", headers=bearer(old["access_token"])), 401)
    refresh = await client.post("/auth/refresh", json={"refresh_token": old["refresh_token"]})
    assert_problem(refresh, 401)
    new = await log_in(client, "ada", NEW_PASSWORD)
    assert (await client.get("/users/me", headers=bearer(new))).status_code == 200
    assert [m["email"] for m in await emails(container, "PasswordChanged")] == ["ada@example.com"]


@pytest.mark.parametrize(
    ("new_password", "says"),
    [
        ("password1", "most common"),
        ("Qwertyuiop", "most common"),
        ("xx-ADA-xx-1", "username"),
        ("short", "at least 8"),
    ],
)
async def test_a_new_password_the_policy_refuses_is_422_saying_why(
    client: httpx.AsyncClient, ada: Account, new_password: str, says: str
) -> None:
    body = {"current_password": PASSWORD, "new_password": new_password}

    response = await client.post("/users/me/password", json=body, headers=ada.headers)

    problem = assert_problem(response, 422)
    assert error_fields(problem) == {"body.new_password"}
    assert says in str(problem["errors"])
    assert (await client.get("/users/me", headers=ada.headers)).status_code == 200


async def test_a_wrong_current_password_is_403_and_counts_as_a_failed_login(
    client: httpx.AsyncClient, ada: Account
) -> None:
    body = {"current_password": "not the password", "new_password": NEW_PASSWORD}
    for _ in range(5):  # LOGIN_MAX_FAILURES_PER_ACCOUNT
        assert_problem(await client.post("/users/me/password", json=body, headers=ada.headers), 403)

    throttled = await client.post("/users/me/password", json=body, headers=ada.headers)
    login = await client.post("/auth/token", data={"username": "ada", "password": PASSWORD})

    assert_problem(throttled, 429)
    assert_problem(login, 429)
    assert "Retry-After" in login.headers


# --- profile, step-up, deletion --------------------------------------------------------------


async def test_a_username_change_needs_no_fresh_login_and_a_taken_one_is_409(
    client: httpx.AsyncClient, ada: Account, bob: Account
) -> None:
    renamed = await client.patch(
        "/users/me", json={"username": "ada_l"}, headers=bearer(stale_token(ada.id))
    )
    taken = await client.patch("/users/me", json={"username": "BOB"}, headers=ada.headers)

    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["username"] == "ada_l"
    assert error_fields(assert_problem(taken, 409)) == {"username"}


async def test_an_email_change_needs_a_fresh_login_and_is_verified_again(
    client: httpx.AsyncClient, container: Container, ada: Account, bob: Account
) -> None:
    stale = await client.patch(
        "/users/me", json={"email": "new@example.com"}, headers=bearer(stale_token(ada.id))
    )
    assert_problem(stale, 401)
    challenge = stale.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer error="insufficient_user_authentication"')
    assert "max_age=300" in challenge
    taken = await client.patch("/users/me", json={"email": "Bob@Example.com"}, headers=ada.headers)
    assert error_fields(assert_problem(taken, 409)) == {"email"}

    changed = await client.patch(
        "/users/me", json={"email": "new@example.com"}, headers=ada.headers
    )

    assert changed.status_code == 200, changed.text
    assert (changed.json()["email"], changed.json()["email_verified"]) == (
        "new@example.com",
        False,
    )
    assert [m["email"] for m in await emails(container, "EmailChanged")] == ["ada@example.com"]
    token = await last_token(container, "EmailVerificationRequested", "new@example.com")
    verified = await client.post("/auth/verify-email", json={"token": token})
    assert verified.json()["email_verified"] is True
    assert (
        await client.post(
            "/users", json={"email": "ada@example.com", "username": "ada2", "password": PASSWORD}
        )
    ).status_code == 201


@pytest.mark.parametrize(
    "body",
    [{"is_admin": True}, {"email_verified": True}, {"username": None}, {"username": "a b"}],
    ids=["is_admin", "email_verified", "null", "bad-username"],
)
async def test_a_profile_change_refuses_other_fields_and_bad_values(
    client: httpx.AsyncClient, ada: Account, body: dict[str, Any]
) -> None:
    response = await client.patch("/users/me", json=body, headers=ada.headers)

    assert_problem(response, 422)
    me = (await client.get("/users/me", headers=ada.headers)).json()
    assert (me["username"], me["is_admin"]) == ("ada", False)


async def test_deleting_the_account_needs_a_fresh_login_and_removes_everything(
    client: httpx.AsyncClient, container: Container, ada: Account, bob: Account
) -> None:
    await add_item(client, ada, "Lamp")
    kept = await add_item(client, bob, "Desk")
    login = await tokens(client, "ada")

    stale = await client.delete("/users/me", headers=bearer(stale_token(ada.id)))
    assert_problem(stale, 401)
    assert "insufficient_user_authentication" in stale.headers["WWW-Authenticate"]
    deleted = await client.delete("/users/me", headers=ada.headers)

    assert deleted.status_code == 204
    assert_problem(await client.get("/users/me", headers=ada.headers), 401)
    refresh = await client.post("/auth/refresh", json={"refresh_token": login["refresh_token"]})
    assert_problem(refresh, 401)
    assert_problem(await client.get(f"/users/{ada.id}", headers=bob.headers), 404)
    items = (await client.get("/items", headers=bob.headers)).json()["items"]
    assert [i["id"] for i in items] == [kept["id"]]
    assert (await account(client, "ada")).id != ada.id  # the names are free again


# --- sessions, export, log out everywhere ----------------------------------------------------


async def test_sessions_are_listed_marked_current_and_ended_one_at_a_time(
    client: httpx.AsyncClient, ada: Account, bob: Account
) -> None:
    phone = await tokens(client, "ada")
    laptop = await tokens(client, "ada")

    listed = await client.get("/users/me/sessions", headers=bearer(laptop["access_token"]))
    assert listed.status_code == 200, listed.text
    sessions = listed.json()["items"]
    assert len(sessions) == 3  # the fixture's login, the phone, the laptop
    assert {frozenset(s) for s in sessions} == {
        frozenset({"id", "created_at", "last_used_at", "current"})
    }
    assert [s["current"] for s in sessions] == [False, False, True]
    phone_session = sessions[1]["id"]

    assert_problem(
        await client.delete(f"/users/me/sessions/{phone_session}", headers=bob.headers), 404
    )
    ended = await client.delete(
        f"/users/me/sessions/{phone_session}", headers=bearer(laptop["access_token"])
    )
    assert ended.status_code == 204
    assert_problem(
        await client.delete(f"/users/me/sessions/{phone_session}", headers=ada.headers), 404
    )
    refresh = await client.post("/auth/refresh", json={"refresh_token": phone["refresh_token"]})
    assert_problem(refresh, 401)
    after = (await client.get("/users/me/sessions", headers=ada.headers)).json()["items"]
    assert phone_session not in [s["id"] for s in after]
    assert len(after) == 2
    paged = await client.get("/users/me/sessions?limit=1", headers=ada.headers)
    assert paged.json()["next_cursor"] is not None


async def test_a_refresh_keeps_the_session_and_the_login_time(
    client: httpx.AsyncClient,
) -> None:
    await sign_up(client, "ada")
    login = await tokens(client, "ada")

    refreshed = await client.post("/auth/refresh", json={"refresh_token": login["refresh_token"]})

    assert refreshed.status_code == 200
    before, after = claims(login["access_token"]), claims(refreshed.json()["access_token"])
    assert after["auth_time"] == before["auth_time"]
    assert after["sid"] == before["sid"]
    sessions = await client.get(
        "/users/me/sessions", headers=bearer(refreshed.json()["access_token"])
    )
    [session] = sessions.json()["items"]
    assert session["current"] is True
    assert session["last_used_at"] >= session["created_at"]


async def test_log_out_everywhere_ends_every_credential_and_a_new_login_works(
    client: httpx.AsyncClient, ada: Account
) -> None:
    other = await tokens(client, "ada")

    response = await client.delete("/users/me/sessions", headers=ada.headers)

    assert response.status_code == 204
    for access in (ada.token, other["access_token"]):
        assert_problem(await client.get("/users/me", headers=bearer(access)), 401)
    refresh = await client.post("/auth/refresh", json={"refresh_token": other["refresh_token"]})
    assert_problem(refresh, 401)
    again = await log_in(client, "ada")
    listed = await client.get("/users/me/sessions", headers=bearer(again))
    assert [s["current"] for s in listed.json()["items"]] == [True]


async def test_the_export_holds_the_user_every_item_and_the_sessions(
    client: httpx.AsyncClient, ada: Account, bob: Account
) -> None:
    created = [await add_item(client, ada, f"Item {n}") for n in range(105)]  # over one page
    await add_item(client, bob, "Not ada's")

    response = await client.get("/users/me/export", headers=ada.headers)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    export = response.json()
    assert set(export) == {"user", "items", "sessions"}
    assert set(export["user"]) == USER_PRIVATE_FIELDS
    assert export["user"]["email"] == ada.email
    assert [i["id"] for i in export["items"]] == [i["id"] for i in created]
    assert [s["current"] for s in export["sessions"]] == [True]
    assert_problem(await client.get("/users/me/export"), 401)


# --- administration --------------------------------------------------------------------------


async def test_only_an_admin_lists_every_user_with_emails(
    client: httpx.AsyncClient, container: Container, ada: Account, bob: Account
) -> None:
    assert_problem(await client.get("/admin/users", headers=bob.headers), 403)
    await make_admin(container, ada.id)

    response = await client.get("/admin/users?limit=1", headers=ada.headers)

    assert response.status_code == 200, response.text
    [first] = response.json()["items"]
    assert set(first) == USER_PRIVATE_FIELDS
    assert (first["email"], first["is_admin"]) == (ada.email, True)
    following = await client.get(
        f"/admin/users?limit=1&cursor={response.json()['next_cursor']}", headers=ada.headers
    )
    assert [u["email"] for u in following.json()["items"]] == [bob.email]


async def test_an_admin_deactivates_and_reactivates_a_user(
    client: httpx.AsyncClient, container: Container, ada: Account, bob: Account
) -> None:
    await make_admin(container, ada.id)
    bobs = await tokens(client, "bob")

    off = await client.patch(
        f"/admin/users/{bob.id}", json={"is_active": False}, headers=ada.headers
    )

    assert off.status_code == 200, off.text
    assert off.json()["is_active"] is False
    assert_problem(await client.get("/users/me", headers=bob.headers), 401)
    assert_problem(
        await client.post("/auth/refresh", json={"refresh_token": bobs["refresh_token"]}), 401
    )
    assert_problem(
        await client.post("/auth/token", data={"username": "bob", "password": PASSWORD}), 401
    )
    on = await client.patch(f"/admin/users/{bob.id}", json={"is_active": True}, headers=ada.headers)
    assert on.json()["is_active"] is True
    assert_problem(await client.get("/users/me", headers=bob.headers), 401)  # still old
    assert (
        await client.get("/users/me", headers=bearer(await log_in(client, "bob")))
    ).status_code == 200


async def test_never_the_last_active_admin(
    client: httpx.AsyncClient, container: Container, ada: Account, bob: Account
) -> None:
    await make_admin(container, ada.id)

    demote_self = await client.patch(
        f"/admin/users/{ada.id}", json={"is_admin": False}, headers=ada.headers
    )
    deactivate_self = await client.patch(
        f"/admin/users/{ada.id}", json={"is_active": False}, headers=ada.headers
    )
    assert_problem(demote_self, 409)
    assert_problem(deactivate_self, 409)
    granted = await client.patch(
        f"/admin/users/{bob.id}", json={"is_admin": True}, headers=ada.headers
    )
    assert granted.json()["is_admin"] is True
    demoted = await client.patch(
        f"/admin/users/{ada.id}", json={"is_admin": False}, headers=bob.headers
    )
    assert demoted.json()["is_admin"] is False
    assert_problem(
        await client.patch(f"/admin/users/{bob.id}", json={"is_admin": False}, headers=ada.headers),
        403,
    )
    assert_problem(
        await client.patch("/admin/users/999999", json={"is_admin": True}, headers=bob.headers), 404
    )
    assert_problem(
        await client.patch(f"/admin/users/{ada.id}", json={"is_admin": None}, headers=bob.headers),
        422,
    )


async def test_an_admin_may_change_and_delete_anyones_item(
    client: httpx.AsyncClient, container: Container, ada: Account, bob: Account
) -> None:
    item = await add_item(client, bob, "Bob's")
    await make_admin(container, ada.id)

    changed = await client.patch(
        f"/items/{item['id']}", json={"title": "Moderated"}, headers=ada.headers
    )
    deleted = await client.delete(f"/items/{item['id']}", headers=ada.headers)

    assert changed.json()["title"] == "Moderated"
    assert deleted.status_code == 204


async def test_the_export_is_written_in_chunks_as_the_pages_are_read() -> None:
    """The export body is produced while the items are read, ~64 KiB at a time, never built
    whole: a huge account streams."""
    from datetime import UTC, datetime

    from application.export_account import AccountExport
    from domain.item import Item
    from domain.user import User
    from entrypoints.http.routers.account import _export_json

    now = datetime.now(UTC)
    read = 0

    async def items() -> Any:
        nonlocal read
        for n in range(1, 3001):
            read += 1
            yield Item(id=n, title="x" * 50, description=None, owner_id=1, created_at=now)

    async def sessions() -> Any:
        return
        yield

    user = User(1, "ada@example.com", "ada", "hash", True, now)
    chunks = []
    reads_at_chunk = []
    async for chunk in _export_json(AccountExport(user, items(), sessions())):
        chunks.append(chunk)
        reads_at_chunk.append(read)

    assert len(chunks) > 3
    assert reads_at_chunk[0] < 3000  # the first chunk left before the last item was read
    document = json.loads(b"".join(chunks))
    assert [i["id"] for i in document["items"]] == list(range(1, 3001))
    assert document["sessions"] == []
    assert "hashed_password" not in document["user"]

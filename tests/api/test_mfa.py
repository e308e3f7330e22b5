"""The contract's "Second factor (TOTP, RFC 6238) and recovery codes" over HTTP, on SQLite and
PostgreSQL: every row of its table and every error status, the login with a second factor end
to end with codes computed from the secret the API returned (pyotp), amr, step-up, throttling
(50 concurrent wrong codes), the admin rule, the outbox notices and what a dump holds.

The app's second-factor clock is real time plus an offset the tests move by whole steps, so a
test never waits for the next 30-second step and never depends on where in one it runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pyotp
import pytest
from dependency_injector import providers
from sqlalchemy import text

from adapters.fernet_secrets import FernetSecretBox
from adapters.pyotp_totp import PyotpTotp
from application.ports import Outbox, OutboxStatus, UserRepository
from application.second_factor import (
    MFA_DISABLED,
    MFA_ENABLED,
    MFA_RECOVERY_CODE_USED,
    MFA_RECOVERY_CODES_REGENERATED,
    SecondFactor,
)
from entrypoints.container import Container
from tests.api.contract import BODY, Callers, Operation
from tests.api.helpers import (
    PASSWORD,
    Account,
    account,
    app_client,
    assert_problem,
    bearer,
    make_token,
    sign_up,
)
from tests.conftest import TEST_JWT_SECRET, build_container

MFA_REQUIRED = "urn:users-items:problem:mfa-required"
STEP = 30
LIMIT = 5  # LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS's default
NOT_A_CODE = {"code": "000000"}

OPERATIONS = {
    ("post", "/users/me/mfa/totp"): Operation(
        "start_totp_enrolment", {401, 409, 503}, callers=Callers(other_user=200, owner=200)
    ),
    ("post", "/users/me/mfa/totp/confirm"): Operation(
        "confirm_totp_enrolment",
        BODY | {401, 409, 503},
        callers=Callers(other_user=400, owner=400, body=NOT_A_CODE),
    ),
    ("delete", "/users/me/mfa"): Operation(
        "disable_second_factor",
        BODY | {401, 409, 429, 503},
        success=204,
        callers=Callers(other_user=409, owner=409, body=NOT_A_CODE),
    ),
    ("post", "/users/me/mfa/recovery-codes"): Operation(
        "regenerate_recovery_codes",
        BODY | {401, 409, 429, 503},
        callers=Callers(other_user=409, owner=409, body=NOT_A_CODE),
    ),
    ("post", "/auth/token/mfa"): Operation("complete_mfa_login", BODY | {401, 429, 503}),
}


@dataclass
class OffsetClock:
    """Real time plus an offset: what the app's second factor reads."""

    offset: timedelta = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def next_step(self, steps: int = 1) -> None:
        self.offset += timedelta(seconds=steps * STEP)


class CountingTotp(PyotpTotp):
    def __init__(self) -> None:
        self.checks = 0

    def matching_steps(self, secret: str, code: str, at: datetime) -> Sequence[int]:
        self.checks += 1
        return super().matching_steps(secret, code, at)


@pytest.fixture
def clock(container: Container) -> OffsetClock:
    clock = OffsetClock()
    container.mfa_clock.override(providers.Object(clock))
    return clock


@pytest.fixture
def totp(container: Container, clock: OffsetClock) -> CountingTotp:
    totp = CountingTotp()
    box = FernetSecretBox(container.settings().mfa_encryption_keys)
    container.second_factor.override(providers.Object(SecondFactor(totp, box, clock)))
    return totp


@dataclass
class Enrolled:
    account: Account
    secret: str
    recovery_codes: list[str]

    def code(self, clock: OffsetClock, steps_ahead: int = 0) -> str:
        return pyotp.TOTP(self.secret).at(clock() + timedelta(seconds=steps_ahead * STEP))


async def enable(client: httpx.AsyncClient, who: Account, clock: OffsetClock) -> Enrolled:
    started = await client.post("/users/me/mfa/totp", headers=who.headers)
    assert started.status_code == 200, started.text
    secret = started.json()["secret"]
    confirmed = await client.post(
        "/users/me/mfa/totp/confirm",
        json={"code": pyotp.TOTP(secret).at(clock())},
        headers=who.headers,
    )
    assert confirmed.status_code == 200, confirmed.text
    clock.next_step()  # the confirming step is spent
    return Enrolled(who, secret, confirmed.json()["recovery_codes"])


async def password_step(client: httpx.AsyncClient, login: str) -> str:
    response = await client.post("/auth/token", data={"username": login, "password": PASSWORD})
    body = assert_problem(response, 401)
    assert body["type"] == MFA_REQUIRED
    assert "access_token" not in body
    token: str = body["mfa_token"]
    return token


async def second_step(client: httpx.AsyncClient, mfa_token: str, **proof: str) -> httpx.Response:
    return await client.post("/auth/token/mfa", json={"mfa_token": mfa_token, **proof})


async def mfa_login(
    client: httpx.AsyncClient, enrolled: Enrolled, clock: OffsetClock
) -> dict[str, Any]:
    """Both steps with the current code; the clock then moves on a step."""
    response = await second_step(
        client, await password_step(client, enrolled.account.username), code=enrolled.code(clock)
    )
    assert response.status_code == 200, response.text
    clock.next_step()
    pair: dict[str, Any] = response.json()
    return pair


def claims(access_token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(
        access_token, TEST_JWT_SECRET, algorithms=["HS256"], audience="users-items"
    )
    return decoded


async def emails(container: Container, event_type: str) -> list[dict[str, Any]]:
    async with container.uow() as uow:
        messages = await uow.repository(Outbox).list(OutboxStatus.PENDING, 1000)
    return [dict(m.payload) for m in messages if m.event_type == event_type]


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


# --- enrolment -------------------------------------------------------------------------------


async def test_enrolment_gives_a_secret_and_its_uri_and_is_off_until_confirmed(
    client: httpx.AsyncClient, ada: Account, clock: OffsetClock
) -> None:
    me = await client.get("/users/me", headers=ada.headers)
    assert me.json()["mfa_enabled"] is False
    started = await client.post("/users/me/mfa/totp", headers=ada.headers)
    assert started.status_code == 200
    assert "no-store" in started.headers["cache-control"]
    body = started.json()
    assert set(body) == {"secret", "otpauth_uri"}
    assert len(body["secret"]) == 32  # base32, 160 bits
    uri = urlsplit(body["otpauth_uri"])
    assert (uri.scheme, uri.netloc, uri.path) == ("otpauth", "totp", "/users-items:ada")
    query = {name: values[0] for name, values in parse_qs(uri.query).items()}
    assert query == {
        "secret": body["secret"],
        "issuer": "users-items",
        "algorithm": "SHA1",
        "digits": "6",
        "period": "30",
    }
    still_off = await client.get("/users/me", headers=ada.headers)
    assert still_off.json()["mfa_enabled"] is False
    # The login is still the password alone.
    assert (
        await client.post("/auth/token", data={"username": "ada", "password": PASSWORD})
    ).json()["access_token"]


async def test_confirming_turns_it_on_ends_every_other_session_and_queues_a_notice(
    client: httpx.AsyncClient, container: Container, ada: Account, clock: OffsetClock
) -> None:
    other = await client.post("/auth/token", data={"username": "ada", "password": PASSWORD})
    enrolled = await enable(client, ada, clock)
    assert len(enrolled.recovery_codes) == 10
    assert len(set(enrolled.recovery_codes)) == 10
    me = await client.get("/users/me", headers=ada.headers)
    assert me.json()["mfa_enabled"] is True
    # The other session ended; the caller's own goes on.
    refused = await client.post(
        "/auth/refresh", json={"refresh_token": other.json()["refresh_token"]}
    )
    assert_problem(refused, 401)
    sessions = await client.get("/users/me/sessions", headers=ada.headers)
    assert [s["current"] for s in sessions.json()["items"]] == [True]
    notices = await emails(container, MFA_ENABLED)
    assert notices == [{"user_id": ada.id, "email": ada.email, "username": "ada"}]


async def test_confirming_refuses_a_wrong_code_or_nothing_started_and_bad_bodies(
    client: httpx.AsyncClient, ada: Account, clock: OffsetClock
) -> None:
    nothing = await client.post("/users/me/mfa/totp/confirm", json=NOT_A_CODE, headers=ada.headers)
    assert_problem(nothing, 400)
    started = await client.post("/users/me/mfa/totp", headers=ada.headers)
    code = pyotp.TOTP(started.json()["secret"]).at(clock())
    bad = await client.post(
        "/users/me/mfa/totp/confirm", json={"code": wrong(code)}, headers=ada.headers
    )
    assert_problem(bad, 400)
    for body in ({"code": "12345"}, {"code": "abcdef"}, {}, {"code": code, "extra": 1}):
        invalid = await client.post("/users/me/mfa/totp/confirm", json=body, headers=ada.headers)
        assert_problem(invalid, 422)
    me = await client.get("/users/me", headers=ada.headers)
    assert me.json()["mfa_enabled"] is False
    assert_problem(await client.post("/users/me/mfa/totp/confirm", json={"code": code}), 401)


async def test_on_already_is_409_for_starting_and_confirming(
    client: httpx.AsyncClient, ada: Account, clock: OffsetClock
) -> None:
    enrolled = await enable(client, ada, clock)
    body = assert_problem(await client.post("/users/me/mfa/totp", headers=ada.headers), 409)
    assert body["errors"][0]["field"] == "mfa_enabled"
    again = await client.post(
        "/users/me/mfa/totp/confirm", json={"code": enrolled.code(clock)}, headers=ada.headers
    )
    assert_problem(again, 409)


async def test_starting_needs_a_fresh_login(client: httpx.AsyncClient, ada: Account) -> None:
    stale = make_token(ada.id, auth_time=int(datetime.now(UTC).timestamp()) - 3600)
    response = await client.post("/users/me/mfa/totp", headers=bearer(stale))
    assert_problem(response, 401)
    assert 'error="insufficient_user_authentication"' in response.headers["www-authenticate"]
    assert_problem(await client.post("/users/me/mfa/totp"), 401)


# --- the login ---------------------------------------------------------------------------------


async def test_the_login_with_a_second_factor_end_to_end(
    client: httpx.AsyncClient, ada: Account, clock: OffsetClock
) -> None:
    assert claims(ada.token)["amr"] == ["pwd"]
    enrolled = await enable(client, ada, clock)
    wrong_password = await client.post(
        "/auth/token", data={"username": "ada", "password": "not the password"}
    )
    body = assert_problem(wrong_password, 401)
    assert body["type"] == "about:blank"
    assert "mfa_token" not in body
    mfa_token = await password_step(client, "ada@example.com")  # by email too
    response = await second_step(client, mfa_token, code=enrolled.code(clock))
    assert response.status_code == 200, response.text
    assert "no-store" in response.headers["cache-control"]
    pair = response.json()
    assert set(pair) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert pair["token_type"] == "bearer"
    assert claims(pair["access_token"])["amr"] == ["pwd", "otp"]
    me = await client.get("/users/me", headers=bearer(pair["access_token"]))
    assert me.json()["username"] == "ada"
    refreshed = await client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert claims(refreshed.json()["access_token"])["amr"] == ["pwd", "otp"]
    assert (
        claims(refreshed.json()["access_token"])["auth_time"]
        == claims(pair["access_token"])["auth_time"]
    )


async def test_the_mfa_token_survives_wrong_codes_and_is_single_use(
    client: httpx.AsyncClient, ada: Account, clock: OffsetClock
) -> None:
    enrolled = await enable(client, ada, clock)
    mfa_token = await password_step(client, "ada")
    code = enrolled.code(clock)
    assert_problem(await second_step(client, mfa_token, code=wrong(code)), 401)
    assert (await second_step(client, mfa_token, code=code)).status_code == 200
    clock.next_step()
    used = await second_step(client, mfa_token, code=enrolled.code(clock))
    assert "already used" in assert_problem(used, 401)["detail"]


async def test_a_code_works_once_within_a_step_either_side(
    client: httpx.AsyncClient, ada: Account, clock: OffsetClock
) -> None:
    enrolled = await enable(client, ada, clock)
    code = enrolled.code(clock)
    assert (
        await second_step(client, await password_step(client, "ada"), code=code)
    ).status_code == 200
    # One mfa_token for the refusals: it survives them (and each costs a unit of the limit).
    mfa_token = await password_step(client, "ada")
    assert_problem(await second_step(client, mfa_token, code=code), 401)  # the replay
    clock.next_step(3)
    for steps_ahead in (-2, 2):
        too_far = await second_step(client, mfa_token, code=enrolled.code(clock, steps_ahead))
        assert_problem(too_far, 401)
    ahead = await second_step(client, mfa_token, code=enrolled.code(clock, 1))
    assert ahead.status_code == 200, ahead.text


async def test_the_mfa_token_expires_after_five_minutes(
    client: httpx.AsyncClient, ada: Account, clock: OffsetClock
) -> None:
    enrolled = await enable(client, ada, clock)
    mfa_token = await password_step(client, "ada")
    clock.offset += timedelta(seconds=301)
    expired = await second_step(client, mfa_token, code=enrolled.code(clock))
    assert "expired" in assert_problem(expired, 401)["detail"]
    for token in ("not-a-token", ada.token):
        assert_problem(await second_step(client, token, code=enrolled.code(clock)), 401)


async def test_a_recovery_code_logs_in_once_and_queues_a_notice(
    client: httpx.AsyncClient, container: Container, ada: Account, clock: OffsetClock
) -> None:
    enrolled = await enable(client, ada, clock)
    code = enrolled.recovery_codes[0]
    first = await second_step(client, await password_step(client, "ada"), recovery_code=code)
    assert first.status_code == 200, first.text
    assert claims(first.json()["access_token"])["amr"] == ["pwd", "otp"]
    again = await second_step(client, await password_step(client, "ada"), recovery_code=code)
    assert_problem(again, 401)
    assert len(await emails(container, MFA_RECOVERY_CODE_USED)) == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"code": "123456", "recovery_code": "abcd-efgh-jkmn-pqrs"},
        {"code": "1234567"},
        {"recovery_code": ""},
        {"code": "123456", "other": True},
    ],
)
async def test_the_second_step_takes_exactly_one_code(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    assert_problem(await client.post("/auth/token/mfa", json={"mfa_token": "x.y.z", **body}), 422)


async def test_wrong_codes_count_as_failed_logins_and_end_in_429(
    client: httpx.AsyncClient, ada: Account, clock: OffsetClock
) -> None:
    enrolled = await enable(client, ada, clock)
    mfa_token = await password_step(client, "ada")  # one unit of the limit
    for _ in range(LIMIT - 1):
        assert_problem(await second_step(client, mfa_token, code=wrong(enrolled.code(clock))), 401)
    throttled = await second_step(client, mfa_token, code=enrolled.code(clock))
    assert_problem(throttled, 429)
    assert int(throttled.headers["retry-after"]) > 0
    password = await client.post("/auth/token", data={"username": "ada", "password": PASSWORD})
    assert_problem(password, 429)


async def test_fifty_concurrent_wrong_codes_check_no_more_codes_than_the_limit(
    client: httpx.AsyncClient, ada: Account, clock: OffsetClock, totp: CountingTotp
) -> None:
    enrolled = await enable(client, ada, clock)
    mfa_token = await password_step(client, "ada")
    checks = totp.checks
    bad = wrong(enrolled.code(clock))
    responses = await asyncio.gather(*(second_step(client, mfa_token, code=bad) for _ in range(50)))
    statuses = sorted(response.status_code for response in responses)
    # The password step holds one unit of the pair's limit; each check reserved one before it.
    assert totp.checks - checks == LIMIT - 1
    assert statuses == [401] * (LIMIT - 1) + [429] * (50 - (LIMIT - 1))


# --- step-up, turning off, new recovery codes -------------------------------------------------


async def test_a_fresh_login_of_an_mfa_user_passed_both_factors(
    client: httpx.AsyncClient, ada: Account, clock: OffsetClock
) -> None:
    enrolled = await enable(client, ada, clock)
    password_only = await client.patch(
        "/users/me", json={"email": "ada.new@example.com"}, headers=ada.headers
    )
    assert_problem(password_only, 401)
    assert "insufficient_user_authentication" in password_only.headers["www-authenticate"]
    both = await mfa_login(client, enrolled, clock)
    changed = await client.patch(
        "/users/me", json={"email": "ada.new@example.com"}, headers=bearer(both["access_token"])
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["mfa_enabled"] is True


async def test_turning_it_off_with_a_code_then_the_password_alone_logs_in(
    client: httpx.AsyncClient, container: Container, ada: Account, clock: OffsetClock
) -> None:
    enrolled = await enable(client, ada, clock)
    both = bearer((await mfa_login(client, enrolled, clock))["access_token"])
    bad = await client.request(
        "DELETE", "/users/me/mfa", json={"code": wrong(enrolled.code(clock))}, headers=both
    )
    assert_problem(bad, 400)
    off = await client.request(
        "DELETE", "/users/me/mfa", json={"code": enrolled.code(clock)}, headers=both
    )
    assert off.status_code == 204, off.text
    me = await client.get("/users/me", headers=both)
    assert me.json()["mfa_enabled"] is False
    login = await client.post("/auth/token", data={"username": "ada", "password": PASSWORD})
    assert claims(login.json()["access_token"])["amr"] == ["pwd"]
    assert len(await emails(container, MFA_DISABLED)) == 1
    not_on = await client.request("DELETE", "/users/me/mfa", json=NOT_A_CODE, headers=both)
    assert_problem(not_on, 409)


async def test_turning_it_off_with_a_recovery_code(
    client: httpx.AsyncClient, ada: Account, clock: OffsetClock
) -> None:
    enrolled = await enable(client, ada, clock)
    both = bearer((await mfa_login(client, enrolled, clock))["access_token"])
    off = await client.request(
        "DELETE",
        "/users/me/mfa",
        json={"recovery_code": enrolled.recovery_codes[5].upper()},
        headers=both,
    )
    assert off.status_code == 204, off.text


async def test_turning_it_off_needs_a_login_that_passed_both_factors(
    client: httpx.AsyncClient, ada: Account, clock: OffsetClock
) -> None:
    enrolled = await enable(client, ada, clock)
    for headers in (ada.headers, bearer(make_token(ada.id, auth_time=0, amr=["pwd", "otp"]))):
        stale = await client.request(
            "DELETE", "/users/me/mfa", json={"code": enrolled.code(clock)}, headers=headers
        )
        assert_problem(stale, 401)
    for body in ({}, {"code": "123456", "recovery_code": "x"}):
        assert_problem(
            await client.request("DELETE", "/users/me/mfa", json=body, headers=ada.headers), 422
        )


async def test_new_recovery_codes_replace_the_old_ones(
    client: httpx.AsyncClient, container: Container, ada: Account, clock: OffsetClock
) -> None:
    enrolled = await enable(client, ada, clock)
    password_only = await client.post(
        "/users/me/mfa/recovery-codes", json={"code": enrolled.code(clock)}, headers=ada.headers
    )
    assert_problem(password_only, 401)
    both = bearer((await mfa_login(client, enrolled, clock))["access_token"])
    bad = await client.post(
        "/users/me/mfa/recovery-codes", json={"code": wrong(enrolled.code(clock))}, headers=both
    )
    assert_problem(bad, 400)
    new = await client.post(
        "/users/me/mfa/recovery-codes", json={"code": enrolled.code(clock)}, headers=both
    )
    assert new.status_code == 200, new.text
    codes = new.json()["recovery_codes"]
    assert len(codes) == 10
    assert not set(codes) & set(enrolled.recovery_codes)
    old = await second_step(
        client, await password_step(client, "ada"), recovery_code=enrolled.recovery_codes[0]
    )
    assert_problem(old, 401)
    fresh = await second_step(client, await password_step(client, "ada"), recovery_code=codes[0])
    assert fresh.status_code == 200
    assert len(await emails(container, MFA_RECOVERY_CODES_REGENERATED)) == 1
    bob = await account(client, "bob")
    not_on = await client.post("/users/me/mfa/recovery-codes", json=NOT_A_CODE, headers=bob.headers)
    assert_problem(not_on, 409)


# --- what a reset leaves, what a dump and the export hold -----------------------------------------


async def test_a_password_reset_leaves_the_second_factor_on(
    client: httpx.AsyncClient, container: Container, ada: Account, clock: OffsetClock
) -> None:
    enrolled = await enable(client, ada, clock)
    assert (await client.post("/auth/password-reset", json={"email": ada.email})).status_code == 202
    async with container.uow() as uow:
        messages = await uow.repository(Outbox).list(OutboxStatus.PENDING, 1000)
    token = [m.payload["token"] for m in messages if "token" in m.payload][-1]
    new_password = "a brand new horse battery"
    confirmed = await client.post(
        "/auth/password-reset/confirm", json={"token": token, "new_password": new_password}
    )
    assert confirmed.status_code == 204, confirmed.text
    login = await client.post("/auth/token", data={"username": "ada", "password": new_password})
    mfa_token = assert_problem(login, 401)["mfa_token"]
    done = await second_step(client, mfa_token, code=enrolled.code(clock))
    assert done.status_code == 200


async def test_neither_secret_nor_codes_are_readable_in_the_database_or_the_export(
    client: httpx.AsyncClient, container: Container, ada: Account, clock: OffsetClock
) -> None:
    enrolled = await enable(client, ada, clock)
    exported = await client.get("/users/me/export", headers=ada.headers)
    assert exported.json()["user"]["mfa_enabled"] is True
    dump = exported.text
    async with container.engine().connect() as connection:
        for table in ("users", "user_mfa", "mfa_recovery_codes", "outbox", "refresh_tokens"):
            rows = (await connection.execute(text(f"SELECT * FROM {table}"))).all()  # noqa: S608
            dump += repr(rows)
    assert enrolled.secret not in dump
    for code in enrolled.recovery_codes:
        assert code not in dump
        assert code.replace("-", "") not in dump


async def test_the_operator_turns_it_off_with_mfa_reset(
    client: httpx.AsyncClient, container: Container, ada: Account, clock: OffsetClock
) -> None:
    await enable(client, ada, clock)
    user = await container.reset_second_factor().execute("ada")
    assert not user.mfa_enabled or user.id == ada.id
    login = await client.post("/auth/token", data={"username": "ada", "password": PASSWORD})
    assert login.status_code == 200, login.text


# --- administrators ------------------------------------------------------------------------------


@pytest.fixture
async def strict_client(
    database_url: str, clean_engine: Any, clock: OffsetClock
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with ADMIN_MFA_REQUIRED=true, sharing the test's clock."""
    container = build_container(database_url, admin_mfa_required=True)
    container.engine.override(providers.Object(clean_engine))
    container.mfa_clock.override(providers.Object(clock))
    async with app_client(container) as client:
        client.container = container  # type: ignore[attr-defined]
        yield client
    container.password_hasher().close()


async def test_an_admin_without_the_second_factor_gets_403_when_it_is_required(
    strict_client: httpx.AsyncClient, clock: OffsetClock
) -> None:
    client = strict_client
    container: Container = client.container  # type: ignore[attr-defined]
    root = await account(client, "root")
    async with container.uow() as uow:
        await uow.repository(UserRepository).set_admin(root.id, admin=True)
        await uow.commit()
    refused = await client.get("/admin/users", headers=root.headers)
    assert "second factor" in assert_problem(refused, 403)["detail"]
    patch = await client.patch(
        f"/admin/users/{root.id}", json={"is_active": True}, headers=root.headers
    )
    assert_problem(patch, 403)
    enrolled = await enable(client, root, clock)
    both = await mfa_login(client, enrolled, clock)
    listed = await client.get("/admin/users", headers=bearer(both["access_token"]))
    assert listed.status_code == 200, listed.text
    assert [user["mfa_enabled"] for user in listed.json()["items"]] == [True]
    bob = await sign_up(client, "bob")
    assert bob["mfa_enabled"] is False

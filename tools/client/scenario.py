"""A whole session through a client generated from /openapi.json by openapi-python-client.

tests/api/test_generated_client.py generates ``users_items_client`` next to a copy of this file,
type-checks both with ``mypy --strict``, and runs ``python scenario.py BASE_URL`` against a real
``users-items serve``. The client raises ``UnexpectedStatus`` on any status the schema does not
document, so every answer below, errors included, arrives as a typed, documented model.

Not part of the service's packages (it imports a package that exists only once generated).
"""

from __future__ import annotations

import sys
import time
from http import HTTPStatus
from typing import TypeVar

import pyotp
from users_items_client import AuthenticatedClient, Client
from users_items_client.api.auth import (
    complete_mfa_login,
    create_access_token,
    log_out,
    refresh_access_token,
)
from users_items_client.api.items import (
    add_item_to_user,
    delete_item,
    get_item,
    list_user_items,
    update_item,
)
from users_items_client.api.second_factor import (
    confirm_totp_enrolment,
    disable_second_factor,
    start_totp_enrolment,
)
from users_items_client.api.users import create_user, get_current_user, get_user
from users_items_client.models import (
    CodeBody,
    Item,
    ItemCreate,
    ItemPage,
    ItemUpdate,
    LoginForm,
    MfaRequiredProblem,
    NewRecoveryCodes,
    Problem,
    ProblemWithErrors,
    RefreshTokenBody,
    Token,
    TotpEnrolment,
    UserCreate,
    UserPrivate,
    UserPublic,
)
from users_items_client.types import UNSET

T = TypeVar("T")
PASSWORD = "correct horse battery staple"
MIB = 1024 * 1024


def expect(value: object, cls: type[T]) -> T:
    """``value`` as ``cls``, or the scenario fails saying what came instead."""
    if not isinstance(value, cls):
        raise AssertionError(f"expected {cls.__name__}, got {value!r}")
    return value


def check(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def sign_up(client: Client, name: str) -> UserPrivate:
    body = UserCreate(email=f"{name}@example.com", username=name, password=PASSWORD)
    response = create_user.sync_detailed(client=client, body=body)
    check(response.status_code == HTTPStatus.CREATED, f"signup: {response.status_code}")
    user = expect(response.parsed, UserPrivate)
    check(response.headers["location"] == f"/users/{user.id}", "signup: Location")
    return user


def log_in(client: Client, name: str) -> Token:
    body = LoginForm(username=name, password=PASSWORD)
    return expect(create_access_token.sync(client=client, body=body), Token)


def main(base_url: str) -> None:
    client = Client(base_url=base_url, raise_on_unexpected_status=True)
    ada, bob = sign_up(client, "ada"), sign_up(client, "bob")

    # A second signup with the same name: 409, naming the field.
    taken = create_user.sync(
        client=client, body=UserCreate(email="ADA@example.com", username="x_y", password=PASSWORD)
    )
    check([e.field for e in expect(taken, ProblemWithErrors).errors] == ["email"], "409")

    # Wrong password: a typed 401.
    wrong = create_access_token.sync(client=client, body=LoginForm(username="ada", password="x"))
    check(expect(wrong, Problem).status == 401, "wrong password")

    # Refresh spends the token; presenting it again revokes the whole login (reuse detection).
    first = log_in(client, "ada")
    spent = RefreshTokenBody(refresh_token=first.refresh_token)
    second = expect(refresh_access_token.sync(client=client, body=spent), Token)
    reuse = refresh_access_token.sync(client=client, body=spent)
    check(expect(reuse, Problem).status == 401, "reuse is refused")
    descendant = RefreshTokenBody(refresh_token=second.refresh_token)
    revoked = refresh_access_token.sync(client=client, body=descendant)
    check(expect(revoked, Problem).status == 401, "reuse revoked the family")

    token = log_in(client, "ada")
    as_ada = AuthenticatedClient(
        base_url=base_url, token=token.access_token, raise_on_unexpected_status=True
    )
    me = expect(get_current_user.sync(client=as_ada), UserPrivate)
    check((me.id, me.email) == (ada.id, "ada@example.com"), "me")
    check(expect(get_user.sync(bob.id, client=as_ada), UserPublic).username == "bob", "bob")

    # Items, then cursor pages over them.
    created = [
        expect(add_item_to_user.sync(ada.id, client=as_ada, body=ItemCreate(title=f"n{n}")), Item)
        for n in range(5)
    ]
    titles: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = expect(
            list_user_items.sync(
                ada.id, client=as_ada, limit=2, cursor=UNSET if cursor is None else cursor
            ),
            ItemPage,
        )
        titles += [item.title for item in page.items]
        pages += 1
        if not isinstance(page.next_cursor, str):
            break
        cursor = page.next_cursor
    check(titles == [f"n{n}" for n in range(5)] and pages == 3, f"pages: {titles}")

    # Patch, then delete.
    first_item = created[0]
    patched = update_item.sync(
        first_item.id, client=as_ada, body=ItemUpdate(title="Red bicycle", description="Fast")
    )
    check(expect(patched, Item).title == "Red bicycle", "patch")
    deleted = delete_item.sync_detailed(created[1].id, client=as_ada)
    check(deleted.status_code == HTTPStatus.NO_CONTENT, f"delete: {deleted.status_code}")
    gone = get_item.sync(created[1].id, client=as_ada)
    check(expect(gone, Problem).status == 404, "deleted item is gone")

    # bob may not touch ada's item, nor add to her collection.
    as_bob = AuthenticatedClient(
        base_url=base_url,
        token=log_in(client, "bob").access_token,
        raise_on_unexpected_status=True,
    )
    forbidden = update_item.sync(first_item.id, client=as_bob, body=ItemUpdate(title="Mine"))
    check(expect(forbidden, Problem).status == 403, "403 on someone else's item")
    not_his = add_item_to_user.sync(ada.id, client=as_bob, body=ItemCreate(title="Gift"))
    check(expect(not_his, Problem).status == 403, "403 on someone else's collection")

    # Errors the schema documents arrive typed, not as UnexpectedStatus: 422 and 413.
    blank = add_item_to_user.sync(ada.id, client=as_ada, body=ItemCreate(title="   "))
    check(expect(blank, ProblemWithErrors).errors[0].field == "body.title", "422")
    huge = add_item_to_user.sync(ada.id, client=as_ada, body=ItemCreate(title="x" * (2 * MIB)))
    check(expect(huge, Problem).status == 413, "413")

    # Logout revokes the refresh token.
    ended = log_out.sync_detailed(
        client=client, body=RefreshTokenBody(refresh_token=token.refresh_token)
    )
    check(ended.status_code == HTTPStatus.NO_CONTENT, f"logout: {ended.status_code}")
    after = refresh_access_token.sync(
        client=client, body=RefreshTokenBody(refresh_token=token.refresh_token)
    )
    check(expect(after, Problem).status == 401, "refresh after logout")

    second_factor(client, base_url)
    print("scenario passed")


def second_factor(client: Client, base_url: str) -> None:
    """Carol turns the second factor on, with codes computed from the secret the API returned,
    then logs in with her password and a code, and turns it off again."""
    sign_up(client, "carol")
    as_carol = AuthenticatedClient(
        base_url=base_url,
        token=log_in(client, "carol").access_token,
        raise_on_unexpected_status=True,
    )
    enrolment = expect(start_totp_enrolment.sync(client=as_carol), TotpEnrolment)
    check(enrolment.otpauth_uri.startswith("otpauth://totp/users-items:carol?"), "otpauth URI")
    totp = pyotp.TOTP(enrolment.secret)
    now = time.time()
    confirmed = confirm_totp_enrolment.sync(client=as_carol, body=CodeBody(code=totp.at(now)))
    check(len(expect(confirmed, NewRecoveryCodes).recovery_codes) == 10, "10 recovery codes")
    check(expect(get_current_user.sync(client=as_carol), UserPrivate).mfa_enabled, "on")

    # The password alone gives no tokens now: a typed 401 with the mfa_token.
    challenge = create_access_token.sync(
        client=client, body=LoginForm(username="carol", password=PASSWORD)
    )
    mfa_token = expect(challenge, MfaRequiredProblem).mfa_token
    check(
        expect(challenge, MfaRequiredProblem).type_ == "urn:users-items:problem:mfa-required",
        "mfa-required",
    )
    # The confirming step's code is spent; the next step's is accepted (one step either side).
    # The request body is a oneOf (a code or a recovery code), which the generator types as Any.
    window = {totp.at(now + steps * 30) for steps in (-1, 0, 1, 2)}
    wrong_code = next(
        code for code in ("000000", "111111", "222222", "333333", "444444") if code not in window
    )
    wrong = complete_mfa_login.sync(
        client=client, body={"mfa_token": mfa_token, "code": wrong_code}
    )
    check(expect(wrong, Problem).status == 401, "a wrong code")
    token = expect(
        complete_mfa_login.sync(
            client=client, body={"mfa_token": mfa_token, "code": totp.at(now + 30)}
        ),
        Token,
    )
    as_carol = AuthenticatedClient(
        base_url=base_url, token=token.access_token, raise_on_unexpected_status=True
    )
    # Off again, with a code: the login is fresh and passed both factors.
    off = disable_second_factor.sync_detailed(
        client=as_carol,
        body={"recovery_code": expect(confirmed, NewRecoveryCodes).recovery_codes[0]},
    )
    check(off.status_code == HTTPStatus.NO_CONTENT, f"off: {off.status_code}")
    check(not expect(get_current_user.sync(client=as_carol), UserPrivate).mfa_enabled, "off")


if __name__ == "__main__":
    main(sys.argv[1])

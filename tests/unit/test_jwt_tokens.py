from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable

import jwt
import pytest

from adapters.jwt_tokens import JwtTokenService
from application.errors import NotAuthenticated
from tests.unit.support import AUDIENCE, ISSUER, TTL_SECONDS, claims_for, make_tokens

# 64 bytes, so that PyJWT does not warn when the HS384/HS512 forgeries are signed with it.
SECRET = "jwt-test-secret-long-enough-for-hs512-0123456789abcdef0123456789"
OTHER_SECRET = "another-jwt-secret-long-enough-for-hs512-0123456789abcdef01234567"
MISSING = object()


def claims(**changes: object) -> dict[str, object]:
    """Claims our service would issue for user 7, with some changed or dropped (MISSING)."""
    now = int(time.time())
    base: dict[str, object] = {
        "sub": "7",
        "iat": now,
        "exp": now + TTL_SECONDS,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "auth_time": now - 60,
        "ver": 3,
        "sid": "f" * 32,
    }
    base.update(changes)
    return {name: value for name, value in base.items() if value is not MISSING}


def signed(algorithm: str = "HS256", secret: str = SECRET, **changes: object) -> str:
    return jwt.encode(claims(**changes), secret, algorithm=algorithm)


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def unsigned_by_hand() -> str:
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims())}."


def signature_stripped() -> str:
    header, payload, _ = signed().split(".")
    return f"{header}.{payload}."


@pytest.fixture
def tokens() -> JwtTokenService:
    return make_tokens(secret=SECRET)


def test_an_issued_token_verifies_to_its_claims(tokens: JwtTokenService) -> None:
    issued = claims_for(42, credentials_version=5)
    token = tokens.issue(issued)

    verified = tokens.verify(token.token)

    assert verified.user_id == 42
    assert verified.credentials_version == 5
    assert verified.session_id == issued.session_id
    assert verified.auth_time == issued.auth_time.replace(microsecond=0)
    assert token.expires_in == TTL_SECONDS


def test_an_issued_token_carries_the_configured_claims(tokens: JwtTokenService) -> None:
    token = tokens.issue(claims_for(42)).token

    decoded = jwt.decode(token, SECRET, algorithms=["HS256"], audience=AUDIENCE)

    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert (decoded["sub"], decoded["iss"], decoded["aud"]) == ("42", ISSUER, AUDIENCE)
    assert decoded["exp"] - decoded["iat"] == TTL_SECONDS


def test_a_well_formed_token_crafted_with_the_secret_verifies(tokens: JwtTokenService) -> None:
    assert tokens.verify(signed()).user_id == 7


def test_a_token_expired_within_the_leeway_still_verifies(tokens: JwtTokenService) -> None:
    now = int(time.time())

    assert tokens.verify(signed(iat=now - TTL_SECONDS, exp=now - 2)).user_id == 7


FORGED: list[object] = [
    # PyJWT types the key as required once cryptography is installed; "none" takes None.
    pytest.param(lambda: jwt.encode(claims(), None, algorithm="none"), id="alg-none"),  # type: ignore[arg-type]
    pytest.param(unsigned_by_hand, id="alg-none-by-hand"),
    pytest.param(signature_stripped, id="signature-stripped"),
    pytest.param(lambda: signed("HS384"), id="HS384-same-secret"),
    pytest.param(lambda: signed("HS512"), id="HS512-same-secret"),
    pytest.param(lambda: signed(secret=OTHER_SECRET), id="wrong-secret"),
    pytest.param(lambda: signed(iss="someone-else"), id="wrong-issuer"),
    pytest.param(lambda: signed(aud="someone-else"), id="wrong-audience"),
    pytest.param(
        lambda: signed(iat=int(time.time()) - 2 * TTL_SECONDS, exp=int(time.time()) - 60),
        id="expired-beyond-leeway",
    ),
    pytest.param(lambda: signed(exp=MISSING), id="missing-exp"),
    pytest.param(lambda: signed(sub=MISSING), id="missing-sub"),
    pytest.param(lambda: signed(iat=MISSING), id="missing-iat"),
    pytest.param(lambda: signed(iss=MISSING), id="missing-iss"),
    pytest.param(lambda: signed(aud=MISSING), id="missing-aud"),
    pytest.param(lambda: signed(auth_time=MISSING), id="missing-auth-time"),
    pytest.param(lambda: signed(ver=MISSING), id="missing-ver"),
    pytest.param(lambda: signed(sid=MISSING), id="missing-sid"),
    pytest.param(lambda: signed(ver="3"), id="string-ver"),
    pytest.param(lambda: signed(ver=-1), id="negative-ver"),
    pytest.param(lambda: signed(auth_time=10**20), id="auth-time-beyond-any-date"),
    pytest.param(lambda: signed(sid=7), id="integer-sid"),
    pytest.param(lambda: signed(sub="ada"), id="non-numeric-sub"),
    pytest.param(lambda: signed(sub="-7"), id="negative-sub"),
    pytest.param(lambda: signed(sub="\u0667"), id="non-ascii-digit-sub"),
    pytest.param(lambda: signed(sub=7), id="integer-sub"),
    pytest.param(lambda: "garbage", id="garbage"),
    pytest.param(lambda: "", id="empty"),
]


@pytest.mark.parametrize("make_token", FORGED)
def test_an_unacceptable_token_is_not_authenticated(
    tokens: JwtTokenService, make_token: Callable[[], str]
) -> None:
    token = make_token()

    with pytest.raises(NotAuthenticated):
        tokens.verify(token)


class MovableClock:
    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now


def test_a_verified_token_kept_in_the_cache_still_expires() -> None:
    clock = MovableClock()
    tokens = JwtTokenService(
        secret=SECRET, issuer=ISSUER, audience=AUDIENCE, ttl_seconds=TTL_SECONDS, clock=clock
    )
    token = tokens.issue(claims_for(7)).token
    assert tokens.verify(token).user_id == 7  # verified, and kept

    clock.now += TTL_SECONDS + 10  # past its expiry, within the 10 s leeway
    assert tokens.verify(token).user_id == 7
    clock.now += 1  # past the leeway
    with pytest.raises(NotAuthenticated):
        tokens.verify(token)


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every token PyJWT is asked to decode, in order."""
    tokens: list[str] = []
    decode = jwt.decode

    def counting(token: str, *args: object, **kwargs: object) -> object:
        tokens.append(token)
        return decode(token, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jwt, "decode", counting)
    return tokens


def test_a_token_verified_again_is_not_decoded_again(
    tokens: JwtTokenService, decoded: list[str]
) -> None:
    first, second = tokens.issue(claims_for(7)).token, tokens.issue(claims_for(8)).token
    assert [tokens.verify(t).user_id for t in (first, first, second, first)] == [7, 7, 8, 7]
    assert decoded == [first, second]


def test_a_refused_token_is_not_kept(tokens: JwtTokenService, decoded: list[str]) -> None:
    """Nonsense is verified (and refused) every time: it costs no memory, and a token that a
    cache answered for would be one the signature check never saw."""
    token = tokens.issue(claims_for(7)).token
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert tokens.verify(token).user_id == 7
    for _ in range(2):
        with pytest.raises(NotAuthenticated):
            tokens.verify(tampered)
    assert decoded == [token, tampered, tampered]

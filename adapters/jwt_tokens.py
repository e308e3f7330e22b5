"""Access tokens and second-factor login challenges (``mfa_token``) as HS256 JWTs (PyJWT)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache

import jwt

from application.errors import InvalidMfaToken, NotAuthenticated
from application.ports import AccessClaims, AccessToken
from application.ports.second_factor import MfaChallenge

_ALGORITHM = "HS256"
# Verified access tokens kept, each until its expiry (docs/decisions/0053): about 2 MB when full
# (measured, the tokens being the keys); a token verified again costs a dictionary look-up
# instead of PyJWT's 70-80 us.
VERIFIED_CACHE_SIZE = 4096
_MAX_ID_DIGITS = 18
_MAX_METHODS = 8


def _small_int(value: object) -> int:
    # Below 2**37: as a timestamp, the year 6325; datetime cannot go much further.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**37:
        raise NotAuthenticated
    return value


def _methods(value: object) -> tuple[str, ...]:
    # RFC 8176: a JSON array of short strings. A token without one (issued before `amr` was)
    # was a password login.
    if (
        not isinstance(value, list)
        or not 1 <= len(value) <= _MAX_METHODS
        or not all(isinstance(method, str) and 1 <= len(method) <= 16 for method in value)
    ):
        raise NotAuthenticated
    return tuple(value)


class JwtTokenService:
    """Short-lived HS256 tokens with ``sub``, ``exp``, ``iat``, ``iss`` and ``aud``, plus
    ``auth_time`` (the login's time, RFC 9470), ``ver`` (the user's credentials version at that
    login), ``sid`` (the login's session: its refresh-token family) and ``amr`` (how that
    login authenticated, RFC 8176: ``["pwd"]`` or ``["pwd", "otp"]``).

    Verification pins the algorithm (so ``alg: none`` and algorithm confusion fail), requires
    every claim, checks issuer and audience, and allows a small leeway for clock skew.

    The claims of the last ``VERIFIED_CACHE_SIZE`` tokens that verified are kept (an LRU cache
    keyed by the whole token, signature included), so a client's next request with the same
    token skips the signature check and the parsing; its expiry is checked on every use all the
    same. A token that fails verification is never kept, so nonsense costs no memory. Whether
    the user is still active, and still at the token's credentials version, is the caller's
    look-up on every request (``GetCurrentUser``), as before.
    """

    def __init__(
        self,
        *,
        secret: str,
        issuer: str,
        audience: str,
        ttl_seconds: int,
        leeway_seconds: int = 10,
        clock: Callable[[], float] = time.time,
        verified_cache_size: int = VERIFIED_CACHE_SIZE,
    ) -> None:
        self._secret = secret
        self._issuer = issuer
        self._audience = audience
        self._ttl_seconds = ttl_seconds
        self._leeway_seconds = leeway_seconds
        self._clock = clock
        self._verified = lru_cache(maxsize=verified_cache_size)(self._decode)

    def issue(self, claims: AccessClaims) -> AccessToken:
        now = int(self._clock())
        payload = {
            "sub": str(claims.user_id),
            "iat": now,
            "exp": now + self._ttl_seconds,
            "iss": self._issuer,
            "aud": self._audience,
            "auth_time": int(claims.auth_time.timestamp()),
            "ver": claims.credentials_version,
            "sid": claims.session_id,
            "amr": list(claims.amr),
        }
        return AccessToken(
            token=jwt.encode(payload, self._secret, algorithm=_ALGORITHM),
            expires_in=self._ttl_seconds,
        )

    def verify(self, token: str) -> AccessClaims:
        claims, expires_at = self._verified(token)
        if self._clock() > expires_at + self._leeway_seconds:
            raise NotAuthenticated  # verified once, and kept, before it expired
        return claims

    def _decode(self, token: str) -> tuple[AccessClaims, int]:
        """The token's claims and its expiry, or ``NotAuthenticated``."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway_seconds,
                options={"require": ["sub", "exp", "iat", "iss", "aud", "auth_time", "ver", "sid"]},
            )
        except jwt.PyJWTError as error:
            raise NotAuthenticated from error
        subject = claims["sub"]
        if (
            not isinstance(subject, str)
            or not (subject.isascii() and subject.isdigit())
            or len(subject) > _MAX_ID_DIGITS
        ):
            raise NotAuthenticated
        session_id = claims["sid"]
        if not isinstance(session_id, str) or not 1 <= len(session_id) <= 64:
            raise NotAuthenticated
        verified = AccessClaims(
            user_id=int(subject),
            credentials_version=_small_int(claims["ver"]),
            auth_time=datetime.fromtimestamp(_small_int(claims["auth_time"]), UTC),
            session_id=session_id,
            amr=_methods(claims.get("amr", ["pwd"])),
        )
        return verified, _small_int(claims["exp"])


_CHALLENGE_TYPE = "mfa"
_CHALLENGE_LIFETIME_SECONDS = 300


class JwtMfaChallenges:
    """``mfa_token``: an HS256 JWT of its own audience (``<audience>:mfa``), so it is never
    taken for an access token (and an access token never for it). It names the user, their
    credentials version and their second-factor generation, and when the password was right;
    the use case decides expiry with its clock and single use with the generation, which moves
    on with every completed second-factor login."""

    def __init__(self, *, secret: str, issuer: str, audience: str) -> None:
        self._secret = secret
        self._issuer = issuer
        self._audience = f"{audience}:{_CHALLENGE_TYPE}"

    def issue(self, challenge: MfaChallenge) -> str:
        issued_at = int(challenge.issued_at.timestamp())
        payload = {
            "sub": str(challenge.user_id),
            "iat": issued_at,
            "exp": issued_at + _CHALLENGE_LIFETIME_SECONDS,
            "iss": self._issuer,
            "aud": self._audience,
            "typ": _CHALLENGE_TYPE,
            "ver": challenge.credentials_version,
            "gen": challenge.generation,
        }
        return jwt.encode(payload, self._secret, algorithm=_ALGORITHM)

    def read(self, token: str) -> MfaChallenge:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                # Expiry is decided by the use case's clock (tests move it); the signature,
                # issuer and audience are decided here.
                options={
                    "require": ["sub", "iat", "exp", "iss", "aud", "typ", "ver", "gen"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
            subject = claims["sub"]
            if claims["typ"] != _CHALLENGE_TYPE or not (
                isinstance(subject, str)
                and subject.isascii()
                and subject.isdigit()
                and len(subject) <= _MAX_ID_DIGITS
            ):
                raise InvalidMfaToken
            return MfaChallenge(
                user_id=int(subject),
                credentials_version=_small_int(claims["ver"]),
                generation=_small_int(claims["gen"]),
                issued_at=datetime.fromtimestamp(_small_int(claims["iat"]), UTC),
            )
        except (jwt.PyJWTError, NotAuthenticated) as error:
            raise InvalidMfaToken from error

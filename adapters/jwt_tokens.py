"""Access tokens as HS256 JWTs (PyJWT)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import jwt

from application.errors import NotAuthenticated
from application.ports import AccessClaims, AccessToken

_ALGORITHM = "HS256"
_MAX_ID_DIGITS = 18


def _small_int(value: object) -> int:
    # Below 2**37: as a timestamp, the year 6325; datetime cannot go much further.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**37:
        raise NotAuthenticated
    return value


class JwtTokenService:
    """Short-lived HS256 tokens with ``sub``, ``exp``, ``iat``, ``iss`` and ``aud``, plus
    ``auth_time`` (the login's time, RFC 9470), ``ver`` (the user's credentials version at that
    login) and ``sid`` (the login's session: its refresh-token family).

    Verification pins the algorithm (so ``alg: none`` and algorithm confusion fail), requires
    every claim, checks issuer and audience, and allows a small leeway for clock skew.
    """

    def __init__(
        self,
        *,
        secret: str,
        issuer: str,
        audience: str,
        ttl_seconds: int,
        leeway_seconds: int = 10,
    ) -> None:
        self._secret = secret
        self._issuer = issuer
        self._audience = audience
        self._ttl_seconds = ttl_seconds
        self._leeway_seconds = leeway_seconds

    def issue(self, claims: AccessClaims) -> AccessToken:
        now = int(time.time())
        payload = {
            "sub": str(claims.user_id),
            "iat": now,
            "exp": now + self._ttl_seconds,
            "iss": self._issuer,
            "aud": self._audience,
            "auth_time": int(claims.auth_time.timestamp()),
            "ver": claims.credentials_version,
            "sid": claims.session_id,
        }
        return AccessToken(
            token=jwt.encode(payload, self._secret, algorithm=_ALGORITHM),
            expires_in=self._ttl_seconds,
        )

    def verify(self, token: str) -> AccessClaims:
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
        return AccessClaims(
            user_id=int(subject),
            credentials_version=_small_int(claims["ver"]),
            auth_time=datetime.fromtimestamp(_small_int(claims["auth_time"]), UTC),
            session_id=session_id,
        )

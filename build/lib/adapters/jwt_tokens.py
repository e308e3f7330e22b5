"""Access tokens as HS256 JWTs (PyJWT)."""

from __future__ import annotations

import time

import jwt

from application.errors import NotAuthenticated
from application.ports import AccessToken

_ALGORITHM = "HS256"


class JwtTokenService:
    """Short-lived HS256 tokens with ``sub``, ``exp``, ``iat``, ``iss`` and ``aud``.

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

    def issue(self, user_id: int) -> AccessToken:
        now = int(time.time())
        claims = {
            "sub": str(user_id),
            "iat": now,
            "exp": now + self._ttl_seconds,
            "iss": self._issuer,
            "aud": self._audience,
        }
        return AccessToken(
            token=jwt.encode(claims, self._secret, algorithm=_ALGORITHM),
            expires_in=self._ttl_seconds,
        )

    def verify(self, token: str) -> int:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway_seconds,
                options={"require": ["sub", "exp", "iat", "iss", "aud"]},
            )
        except jwt.PyJWTError as error:
            raise NotAuthenticated from error
        subject = claims["sub"]
        if (
            not isinstance(subject, str)
            or not (subject.isascii() and subject.isdigit())
            or len(subject) > 18
        ):
            raise NotAuthenticated
        return int(subject)

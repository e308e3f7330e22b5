"""TOTP (RFC 6238) with pyotp: 6 digits, 30-second steps, SHA-1, issuer ``users-items``."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from datetime import datetime, timedelta

import pyotp

ISSUER = "users-items"
_STEP_SECONDS = 30
_DIGITS = 6
_WINDOW = 1  # steps accepted either side of now: clocks drift, people type slowly
_SECRET_CHARACTERS = 32  # base32: 5 bits each, 160 bits (RFC 4226's recommended length)


class PyotpTotp:
    """pyotp computes the codes; the time comes from the caller (the use case's clock), so
    tests cover every step edge without sleeping. Codes are compared in constant time."""

    def new_secret(self) -> str:
        return pyotp.random_base32(length=_SECRET_CHARACTERS)

    def provisioning_uri(self, secret: str, account_name: str) -> str:
        uri = self._totp(secret).provisioning_uri(name=account_name, issuer_name=ISSUER)
        # pyotp leaves out parameters at their defaults; some apps want them spelt out.
        return f"{uri}&algorithm=SHA1&digits={_DIGITS}&period={_STEP_SECONDS}"

    def matching_steps(self, secret: str, code: str, at: datetime) -> Sequence[int]:
        totp = self._totp(secret)
        steps = []
        for offset in range(-_WINDOW, _WINDOW + 1):
            moment = at + timedelta(seconds=offset * _STEP_SECONDS)
            if hmac.compare_digest(totp.at(moment), code):
                steps.append(totp.timecode(moment))
        return steps

    @staticmethod
    def _totp(secret: str) -> pyotp.TOTP:
        return pyotp.TOTP(secret, digits=_DIGITS, interval=_STEP_SECONDS)

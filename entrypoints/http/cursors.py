"""Opaque, tamper-proof pagination cursors.

A cursor is the last id of a page plus an HMAC over that id and the path it was issued for, in
URL-safe base64. A client cannot forge one, nor carry one from ``/users/1/items`` to ``/items``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct

_ID = struct.Struct(">Q")
_MAC_BYTES = 16
# 24 bytes in unpadded URL-safe base64: what every cursor looks like (the schema says so).
CURSOR_LENGTH = 32
CURSOR_PATTERN = rf"^[A-Za-z0-9_-]{{{CURSOR_LENGTH}}}$"


class InvalidCursor(ValueError):
    pass


class CursorCodec:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"users-items cursor key\x00" + secret.encode()).digest()

    def encode(self, after_id: int, scope: str) -> str:
        packed = _ID.pack(after_id)
        return base64.urlsafe_b64encode(packed + self._mac(packed, scope)).decode().rstrip("=")

    def decode(self, cursor: str, scope: str) -> int:
        try:
            # validate=True: a character outside the alphabet is an error, not silently skipped.
            padded = cursor + "=" * (-len(cursor) % 4)
            raw = base64.b64decode(padded, altchars=b"-_", validate=True)
        except (binascii.Error, ValueError) as error:
            raise InvalidCursor("cursor is not one this service issued") from error
        packed, mac = raw[: _ID.size], raw[_ID.size :]
        if len(raw) != _ID.size + _MAC_BYTES or not hmac.compare_digest(
            mac, self._mac(packed, scope)
        ):
            raise InvalidCursor("cursor is not one this service issued")
        (after_id,) = _ID.unpack(packed)
        return int(after_id)

    def _mac(self, packed: bytes, scope: str) -> bytes:
        # hmac.digest: OpenSSL's one-shot HMAC, without building an hmac.HMAC object.
        return hmac.digest(self._key, packed + scope.encode(), "sha256")[:_MAC_BYTES]

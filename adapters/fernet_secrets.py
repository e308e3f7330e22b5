"""Secrets at rest encrypted with ``cryptography``'s Fernet (AES-128-CBC + HMAC-SHA256), with
key rotation through MultiFernet: the first key encrypts, every key decrypts."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


def parse_keys(keys: str) -> list[str]:
    """``MFA_ENCRYPTION_KEY``: one Fernet key, or a comma-separated list (newest first).
    Raises ``ValueError`` naming the problem for a key that is not a Fernet key."""
    parsed = [key.strip() for key in keys.split(",") if key.strip()]
    if not parsed:
        raise ValueError("MFA_ENCRYPTION_KEY holds no key")
    for position, key in enumerate(parsed, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ValueError(
                f"MFA_ENCRYPTION_KEY: key {position} is not a Fernet key (32 url-safe base64 "
                "bytes: python3 -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')"
            ) from None
    return parsed


class SecretUnreadable(Exception):
    """A stored secret that no configured key decrypts (a key removed too early)."""


class FernetSecretBox:
    def __init__(self, keys: Sequence[str]) -> None:
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken:
            raise SecretUnreadable(
                "a second-factor secret is encrypted with a key MFA_ENCRYPTION_KEY no longer holds"
            ) from None

    def rotate(self, ciphertext: str) -> str:
        """The same secret under the newest key."""
        return self._fernet.rotate(ciphertext.encode()).decode()

"""The headers every response carries, by path."""

from __future__ import annotations

_NO_STORE_PREFIXES = ("/auth", "/users/me/mfa")


def is_auth_path(path: str) -> bool:
    """/auth and /users/me/mfa: answers that carry tokens, second-factor secrets or recovery
    codes."""
    return any(path == prefix or path.startswith(f"{prefix}/") for prefix in _NO_STORE_PREFIXES)


def security_headers(path: str) -> dict[str, str]:
    """``nosniff`` on every response; ``no-store`` on every /auth and /users/me/mfa response
    (tokens, login answers, secrets and recovery codes must never sit in a cache)."""
    headers = {"X-Content-Type-Options": "nosniff"}
    if is_auth_path(path):
        headers["Cache-Control"] = "no-store"
    return headers

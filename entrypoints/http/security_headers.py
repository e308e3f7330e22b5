"""The headers every response carries, by path."""

from __future__ import annotations


def is_auth_path(path: str) -> bool:
    return path == "/auth" or path.startswith("/auth/")


def security_headers(path: str) -> dict[str, str]:
    """``nosniff`` on every response; ``no-store`` on every /auth response (tokens and login
    answers must never sit in a cache)."""
    headers = {"X-Content-Type-Options": "nosniff"}
    if is_auth_path(path):
        headers["Cache-Control"] = "no-store"
    return headers

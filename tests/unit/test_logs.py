"""The redaction processor: secret-sounding keys and bearer tokens in messages."""

from __future__ import annotations

from typing import Any

import pytest

from entrypoints.logs import REDACTED, redact_secrets

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI3In0.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    "key",
    ["password", "new_password", "access_token", "refresh_token", "Authorization", "jwt_secret",
     "cookie", "api_key", "passwd"],
)  # fmt: skip
def test_values_under_secret_keys_are_replaced(key: str) -> None:
    event: dict[str, Any] = {"event": "x", key: "s3cret", "username": "ada"}

    redacted = redact_secrets(None, "info", event)

    assert redacted[key] == REDACTED
    assert redacted["username"] == "ada"


@pytest.mark.parametrize(
    "message",
    [f"header was Authorization: Bearer {JWT}", f"token {JWT} refused", "bearer abc.def-ghi"],
)
def test_tokens_inside_messages_are_masked(message: str) -> None:
    redacted = redact_secrets(None, "info", {"event": message})

    assert JWT not in redacted["event"]
    assert "abc.def-ghi" not in redacted["event"]
    assert REDACTED in redacted["event"]


def test_ordinary_lines_are_untouched() -> None:
    event = {"event": "request", "method": "GET", "route": "/users/{user_id}", "status": 200}

    assert redact_secrets(None, "info", dict(event)) == event

"""The redaction processor: secret-sounding keys and bearer tokens in messages."""

from __future__ import annotations

import io
import logging
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from entrypoints.logs import REDACTED, configure_logging, redact_secrets
from entrypoints.settings import Settings

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


@pytest.fixture(params=["console", "json"])
def logs_into_a_buffer(request: pytest.FixtureRequest) -> Iterator[io.StringIO]:
    """Logging in each format into a buffer for one test; the previous setup restored after."""
    stream = io.StringIO()
    structlog_config = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging(Settings(log_format=request.param, _env_file=None), stream)
    yield stream
    structlog.configure(**structlog_config)
    root.handlers = handlers
    root.setLevel(level)


def test_a_traceback_never_shows_local_variables(logs_into_a_buffer: io.StringIO) -> None:
    """An unhandled error is logged with its traceback; a local variable in a failing frame
    could be a password, so neither renderer may print locals."""

    def sign_up(password: str) -> None:
        hashed_later = f"{password}-not-hashed-yet"  # noqa: F841 - a local worth hiding
        raise RuntimeError("the hasher is gone")

    password = secrets.token_hex(12)  # made here: a literal would show in the code excerpt
    try:
        sign_up(password)
    except RuntimeError:
        logging.getLogger("users_items.test").exception("unhandled error")
        structlog.get_logger("users_items.test").exception("unhandled error")

    output = logs_into_a_buffer.getvalue()
    assert output.count("the hasher is gone") >= 2  # both loggers rendered the traceback
    assert password not in output

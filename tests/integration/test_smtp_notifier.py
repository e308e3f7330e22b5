"""The SMTP notifier against a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import socket
import time

import pytest

from adapters.notifiers import SmtpNotifier
from adapters.notifiers.smtp_notifier import EVENT_ID_HEADER
from application.ports import Notification, NotificationFailed
from entrypoints.container import build_notifier
from entrypoints.settings import Settings
from tests.support.smtp import smtp_server

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

WELCOME = Notification(
    event_id="6f1c2a8e-8f0e-4a57-9d1e-2b5c0e7d9a10",
    recipient="ada@example.com",
    subject="Welcome to users-items",
    body="Hello ada,\n",
)
SENDER = "users-items <no-reply@example.com>"


async def test_sends_the_mail_with_the_event_id_for_de_duplication() -> None:
    with smtp_server() as server:
        await SmtpNotifier(server.url(), SENDER, timeout_seconds=5).send(WELCOME)
        [mail] = server.handler.messages()

    assert mail["To"] == "ada@example.com"
    assert mail["From"] == SENDER
    assert mail["Subject"] == "Welcome to users-items"
    assert mail[EVENT_ID_HEADER] == WELCOME.event_id
    assert mail["Message-ID"] == f"<{WELCOME.event_id}@users-items>"
    assert mail.get_content().splitlines() == ["Hello ada,"]


async def test_logs_in_with_the_credentials_of_the_url() -> None:
    with smtp_server(credentials=("mailer", "s3cret/pass")) as server:
        url = server.url("mailer", "s3cret%2Fpass")  # URL-encoded, as in SMTP_URL
        await SmtpNotifier(url, SENDER, timeout_seconds=5).send(WELCOME)
        assert len(server.handler.messages()) == 1


async def test_wrong_credentials_fail_the_notification() -> None:
    with smtp_server(credentials=("mailer", "right")) as server:
        notifier = SmtpNotifier(server.url("mailer", "wrong"), SENDER, timeout_seconds=5)
        with pytest.raises(NotificationFailed):
            await notifier.send(WELCOME)
        assert server.handler.messages() == []


async def test_a_refused_message_fails_the_notification() -> None:
    with smtp_server() as server:
        server.handler.refusal = "550 mailbox unavailable"
        with pytest.raises(NotificationFailed, match="550"):
            await SmtpNotifier(server.url(), SENDER, timeout_seconds=5).send(WELCOME)


async def test_no_server_fails_the_notification() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: connection refused
        notifier = SmtpNotifier(f"smtp://127.0.0.1:{port}", SENDER, timeout_seconds=5)
        with pytest.raises(NotificationFailed):
            await notifier.send(WELCOME)


@pytest.mark.parametrize("url", ["http://mail.example.com", "smtp://", "mail.example.com:25"])
def test_refuses_a_url_that_is_not_smtp(url: str) -> None:
    with pytest.raises(ValueError, match="SMTP_URL"):
        SmtpNotifier(url, SENDER)


async def test_a_server_that_never_answers_fails_within_smtp_timeout_seconds() -> None:
    """A listening socket that never greets: the configured timeout, not the default 30 s, ends
    the attempt (the notifier is built from settings, as the worker builds it)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        settings = Settings(
            _env_file=None, smtp_url=f"smtp://127.0.0.1:{port}", smtp_timeout_seconds=0.5
        )
        started = time.monotonic()
        with pytest.raises(NotificationFailed):
            await build_notifier(settings).send(WELCOME)
        assert time.monotonic() - started < 5

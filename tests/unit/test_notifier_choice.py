"""SMTP_URL decides the notifier; the outbox settings reach the worker's use case."""

from __future__ import annotations

import pytest
from dependency_injector import providers

from adapters.notifiers import LoggingNotifier, SmtpNotifier
from application.deliver_outbox_messages import DeliverOutboxMessages, RetryPolicy
from entrypoints.container import Container, build_notifier
from entrypoints.settings import Settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SMTP_URL", "MAIL_FROM", "OUTBOX_MAX_ATTEMPTS"):
        monkeypatch.delenv(name, raising=False)


def test_without_smtp_url_notifications_go_to_the_log() -> None:
    assert isinstance(build_notifier(Settings(_env_file=None)), LoggingNotifier)


def test_smtp_url_sends_email(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTP_URL", "smtp://mailer:secret@mail.example.com:587")

    assert isinstance(build_notifier(Settings(_env_file=None)), SmtpNotifier)


def test_an_smtp_url_that_is_not_one_is_refused() -> None:
    with pytest.raises(ValueError, match="SMTP_URL"):
        build_notifier(Settings(_env_file=None, smtp_url="mail.example.com"))


def test_the_retry_policy_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTBOX_MAX_ATTEMPTS", "3")
    container = Container()
    container.settings.override(providers.Object(Settings(_env_file=None)))

    assert container.settings().retry_policy == RetryPolicy(
        max_attempts=3, base_delay_seconds=2.0, max_delay_seconds=300.0
    )
    assert isinstance(container.deliver_outbox_messages(), DeliverOutboxMessages)

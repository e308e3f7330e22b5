"""The events' settings: off by default, the contract's defaults, and the lease rule."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from entrypoints.container import Container
from entrypoints.settings import Settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("EVENTS_NATS_URL", "EVENTS_STREAM", "EVENTS_SUBJECT_PREFIX", "EVENTS_SOURCE"):
        monkeypatch.delenv(name, raising=False)


def test_events_are_off_by_default_with_the_contracts_names() -> None:
    settings = Settings(_env_file=None)

    assert not settings.events_enabled
    assert (settings.events_stream, settings.events_subject_prefix, settings.events_source) == (
        "USERS_ITEMS",
        "users-items",
        "/users-items",
    )
    container = Container()
    container.settings.override(settings)
    assert container.events().enabled is False


def test_a_nats_url_turns_events_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTS_NATS_URL", "nats://127.0.0.1:4222")

    assert Settings(_env_file=None).events_enabled


def test_a_publish_timeout_must_fit_in_half_the_lease() -> None:
    with pytest.raises(ValidationError, match="EVENTS_PUBLISH_TIMEOUT_SECONDS"):
        Settings(
            _env_file=None,
            events_nats_url="nats://127.0.0.1:4222",
            outbox_lease_seconds=10,
            events_publish_timeout_seconds=5,
        )
    # Without events the rule does not apply: a short lease for emails alone is fine.
    assert Settings(_env_file=None, outbox_lease_seconds=5).outbox_lease_seconds == 5


@pytest.mark.parametrize("prefix", ["", "users items", "a..b", "a.>"])
def test_a_subject_prefix_is_plain_tokens(prefix: str) -> None:
    with pytest.raises(ValidationError):
        Settings(_env_file=None, events_subject_prefix=prefix)

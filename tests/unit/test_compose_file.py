"""compose.yaml, checked structurally (no Docker engine needed): the services, their health
checks, and that migrations complete before the service and the worker start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no type hints

from entrypoints.settings import Settings

COMPOSE_FILE = Path(__file__).resolve().parents[2] / "compose.yaml"
APP_SERVICES = ("app", "worker", "migrate")
# Read by libraries or other parts rather than by Settings.
OTHER_VARIABLES = {"PROMETHEUS_MULTIPROC_DIR", "REDIS_URL"}


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    compose: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    found: dict[str, Any] = compose["services"]
    return found


def test_has_the_service_the_worker_the_migrations_postgresql_redis_and_nats(
    services: dict[str, Any],
) -> None:
    assert set(services) == {"app", "worker", "migrate", "postgres", "redis", "nats"}
    assert services["migrate"]["command"] == ["migrate"]
    assert services["worker"]["command"] == ["worker"]
    assert services["app"]["command"][0] == "serve"
    assert "0.0.0.0" in services["app"]["command"]  # noqa: S104 - inside the container


@pytest.mark.parametrize("name", ["app", "worker", "postgres", "redis", "nats"])
def test_long_running_services_have_a_health_check(services: dict[str, Any], name: str) -> None:
    check = services[name]["healthcheck"]
    assert check["test"][0] in ("CMD", "CMD-SHELL")
    assert len(check["test"]) > 1


AFTER_MIGRATIONS = {
    "migrate": {"condition": "service_completed_successfully"},
    "postgres": {"condition": "service_healthy"},
    "redis": {"condition": "service_healthy"},
}


def test_the_service_starts_after_migrations_and_healthy_stores(services: dict[str, Any]) -> None:
    assert services["app"]["depends_on"] == AFTER_MIGRATIONS  # never on the broker


def test_the_worker_starts_after_migrations_healthy_stores_and_broker(
    services: dict[str, Any],
) -> None:
    nats = {"nats": {"condition": "service_healthy"}}
    assert services["worker"]["depends_on"] == AFTER_MIGRATIONS | nats


def test_events_go_to_the_compose_broker_with_jetstream(services: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        assert services[name]["environment"]["EVENTS_NATS_URL"] == "nats://nats:4222"
    assert "-js" in services["nats"]["command"]


def test_migrations_wait_for_a_healthy_postgresql_and_run_once(services: dict[str, Any]) -> None:
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["migrate"]["restart"] == "no"


def test_one_image_and_one_configuration_for_service_worker_and_migrations(
    services: dict[str, Any],
) -> None:
    images = {services[name]["image"] for name in APP_SERVICES}
    assert len(images) == 1
    for name in APP_SERVICES:
        environment = services[name]["environment"]
        assert environment["ENVIRONMENT"] == "production"
        assert "@postgres:5432/" in environment["DATABASE_URL"]
        # The secret comes from the operator's environment; compose refuses to start without it.
        assert environment["JWT_SECRET"].startswith("${JWT_SECRET:?")


def test_every_variable_is_a_setting(services: dict[str, Any]) -> None:
    known = {name.upper() for name in Settings.model_fields} | OTHER_VARIABLES
    for name in APP_SERVICES:
        assert set(services[name]["environment"]) <= known, name

"""Logs and metrics of the real ``users-items serve`` process.

JSON lines in production format, one access line per request, no uvicorn access line, the
request id in every line a request causes, and no password, token or Authorization header in
any line, even at DEBUG level and for failing requests. With ``--workers 2`` and multiprocess
metrics, any worker reports the requests of both.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from prometheus_client.parser import text_string_to_metric_families

from tests.support.service import running_service

PASSWORD = "Sup3r-secret-Passw0rd"  # each of these must never appear in the logs
WRONG_PASSWORD = "Wr0ng-secret-Passw0rd"
SHORT_PASSWORD = "Sh0rt!"  # refused with a 422
FORGED_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.Zm9yZ2VkLXNpZ25hdHVyZQ"


def _exercise_with_secrets(base_url: str) -> tuple[str, str]:
    """Sign up, log in, call with the token, and fail in several ways; returns the token and
    the request id sent with the bearer request."""
    with httpx.Client(base_url=base_url) as client:
        signup = client.post(
            "/users", json={"email": "ada@example.com", "username": "ada", "password": PASSWORD}
        )
        assert signup.status_code == 201, signup.text
        login = client.post("/auth/token", data={"username": "ada", "password": PASSWORD})
        assert login.status_code == 200
        token: str = login.json()["access_token"]
        me = client.get(
            "/users/me",
            headers={"Authorization": f"Bearer {token}", "X-Request-ID": "bearer-call-1"},
        )
        assert me.status_code == 200
        user_id = me.json()["id"]
        assert client.get(f"/users/{user_id}", headers={"Authorization": f"Bearer {token}"})
        # Failing requests, each carrying a secret.
        wrong = client.post("/auth/token", data={"username": "ada", "password": WRONG_PASSWORD})
        assert wrong.status_code == 401
        forged = client.get("/users/me", headers={"Authorization": f"Bearer {FORGED_TOKEN}"})
        assert forged.status_code == 401
        short = client.post(
            "/users",
            json={"email": "bob@example.com", "username": "bob", "password": SHORT_PASSWORD},
        )
        assert short.status_code == 422
        taken = client.post(
            "/users", json={"email": "ada@example.com", "username": "ada", "password": PASSWORD}
        )
        assert taken.status_code == 409
    return token, "bearer-call-1"


def test_json_logs_carry_request_ids_and_never_a_secret(tmp_path: Path) -> None:
    env = {
        "ENVIRONMENT": "production",
        "JWT_SECRET": "x" * 48,
        "MFA_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "LOG_LEVEL": "DEBUG",
    }
    with running_service(tmp_path, env) as service:
        token, request_id = _exercise_with_secrets(service.base_url)
    # Read once the process has stopped: an access line is written after its response is sent,
    # so on a loaded machine the last one may not be in the file yet while the service runs.
    output = service.log()

    for secret in (PASSWORD, WRONG_PASSWORD, SHORT_PASSWORD, FORGED_TOKEN, token):
        assert secret not in output
    assert token.split(".")[2] not in output  # not even the signature on its own
    assert "authorization" not in output.lower()
    assert "HTTP/1.1" not in output  # uvicorn's own access log is off

    lines: list[dict[str, Any]] = [json.loads(line) for line in output.splitlines() if line]
    assert all({"event", "level", "timestamp"} <= set(line) for line in lines)
    assert any(line.get("logger") == "uvicorn.error" for line in lines)  # routed, same format
    access = [line for line in lines if line["event"] == "request"]
    bearer_call = [line for line in access if line["request_id"] == request_id]
    assert len(bearer_call) == 1
    assert bearer_call[0]["method"] == "GET"
    assert bearer_call[0]["route"] == "/users/me"
    assert bearer_call[0]["status"] == 200
    assert isinstance(bearer_call[0]["duration_ms"], float)
    assert {line["route"] for line in access} >= {"/users", "/auth/token", "/users/{user_id}"}
    assert all(line["request_id"] for line in access)
    # 1 readiness probe or more while starting, then the 8 requests of the exercise.
    assert len([line for line in access if line["route"] != "/health/ready"]) == 8


def _requests_total(base_url: str, route: str) -> float:
    text = httpx.get(f"{base_url}/metrics").text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "http_requests_total" and sample.labels["route"] == route
    )


def test_several_workers_report_one_view_of_the_requests(tmp_path: Path) -> None:
    metrics_dir = tmp_path / "metrics"
    env = {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    with running_service(tmp_path, env, "--workers", "2") as service:
        _wait_for(lambda: service.log().count("Application startup complete") == 2)
        sent = 0
        # Concurrent new connections until both workers have answered some (each worker writes
        # its own files, named by pid); bounded, in case one worker takes every connection.
        with ThreadPoolExecutor(max_workers=8) as pool:
            while len(_pids(metrics_dir)) < 2 and sent < 1000:
                statuses = list(pool.map(_live, [service.base_url] * 40))
                assert statuses == [200] * 40
                sent += 40
        workers = len(_pids(metrics_dir))
        scraped = [_requests_total(service.base_url, "/health/live") for _ in range(8)]

    print(f"{sent} requests answered by {workers} workers; scrapes saw {scraped}")
    assert workers == 2
    assert scraped == [float(sent)] * 8  # whichever worker answered the scrape


def _wait_for(condition: Callable[[], bool], deadline_s: float = 60) -> None:
    deadline = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.2)


def _live(base_url: str) -> int:
    return httpx.get(f"{base_url}/health/live").status_code


def _pids(metrics_dir: Path) -> set[str]:
    return {path.stem.rsplit("_", 1)[-1] for path in metrics_dir.glob("counter_*.db")}

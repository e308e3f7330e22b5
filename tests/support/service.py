"""The real ``users-items serve`` in its own process, on a free port, its output in a file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.ports import free_port

# The console script installed beside the interpreter running the tests (.venv/bin).
COMMAND = str(Path(sys.executable).with_name("users-items"))


@dataclass(frozen=True)
class RunningService:
    base_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text()


def wait_ready(
    base_url: str, process: subprocess.Popen[bytes], log: Path, deadline_s: float = 30
) -> None:
    """Until ``/health/ready`` answers 200; fails with the process's log if it exits first."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited with {process.returncode}: {log.read_text()}")
        try:
            if httpx.get(f"{base_url}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"serve did not become ready within {deadline_s} s")


@contextmanager
def running_service(
    workdir: Path,
    env: Mapping[str, str] | None = None,
    *arguments: str,
    log_name: str = "serve.log",
) -> Iterator[RunningService]:
    """``users-items serve`` in ``workdir`` (SQLite there unless ``env`` names a database),
    stdout and stderr both captured in ``workdir/<log_name>``; stopped with SIGTERM on exit,
    which it must survive cleanly."""
    environment = {**os.environ, "ENVIRONMENT": "development"}
    environment.pop("DATABASE_URL", None)
    environment.update(env or {})
    port = free_port()
    log_path = workdir / log_name
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - our own command
            [COMMAND, "serve", "--port", str(port), *arguments],
            cwd=workdir,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base_url, process, log_path)
        yield RunningService(base_url, log_path)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            returncode = process.wait(timeout=15)
        except subprocess.TimeoutExpired:  # pragma: no cover - only when shutdown hangs
            process.kill()
            process.wait()
            raise AssertionError("serve did not stop within 15 s of SIGTERM") from None
    # uvicorn shuts down gracefully, then re-raises the signal it caught: -SIGTERM.
    assert returncode in (0, -signal.SIGTERM), f"serve exited with {returncode}"

"""The real ``users-items serve`` in its own process, on a free port, its output in a file."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

# The console script installed beside the interpreter running the tests (.venv/bin).
COMMAND = str(Path(sys.executable).with_name("users-items"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class RunningService:
    base_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text()


def _wait_ready(base_url: str, process: subprocess.Popen[bytes], deadline_s: float = 30) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited with {process.returncode}")
        try:
            if httpx.get(f"{base_url}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("serve did not become ready in time")


@contextmanager
def running_service(
    workdir: Path, env: Mapping[str, str] | None = None, *arguments: str
) -> Iterator[RunningService]:
    """``users-items serve`` in ``workdir`` (SQLite there unless ``env`` names a database),
    stdout and stderr both captured in ``workdir/serve.log``; stopped with SIGTERM on exit."""
    environment = {**os.environ, "ENVIRONMENT": "development"}
    environment.pop("DATABASE_URL", None)
    environment.update(env or {})
    port = free_port()
    log_path = workdir / "serve.log"
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
        _wait_ready(base_url, process)
        yield RunningService(base_url, log_path)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:  # pragma: no cover - only when shutdown hangs
            process.kill()
            process.wait()

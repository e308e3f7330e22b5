"""Fixtures of the reliability tests: a PostgreSQL cluster of their own (they stop and start it,
so never the shared server), the real ``users-items`` processes, a recording SMTP server."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.sqlalchemy.migrate import upgrade_to_head
from tests.support.ports import free_port
from tests.support.postgres import LocalCluster, PostgresUnavailable, find_bin_dir
from tests.support.postgres import restartable_cluster as start_cluster
from tests.support.service import COMMAND, wait_ready
from tests.support.smtp import SmtpServer, smtp_server


@pytest.fixture
def cluster() -> Iterator[LocalCluster]:
    """A migrated throwaway cluster from the local binaries, this test's alone."""
    bin_dir = find_bin_dir()
    try:
        if bin_dir is None:
            raise PostgresUnavailable("no PostgreSQL server binaries found")
        with start_cluster(bin_dir) as started:
            upgrade_to_head(started.url)
            yield started
    except PostgresUnavailable as error:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"REQUIRE_POSTGRES=1 but no throwaway PostgreSQL: {error.reason}")
        pytest.skip(f"no throwaway PostgreSQL: {error.reason}")


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


def plain_url(cluster: LocalCluster) -> str:
    """The database URL as a user writes it."""
    return cluster.url.replace("postgresql+asyncpg://", "postgresql://")


@dataclass
class Process:
    process: subprocess.Popen[bytes]
    log: Path
    base_url: str = ""

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM, then the exit code (uvicorn re-raises the signal: -SIGTERM is clean too)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


Start = Callable[..., Process]


CHEAP_ARGON2 = {
    "ARGON2_TIME_COST": "1",
    "ARGON2_MEMORY_COST_KIB": "1024",
    "ARGON2_PARALLELISM": "1",
}


@pytest.fixture
def users_items(tmp_path: Path) -> Iterator[Start]:
    """Start ``users-items <args>`` with extra environment; every process is stopped after."""
    started: list[Process] = []

    def start(*args: str, env: dict[str, str], name: str) -> Process:
        # Cheap argon2: these tests are about delivery and outages, and on 2 cores a burst of
        # signups at the default cost would hit the hashing queue's 503 (tested elsewhere).
        full_env = {**os.environ, "ENVIRONMENT": "development", **CHEAP_ARGON2, **env}
        log = tmp_path / f"{name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(  # noqa: S603 - our own command
                [COMMAND, *args], cwd=tmp_path, env=full_env, stdout=out, stderr=out
            )
        started.append(Process(process, log))
        return started[-1]

    yield start
    for process in started:
        if process.process.poll() is None:
            process.process.kill()
            process.process.wait(timeout=10)


def serve(start: Start, database_url: str, name: str = "serve", **env: str) -> Process:
    port = free_port()
    process = start(
        "serve", "--port", str(port), env={"DATABASE_URL": database_url, **env}, name=name
    )
    process.base_url = f"http://127.0.0.1:{port}"
    wait_ready(process.base_url, process.process, process.log, deadline_s=60)
    return process


def results_line(tmp_path: Path, text: str) -> None:
    """Print a measured figure and keep it in the test's results file."""
    print(text)
    with (tmp_path / "results.txt").open("a") as out:
        out.write(text + "\n")

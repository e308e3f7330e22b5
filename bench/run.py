"""`make bench`: the service against two reference apps, on PostgreSQL.

Creates a fresh database ``users_items_bench_<hex>`` on the server of BENCH_DATABASE_URL, migrates
and seeds it, starts ``users-items serve`` at its shipped defaults (one worker, uvloop +
httptools, the default pool; only ``LOG_LEVEL=WARNING``), bench/reference_fastapi.py (plain
FastAPI over an asyncpg pool: FastAPI's floor) and bench/reference_app.py (bare Starlette +
asyncpg + orjson) side by side, loads each endpoint with ``wrk -t1 -c32`` rotating which of the
three goes first for BENCH_ROUNDS rounds,
runs the signup flood, then sweeps the hot endpoints across concurrency (1 to 256 connections) at
the defaults and with a pool of 2 + 1 overflow, reading each service log for tracebacks and pool
errors afterwards. Prints markdown tables, writes them to bench/results.md, drops the database.

Environment: BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres),
BENCH_DURATION (seconds per run, 6), BENCH_WARMUP (2), BENCH_ROUNDS (3), BENCH_CONNECTIONS (32),
BENCH_SWEEP (comma-separated connection counts, 1,8,32,128,256), BENCH_SWEEP_ROUNDS (3),
BENCH_ONLY (comma-separated endpoint keys, for profiling; "sweep" and "flood" name those parts).
"""

from __future__ import annotations

import asyncio
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import jwt
from argon2 import PasswordHasher
from sqlalchemy.engine import make_url

from entrypoints.http.cursors import CursorCodec

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
BIN = Path(sys.executable).parent
RESULTS = BENCH_DIR / "results.md"

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DURATION = int(os.environ.get("BENCH_DURATION", "6"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "2"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
SWEEP = [int(c) for c in os.environ.get("BENCH_SWEEP", "1,8,32,128,256").split(",") if c]
# Rounds of the sweep, every other one from the most connections down, so that a slow minute of
# a shared machine does not fall on one end of the row only; the table shows the medians.
SWEEP_ROUNDS = int(os.environ.get("BENCH_SWEEP_ROUNDS", "3"))
# The reference's asyncpg pool holds as many connections as the service's default pool
# (DB_POOL_SIZE 10, DB_MAX_OVERFLOW 0).
REFERENCE_POOL_SIZE = 10
SMALL_POOL = {"DB_POOL_SIZE": "2", "DB_MAX_OVERFLOW": "1"}
# Against the FastAPI reference (bench/reference_fastapi.py).
RPS_TARGET = 0.85
P99_TARGET = 1.5
# The sweep's tail at its highest level: no request slower than this, p99 within TAIL_RATIO x p50.
TAIL_MAX_MS = 2000.0
TAIL_RATIO = 3.0
SWEEP_TIMEOUT = "10s"  # past wrk's default of 2 s, so that the real tail shows
COLLAPSE_TARGET = 0.75  # rps past 8 connections, against the best at 8 or fewer
ONLY = {key for key in os.environ.get("BENCH_ONLY", "").split(",") if key}
SECRET = secrets.token_urlsafe(48)
USERS = 1_000
SMALL_ITEMS = 10_000
LARGE_ITEMS = 1_000_000
DEEP_ROWS = 100_000
FLOOD_CLIENTS = 16

SERVICE, FASTAPI, REFERENCE = "service", "fastapi", "reference"
APPS = (SERVICE, FASTAPI, REFERENCE)


@dataclass(frozen=True)
class Endpoint:
    key: str
    label: str
    path: str
    script: str | None = None  # a wrk Lua script (POST)


@dataclass
class Sample:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    max_ms: float = 0.0


@dataclass
class Results:
    samples: dict[tuple[str, str], list[Sample]] = field(default_factory=dict)

    def add(self, key: str, app: str, sample: Sample) -> None:
        self.samples.setdefault((key, app), []).append(sample)

    def median(self, key: str, app: str) -> Sample:
        runs = self.samples[(key, app)]
        return Sample(
            rps=statistics.median(s.rps for s in runs),
            p50_ms=statistics.median(s.p50_ms for s in runs),
            p99_ms=statistics.median(s.p99_ms for s in runs),
            errors=sum(s.errors for s in runs),
        )


# --- wrk -----------------------------------------------------------------------------------------

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> Sample:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    latency = re.search(r"^\s+Latency\s+\S+\s+\S+\s+(\S+)", output, re.MULTILINE)
    if rps is None or p50 is None or p99 is None or latency is None:
        raise RuntimeError(f"could not read wrk's output:\n{output}")
    errors = 0
    for pattern in (r"Non-2xx or 3xx responses:\s+(\d+)", r"Socket errors:.*?timeout (\d+)"):
        match = re.search(pattern, output)
        if match:
            errors += int(match.group(1))
    return Sample(
        float(rps.group(1)), _ms(p50.group(1)), _ms(p99.group(1)), errors, _ms(latency.group(1))
    )


def wrk_command(
    url: str,
    seconds: int,
    token: str,
    *,
    connections: int,
    script: str | None,
    timeout: str = "5s",
) -> list[str]:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", timeout]
    command += ["-H", f"Authorization: Bearer {token}"]
    if script:
        command += ["-s", str(BENCH_DIR / script)]
    return [*command, url]


def wrk(
    url: str,
    seconds: int,
    token: str,
    script: str | None = None,
    *,
    connections: int = CONNECTIONS,
    timeout: str = "5s",
) -> Sample:
    command = wrk_command(
        url, seconds, token, connections=connections, script=script, timeout=timeout
    )
    done = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603
    return parse_wrk(done.stdout)


# --- database ------------------------------------------------------------------------------------


def database_url(name: str) -> str:
    return make_url(DATABASE_URL).set(database=name).render_as_string(hide_password=False)


async def create_database(name: str) -> None:
    connection = await asyncpg.connect(DATABASE_URL)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def drop_database(name: str) -> None:
    connection = await asyncpg.connect(DATABASE_URL)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def seed_users(url: str) -> int:
    """USERS active users sharing one argon2 hash; returns the first id."""
    password_hash = PasswordHasher().hash("correct horse battery staple")
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(
            """
            INSERT INTO users (email, email_key, username, hashed_password, is_active, created_at)
            SELECT 'user' || g || '@example.com', 'user' || g || '@example.com', 'user' || g,
                   $1, true, now()
            FROM generate_series(1, $2) AS g
            """,
            password_hash,
            USERS,
        )
        first_id: int = await connection.fetchval("SELECT min(id) FROM users")
        return first_id
    finally:
        await connection.close()


async def seed_items(url: str, first_user_id: int, up_to: int) -> dict[str, int]:
    """Grow the items table to ``up_to`` rows spread over every user; returns landmark ids."""
    connection = await asyncpg.connect(url)
    try:
        have: int = await connection.fetchval("SELECT count(*) FROM items")
        await connection.execute(
            """
            INSERT INTO items (title, description, owner_id, created_at)
            SELECT 'Item ' || g, 'A seeded item, number ' || g, $1 + (g % $2), now()
            FROM generate_series($3::bigint, $4::bigint) AS g
            """,
            first_user_id,
            USERS,
            have + 1,
            up_to,
        )
        await connection.execute("VACUUM ANALYZE items")
        await connection.execute("VACUUM ANALYZE users")
        count: int = await connection.fetchval("SELECT count(*) FROM items")
        middle: int = await connection.fetchval(
            "SELECT id FROM items ORDER BY id OFFSET $1 LIMIT 1", count // 2
        )
        deep = await connection.fetchval(
            "SELECT id FROM items ORDER BY id OFFSET $1 LIMIT 1", DEEP_ROWS - 1
        )
        return {"count": count, "middle": middle, "deep": deep or 0}
    finally:
        await connection.close()


# --- processes -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_up(url: str, process: subprocess.Popen[bytes], name: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - our own loopback URL
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{name} did not answer {url} within 30 s")


def log_path(name: str) -> Path:
    return BENCH_DIR / f".{name}.log"


def log_problems(name: str) -> int:
    """Tracebacks and pool errors in a process's log: each is a bug under load."""
    text = log_path(name).read_text(errors="replace")
    return text.count("Traceback") + text.count("sqlalchemy.pool")


@contextmanager
def running(command: list[str], env: dict[str, str], url: str, name: str) -> Iterator[int]:
    log = log_path(name).open("wb")
    process = subprocess.Popen(  # noqa: S603 - our own command line
        command, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT
    )
    try:
        wait_until_up(url, process, name)
        yield process.pid
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- the run -------------------------------------------------------------------------------------


def measure(results: Results, endpoints: list[Endpoint], bases: dict[str, str], token: str) -> None:
    for endpoint in endpoints:
        for app in APPS:
            wrk(bases[app] + endpoint.path, WARMUP, token, endpoint.script)
    for round_number in range(ROUNDS):
        # Each app goes first in turn, so that a slow minute of a shared machine is spread.
        shift = round_number % len(APPS)
        order = APPS[shift:] + APPS[:shift]
        for endpoint in endpoints:
            for app in order:
                sample = wrk(bases[app] + endpoint.path, DURATION, token, endpoint.script)
                results.add(endpoint.key, app, sample)
                print(
                    f"  round {round_number + 1} {endpoint.label:<38} {app:<9} "
                    f"{sample.rps:8.0f} rps  p50 {sample.p50_ms:6.2f} ms  "
                    f"p99 {sample.p99_ms:6.2f} ms"
                    + (f"  ERRORS {sample.errors}" * bool(sample.errors)),
                    flush=True,
                )


@dataclass
class Sweep:
    """Service samples by (pool setting, endpoint key, connections), one per round, and each
    log's problems."""

    samples: dict[tuple[str, str, int], list[Sample]] = field(default_factory=dict)
    log_problems: dict[str, int] = field(default_factory=dict)


def sweep(results: Sweep, pool: str, base: str, endpoints: list[Endpoint], token: str) -> None:
    for round_number in range(SWEEP_ROUNDS):
        levels = SWEEP if round_number % 2 == 0 else SWEEP[::-1]
        for endpoint in endpoints:
            for connections in levels:
                sample = wrk(
                    base + endpoint.path,
                    DURATION,
                    token,
                    endpoint.script,
                    connections=connections,
                    timeout=SWEEP_TIMEOUT,
                )
                results.samples.setdefault((pool, endpoint.key, connections), []).append(sample)
                print(
                    f"  sweep {round_number + 1} {pool:<10} {endpoint.label:<34} "
                    f"c={connections:<4} {sample.rps:8.0f} rps  p50 {sample.p50_ms:8.2f} ms  "
                    f"p99 {sample.p99_ms:8.2f} ms  max {sample.max_ms:8.2f} ms  "
                    f"errors {sample.errors}",
                    flush=True,
                )


def sweep_median(samples: list[Sample]) -> Sample:
    """The median rate, p50 and p99 of a level's rounds, every error of every round and the
    slowest request of any."""
    return Sample(
        rps=statistics.median(s.rps for s in samples),
        p50_ms=statistics.median(s.p50_ms for s in samples),
        p99_ms=statistics.median(s.p99_ms for s in samples),
        errors=sum(s.errors for s in samples),
        max_ms=max(s.max_ms for s in samples),
    )


def sweep_table(results: Sweep, endpoints: list[Endpoint]) -> str:
    lines = [
        "| pool | endpoint | "
        + " | ".join(f"c={c}: rps / p99 / errors" for c in SWEEP)
        + f" | c={max(SWEEP)}: p50 / max | no errors; past 8 >= {COLLAPSE_TARGET}x the best "
        f"at <= 8; at c={max(SWEEP)} no request over {TAIL_MAX_MS / 1000:g} s, "
        f"p99 <= {TAIL_RATIO:g}x p50 |",
        "|---|---|" + "---:|" * (len(SWEEP) + 1) + "---|",
    ]
    for pool in dict.fromkeys(key[0] for key in results.samples):
        for endpoint in endpoints:
            rounds = [results.samples.get((pool, endpoint.key, c)) for c in SWEEP]
            if None in rounds:
                continue
            samples = [sweep_median(each) for each in rounds if each is not None]
            best_low = max(s.rps for c, s in zip(SWEEP, samples, strict=True) if c <= 8)
            worst_high = min(s.rps for c, s in zip(SWEEP, samples, strict=True) if c > 8)
            errors = sum(s.errors for s in samples)
            ratio = worst_high / best_low
            top = samples[SWEEP.index(max(SWEEP))]
            tail = top.p99_ms / top.p50_ms
            met = (
                errors == 0
                and ratio >= COLLAPSE_TARGET
                and top.max_ms <= TAIL_MAX_MS
                and tail <= TAIL_RATIO
            )
            cells = " | ".join(f"{s.rps:,.0f} / {s.p99_ms:.1f} ms / {s.errors}" for s in samples)
            detail = f"{errors} errors, {ratio:.2f}x; max {top.max_ms:,.0f} ms, p99 {tail:.2f}x p50"
            lines.append(
                f"| {pool} | {endpoint.label} | {cells} "
                f"| {top.p50_ms:.1f} ms / {top.max_ms:,.0f} ms | {verdict(met, detail)} |"
            )
    lines += ["", "| service log | tracebacks and pool errors |", "|---|---:|"]
    lines += [f"| {pool} | {count} |" for pool, count in results.log_problems.items()]
    return "\n".join(lines)


def signup_flood(base: str, path: str, token: str) -> dict[str, float]:
    idle = wrk(base + path, DURATION, token)
    flood_command = wrk_command(
        base + "/users",
        DURATION + 4,
        token,
        connections=FLOOD_CLIENTS,
        script="signup.lua",
    )
    env = {**os.environ, "BENCH_SIGNUP_PREFIX": "f" + secrets.token_hex(4)}
    flood = subprocess.Popen(  # noqa: S603
        flood_command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    time.sleep(2)
    loaded = wrk(base + path, DURATION, token)
    out, _ = flood.communicate(timeout=DURATION + 30)
    signups = parse_wrk(out)
    return {
        "idle_p99": idle.p99_ms,
        "idle_rps": idle.rps,
        "flood_p99": loaded.p99_ms,
        "flood_rps": loaded.rps,
        "signups_rps": signups.rps,
        "signup_errors": signups.errors,
    }


def verdict(met: bool, detail: str) -> str:
    return f"yes ({detail})" if met else f"**no** ({detail})"


def table(
    results: Results,
    endpoints: list[Endpoint],
    extra: dict[str, Any],
) -> str:
    lines = [
        "| endpoint | service rps | FastAPI ref. rps | Starlette ref. rps "
        "| rps ratio: FastAPI / Starlette | service p50 | service p99 | FastAPI ref. p99 "
        "| Starlette ref. p99 | p99 ratio: FastAPI / Starlette "
        f"| target against FastAPI: rps >= {RPS_TARGET}x, p99 <= {P99_TARGET:g}x |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for endpoint in endpoints:
        if (endpoint.key, SERVICE) not in results.samples:
            continue
        service = results.median(endpoint.key, SERVICE)
        fastapi = results.median(endpoint.key, FASTAPI)
        reference = results.median(endpoint.key, REFERENCE)
        rps_ratio = service.rps / fastapi.rps
        p99_ratio = service.p99_ms / fastapi.p99_ms
        met = rps_ratio >= RPS_TARGET and p99_ratio <= P99_TARGET
        counts = (service.errors, fastapi.errors, reference.errors)
        errors = f" ({'/'.join(map(str, counts))} errors)" if any(counts) else ""
        lines.append(
            f"| {endpoint.label}{errors} | {service.rps:,.0f} | {fastapi.rps:,.0f} "
            f"| {reference.rps:,.0f} | {rps_ratio:.2f}x / {service.rps / reference.rps:.2f}x "
            f"| {service.p50_ms:.2f} ms | {service.p99_ms:.2f} ms | {fastapi.p99_ms:.2f} ms "
            f"| {reference.p99_ms:.2f} ms "
            f"| {p99_ratio:.2f}x / {service.p99_ms / reference.p99_ms:.2f}x "
            f"| {verdict(met, f'{rps_ratio:.2f}x rps, {p99_ratio:.2f}x p99')} |"
        )
    lines += ["", "| scaling and load target | service | reference | target met (service) |"]
    lines.append("|---|---|---|---|")

    def p50(key: str, app: str) -> float:
        return results.median(key, app).p50_ms

    for deep, shallow, label in (
        ("items_deep", "items_first", "`GET /items` p50: 100,000 rows deep / first page"),
        ("item_1m", "item_10k", "`GET /items/{id}` p50: 1,000,000 / 10,000 items"),
    ):
        if (deep, SERVICE) in results.samples and (shallow, SERVICE) in results.samples:
            service_ratio = p50(deep, SERVICE) / p50(shallow, SERVICE)
            reference_ratio = p50(deep, REFERENCE) / p50(shallow, REFERENCE)
            lines.append(
                f"| {label} | {service_ratio:.2f}x | {reference_ratio:.2f}x "
                f"| {verdict(service_ratio <= 1.25, f'{service_ratio:.2f}x <= 1.25x')} |"
            )
    flood = extra.get("flood")
    if flood:
        ratio = flood["flood_p99"] / flood["idle_p99"]
        lines.append(
            f"| `GET /users/{{id}}` p99 under a {FLOOD_CLIENTS}-client signup flood / idle "
            f"| {flood['flood_p99']:.2f} ms / {flood['idle_p99']:.2f} ms = {ratio:.2f}x "
            f"({flood['flood_rps']:,.0f} vs {flood['idle_rps']:,.0f} rps; "
            f"{flood['signups_rps']:,.1f} signups/s) | - "
            f"| {verdict(ratio <= 3.0, f'{ratio:.2f}x <= 3x')} |"
        )
    if "rss_mib" in extra:
        lines.append(
            f"| service resident memory (VmRSS) at the end | {extra['rss_mib']:.0f} MiB | - | - |"
        )
    return "\n".join(lines)


def header(extra: dict[str, Any]) -> str:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    ).stdout.strip()
    return (
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC at commit `{commit or '?'}` on "
        f"{platform.machine()} with {os.cpu_count()} CPUs (load average {extra['load']} at the "
        f"start), PostgreSQL on loopback. `wrk -t1 -c{CONNECTIONS}`, {DURATION} s per run after "
        f"{WARMUP} s of warm-up, {ROUNDS} rounds, each app first in turn; medians. Three apps, "
        f"one uvicorn worker each (uvloop, httptools, no access log): the service at its "
        f"shipped defaults (a pool of 10, no overflow; `LOG_LEVEL=WARNING`); the FastAPI "
        f"reference (bench/reference_fastapi.py: plain FastAPI, one `yield` dependency for the "
        f"caller and its connection, the service's pydantic models as `response_model`s) and the "
        f"Starlette reference (bench/reference_app.py: bare Starlette + orjson), each with an "
        f"asyncpg pool of {REFERENCE_POOL_SIZE}; every request with a verified HS256 bearer token "
        f"and the caller-is-active look-up. Seed: {USERS:,} users; items as listed."
    )


def main() -> int:
    if shutil.which("wrk") is None:
        print(
            "make bench needs wrk on PATH (Debian/Ubuntu: apt-get install wrk; "
            "macOS: brew install wrk)",
            file=sys.stderr,
        )
        return 2
    name = f"users_items_bench_{secrets.token_hex(4)}"
    url = database_url(name)
    extra: dict[str, Any] = {"load": " / ".join(f"{x:.1f}" for x in os.getloadavg())}
    print(f"bench database {name} on {make_url(DATABASE_URL).render_as_string()}", flush=True)
    asyncio.run(create_database(name))
    try:
        subprocess.run(  # noqa: S603
            [str(BIN / "users-items"), "migrate"],
            env={**os.environ, "DATABASE_URL": url},
            check=True,
            cwd=ROOT,
        )
        first_user = asyncio.run(seed_users(url))
        landmarks = asyncio.run(seed_items(url, first_user, SMALL_ITEMS))
        service_port, fastapi_port, reference_port = free_port(), free_port(), free_port()
        service_env = {
            "LOG_LEVEL": "WARNING",  # no access line per request
            "DATABASE_URL": url,
            "JWT_SECRET": SECRET,
        }
        reference_env = {
            "REFERENCE_DATABASE_URL": url,
            "REFERENCE_JWT_SECRET": SECRET,
            "REFERENCE_POOL_SIZE": str(REFERENCE_POOL_SIZE),
        }
        service_command = [
            str(BIN / "users-items"),
            "serve",
            "--port",
            str(service_port),
        ]
        reference_command = [
            str(BIN / "uvicorn"),
            "reference_app:app",
            "--app-dir",
            str(BENCH_DIR),
            "--port",
            str(reference_port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        fastapi_command = [
            {
                "reference_app:app": "reference_fastapi:app",
                str(reference_port): str(fastapi_port),
            }.get(part, part)
            for part in reference_command
        ]
        bases = {
            SERVICE: f"http://127.0.0.1:{service_port}",
            FASTAPI: f"http://127.0.0.1:{fastapi_port}",
            REFERENCE: f"http://127.0.0.1:{reference_port}",
        }
        now = int(time.time())
        token = jwt.encode(
            {
                "sub": str(first_user),
                "iat": now,
                "exp": now + 3600,
                "iss": "users-items",
                "aud": "users-items",
                "auth_time": now,
                "ver": 0,
                "sid": "bench",
            },
            SECRET,
            algorithm="HS256",
        )
        results = Results()
        small = [Endpoint("item_10k", "`GET /items/{id}`, 10,000 items", "")]
        with (
            running(service_command, service_env, bases[SERVICE] + "/health/live", SERVICE) as pid,
            running(reference_command, reference_env, bases[REFERENCE] + "/items", REFERENCE),
            running(fastapi_command, reference_env, bases[FASTAPI] + "/items", FASTAPI),
        ):
            print(f"{landmarks['count']:,} items", flush=True)
            small = [
                Endpoint(
                    "item_10k", "`GET /items/{id}`, 10,000 items", f"/items/{landmarks['middle']}"
                )
            ]
            measure(results, _only(small), bases, token)
            landmarks = asyncio.run(seed_items(url, first_user, LARGE_ITEMS))
            print(f"{landmarks['count']:,} items", flush=True)
            deep_cursor = CursorCodec(SECRET).encode(landmarks["deep"], "/items")
            large = [
                Endpoint("user", "`GET /users/{id}`", f"/users/{first_user}"),
                Endpoint(
                    "user_items",
                    "`GET /users/{id}/items?limit=20`",
                    f"/users/{first_user}/items?limit=20",
                ),
                Endpoint("items_first", "`GET /items?limit=20`, first page", "/items?limit=20"),
                Endpoint(
                    "items_deep",
                    "`GET /items?limit=20`, 100,000 rows deep",
                    f"/items?limit=20&cursor={deep_cursor}",
                ),
                Endpoint(
                    "item_1m",
                    "`GET /items/{id}`, 1,000,000 items",
                    f"/items/{landmarks['middle']}",
                ),
                Endpoint(
                    "add_item",
                    "`POST /users/{id}/items`",
                    f"/users/{first_user}/items",
                    "post_item.lua",
                ),
            ]
            measure(results, _only(large), bases, token)
            if not ONLY or "flood" in ONLY:
                print("signup flood", flush=True)
                extra["flood"] = signup_flood(bases[SERVICE], f"/users/{first_user}", token)
            extra["rss_mib"] = rss_mib(pid)
            hot = [e for e in large if e.key in {"user", "user_items", "add_item"}]
            swept = Sweep()
            if not ONLY or "sweep" in ONLY:
                print("concurrency sweep", flush=True)
                sweep(swept, "defaults", bases[SERVICE], hot, token)
        events = ""
        if not ONLY or "events" in ONLY:  # bench/events_bench.py
            from events_bench import events_section

            print("events", flush=True)
            events = events_section(
                url=url, service_command=service_command[:-1], service_env=service_env,
                first_user=first_user, token=token, wrk=wrk, running=running,
                free_port=free_port, duration=DURATION,
            )  # fmt: skip
        if not ONLY or "sweep" in ONLY:
            swept.log_problems["defaults"] = log_problems(SERVICE)
            small_port = free_port()
            small_base = f"http://127.0.0.1:{small_port}"
            small_command = [*service_command[:-1], str(small_port)]
            with running(
                small_command, {**service_env, **SMALL_POOL}, small_base + "/health/live", "pool2+1"
            ):
                sweep(swept, "2 + 1", small_base, hot, token)
            swept.log_problems["2 + 1"] = log_problems("pool2+1")
        endpoints = small + large
        report = (
            "# Benchmark: the service against plain FastAPI and bare Starlette over asyncpg\n\n"
            f"{header(extra)}\n\n{table(results, endpoints, extra)}\n\n"
            "## Concurrency sweep (service only)\n\n"
            f"`wrk -t1 -cN`, {DURATION} s per run, after the runs above; at the shipped defaults "
            "and with `DB_POOL_SIZE=2 DB_MAX_OVERFLOW=1`; "
            f"{SWEEP_ROUNDS} rounds, every other one from the most connections down, medians "
            "shown; the slowest request is the slowest of any round. Errors are non-2xx answers "
            f"and timeouts ({SWEEP_TIMEOUT}), summed over the rounds.\n\n"
            f"{sweep_table(swept, hot)}\n" + (f"\n{events}" if events else "")
        )
        print()
        print(report)
        if not ONLY:
            RESULTS.write_text(report)
            print(f"written to {RESULTS.relative_to(ROOT)}")
        return 0
    finally:
        asyncio.run(drop_database(name))
        print(f"dropped {name}", flush=True)


def _only(endpoints: list[Endpoint]) -> list[Endpoint]:
    return [e for e in endpoints if not ONLY or e.key in ONLY]


if __name__ == "__main__":
    sys.exit(main())

"""The events rows of `make bench` (``BENCH_ONLY=events``): called by bench/run.py with its
helpers, on its fresh, seeded database; returns a markdown section.

- Relay throughput: EVENTS_BENCH_COUNT ``item.created`` events over 100 users recorded in the
  outbox, then ``users-items worker`` (one, then two) publishes them to the machine's JetStream;
  events/s from the first worker's start to the last event recorded as published.
- Commit to acknowledgement under the ``POST /users/{id}/items`` load: the service with events on
  and one worker, loaded by wrk for BENCH_DURATION; each event's ``delivered_at - created_at``
  (recorded in the change's transaction; recorded published right after JetStream's ack), p50
  and p99 over every event of the run recorded once the worker had caught up with its start.
  The events recorded before waited for an idle worker's next poll (``OUTBOX_POLL_SECONDS``),
  or behind those: shown apart, as what an event waits after a quiet spell.
- The hot endpoints with events on against off: two services side by side on the same database,
  alternating, EVENTS_BENCH_ROUNDS rounds (6: even, so that each side runs first as often; the
  second run of a pair is often the faster on this machine). on/off is the median of the
  rounds' own ratios, each of two runs made one after the other; the rps and p99 columns are
  medians of the runs, and so is the CPU per request of the service, of PostgreSQL and of the
  whole machine (/proc: what the events cost, steadier than requests/s on shared cores).
- A control: the events-off service alone, its items' insert made to cost PostgreSQL (a
  trigger's PL/pgSQL loop, for the titles of bench/post_item_burning.lua) about the CPU that
  events cost it per ``POST`` in the rounds above with the worker publishing, against the same
  load without; the service's own work is unchanged. What it costs the service's requests/s is
  what the machine takes from the service for work done beside it (decision 0063).

Everything runs at the shipped defaults (only the stream's name and prefix are this run's).

The stream (name and prefix of this run's own) is deleted afterwards.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import nats
from nats.js.errors import NotFoundError

NATS_URL = os.environ.get("BENCH_NATS_URL", "nats://127.0.0.1:4222")
COUNT = int(os.environ.get("EVENTS_BENCH_COUNT", "5000"))
# More rounds than the other rows: on against off is a ratio of two noisy figures. Even: each
# side first in as many rounds as the other.
ROUNDS = int(os.environ.get("EVENTS_BENCH_ROUNDS", "6"))
WARMUP_SECONDS = 2
BIN = Path(sys.executable).parent
BENCH_DIR = Path(__file__).resolve().parent

Wrk = Callable[..., Any]  # run.wrk(url, seconds, token, script) -> Sample
POST = "`POST /users/{id}/items`"
Running = Callable[[list[str], dict[str, str], str, str], AbstractContextManager[int]]


async def _record(url: str, count: int, users: int = 100) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("DELETE FROM outbox WHERE destination = 'events'")
        await connection.execute(
            """
            INSERT INTO outbox (event_id, event_type, payload, status, attempts, available_at,
                                created_at, destination, ordering_key)
            SELECT gen_random_uuid()::text, 'item.created',
                   json_build_object('user_id', 1 + g % $2, 'item_id', g, 'title', 'bench',
                                     'description', null),
                   'pending', 0, now(), now(), 'events', (1 + g % $2)::text
            FROM generate_series(1, $1) AS g
            """,
            count,
            users,
        )
    finally:
        await connection.close()


async def _left(url: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        left: int = await connection.fetchval(
            "SELECT count(*) FROM outbox WHERE destination = 'events' AND status <> 'delivered'"
        )
        return left
    finally:
        await connection.close()


async def _latencies(url: str, since: float) -> tuple[list[float], list[float]]:
    """Commit-to-ack seconds of every event recorded after ``since`` (epoch seconds): those
    recorded once the worker had caught up, and those recorded before. An idle worker finds the
    run's first second of events at its next poll (``OUTBOX_POLL_SECONDS``); it has caught up
    when the last of those is published. Events recorded in between wait behind them too
    (200-440 ms measured, against under 100 ms once caught up), so they are counted with them."""
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            """
            WITH run AS (
                SELECT created_at, delivered_at FROM outbox
                WHERE destination = 'events' AND status = 'delivered'
                  AND created_at >= to_timestamp($1)
            ),
            caught_up AS (
                SELECT max(delivered_at) AS at FROM run
                WHERE created_at < (SELECT min(delivered_at) FROM run)
            )
            SELECT extract(epoch FROM delivered_at - created_at) AS seconds,
                   created_at <= coalesce((SELECT at FROM caught_up), '-infinity')
                       AS before_caught_up
            FROM run
            """,
            since,
        )
        steady = [float(row["seconds"]) for row in rows if not row["before_caught_up"]]
        waited = [float(row["seconds"]) for row in rows if row["before_caught_up"]]
        return steady, waited
    finally:
        await connection.close()


async def _publishing_seconds(url: str) -> float:
    """From the first event recorded published to the last (the outbox holds one batch)."""
    connection = await asyncpg.connect(url)
    try:
        seconds = await connection.fetchval(
            """
            SELECT extract(epoch FROM max(delivered_at) - min(delivered_at)) FROM outbox
            WHERE destination = 'events' AND status = 'delivered'
            """
        )
        return float(seconds)
    finally:
        await connection.close()


async def _delete_stream(name: str) -> None:
    client = await nats.connect(NATS_URL, connect_timeout=5, allow_reconnect=False)
    try:
        with suppress(NotFoundError):
            await client.jetstream(timeout=10).delete_stream(name)
    finally:
        await client.close()


# The control (``_burning``): a trigger on the items table that makes PostgreSQL spend CPU on the
# rows whose title is BURN_TITLE (bench/post_item_burning.lua), and no other work.
BURN_TITLE = "PostgreSQL burns"
_BURN_TURNS_CALIBRATION = 2_000_000


async def _turn_seconds(url: str, busy: Callable[[], Any]) -> float:
    """Inside ``_burning``: CPU seconds one turn of the control's PL/pgSQL loop costs a server
    process, measured while ``busy()`` loads the machine as the control's runs will (a turn is
    dearer on a busy machine than on a quiet one): the backend's utime + stime when the server is
    on this machine, else the call's wall time."""
    connection = await asyncpg.connect(url)
    try:
        backend: int = await connection.fetchval("SELECT pg_backend_pid()")
        local = backend in _pids("postgres")
        load = asyncio.get_running_loop().run_in_executor(None, busy)
        await asyncio.sleep(1)  # the load under way
        cpu_before, wall_before = (_cpu_seconds(backend) if local else 0.0), time.perf_counter()
        await connection.execute("SELECT bench_burn($1)", _BURN_TURNS_CALIBRATION)
        spent = _cpu_seconds(backend) - cpu_before if local else time.perf_counter() - wall_before
        await load
        return spent / _BURN_TURNS_CALIBRATION
    finally:
        await connection.close()


@contextmanager
def _burning(url: str) -> Iterator[Callable[[int], None]]:
    """The control's loop and trigger, for as long as the block lasts (then dropped); yields a
    setter of the turns each burning insert costs (none at first)."""

    async def run(*statements: str) -> None:
        connection = await asyncpg.connect(url)
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()

    def set_turns(turns: int) -> None:
        asyncio.run(
            run(
                f"""
                CREATE OR REPLACE FUNCTION bench_burn_on_insert() RETURNS trigger
                LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.title = '{BURN_TITLE}' THEN PERFORM bench_burn({int(turns)}); END IF;
                    RETURN NEW;
                END $$
                """
            )
        )

    asyncio.run(
        run(
            """
            CREATE FUNCTION bench_burn(turns int) RETURNS void LANGUAGE plpgsql AS $$
            DECLARE total bigint := 0;
            BEGIN FOR turn IN 1..turns LOOP total := total + turn; END LOOP; END $$
            """
        )
    )
    set_turns(0)
    asyncio.run(
        run(
            "CREATE TRIGGER bench_burn BEFORE INSERT ON items "
            "FOR EACH ROW EXECUTE FUNCTION bench_burn_on_insert()"
        )
    )
    try:
        yield set_turns
    finally:
        asyncio.run(
            run(
                "DROP TRIGGER bench_burn ON items",
                "DROP FUNCTION bench_burn_on_insert()",
                "DROP FUNCTION bench_burn(int)",
            )
        )


def _machine_busy_seconds() -> float:
    """CPU time the whole machine spent busy so far, over all cores (/proc/stat: everything but
    idle and iowait)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    busy = user + nice + system + irq + softirq + steal
    return busy / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class _Run:
    """One wrk run and the CPU it cost per request: the service's, PostgreSQL's (its processes
    on this machine) and the whole machine's (service, PostgreSQL, wrk, and with events on the
    worker and the broker)."""

    sample: Any
    service_ms: float
    database_ms: float
    machine_ms: float


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process so far (/proc/<pid>/stat, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def _workers(n: int, env: dict[str, str]) -> Iterator[list[int]]:
    logs = [(BENCH_DIR / f".events-worker-{i}.log").open("wb") for i in range(n)]
    processes = [
        subprocess.Popen(  # noqa: S603 - our own command
            [str(BIN / "users-items"), "worker"],
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for log in logs
    ]
    try:
        yield [process.pid for process in processes]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in logs:
            log.close()


def _pids(name: str) -> list[int]:
    """The processes on this machine named exactly ``name``."""
    found = subprocess.run(  # noqa: S603 - pgrep, a name of ours
        ["pgrep", "-x", name],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    return [int(pid) for pid in found]


def _database_seconds() -> float:
    """CPU time of the PostgreSQL processes on this machine so far (0 when the server runs
    elsewhere). A backend that exited since the last reading takes its time with it: the
    pooled connections of the bench stay, autovacuum's workers come and go."""
    total = 0.0
    for pid in _pids("postgres"):
        with suppress(FileNotFoundError, ProcessLookupError):
            total += _cpu_seconds(pid)
    return total


def _broker_pid() -> int | None:
    """The machine's nats-server, for its CPU (none when the broker runs elsewhere)."""
    found = _pids("nats-server")
    return found[0] if len(found) == 1 else None


def _drain(url: str, deadline_s: float = 600) -> None:
    deadline = time.monotonic() + deadline_s
    while asyncio.run(_left(url)) > 0:
        if time.monotonic() > deadline:
            raise RuntimeError("events not published within the deadline")
        time.sleep(0.05)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def events_section(
    *,
    url: str,
    service_command: list[str],
    service_env: dict[str, str],
    first_user: int,
    token: str,
    wrk: Wrk,
    running: Running,
    free_port: Callable[[], int],
    duration: int,
    rounds: int = ROUNDS,
) -> str:
    if rounds % 2:
        raise SystemExit(f"EVENTS_BENCH_ROUNDS={rounds}: must be even (each side first as often)")
    suffix = secrets.token_hex(4)
    stream = f"BENCH_EVENTS_{suffix}"
    events_env = {
        "EVENTS_NATS_URL": NATS_URL,
        "EVENTS_STREAM": stream,
        "EVENTS_SUBJECT_PREFIX": f"bench-{suffix}",
    }
    worker_env = {**service_env, **events_env}
    lines: list[str] = []
    try:
        # 1. The relay alone: one worker, then two.
        relay: dict[int, float] = {}
        for n in (1, 2):
            asyncio.run(_record(url, COUNT))
            started = time.monotonic()
            with _workers(n, worker_env):
                _drain(url)
                relay[n] = COUNT / (time.monotonic() - started)
            print(f"  relay, {n} worker(s): {relay[n]:.0f} events/s", flush=True)

        # 1b. The worker's CPU per event: one worker, started and idle first (its start-up is
        # not counted), then the events recorded; utime + stime over the drain, and the rate
        # from its first publication to its last (not from the recording: the idle worker
        # finds the events at its next poll).
        asyncio.run(_record(url, 0))
        with _workers(1, worker_env) as (pid,):
            time.sleep(3)
            cpu_before = _cpu_seconds(pid)
            asyncio.run(_record(url, COUNT))
            _drain(url)
            warm_rate = COUNT / asyncio.run(_publishing_seconds(url))
            cpu_per_event_ms = (_cpu_seconds(pid) - cpu_before) / COUNT * 1000
        print(
            f"  relay, one warm worker: {warm_rate:.0f} events/s, "
            f"{cpu_per_event_ms:.3f} ms CPU per event",
            flush=True,
        )

        # 2. Commit to ack under the POST load, with one worker; 3. on against off.
        on_port, off_port = free_port(), free_port()
        on = f"http://127.0.0.1:{on_port}"
        off = f"http://127.0.0.1:{off_port}"
        hot = {
            "`GET /users/{id}`": (f"/users/{first_user}", None),
            "`GET /users/{id}/items?limit=20`": (f"/users/{first_user}/items?limit=20", None),
            POST: (f"/users/{first_user}/items", "post_item.lua"),
        }
        samples: dict[tuple[str, str], list[_Run]] = {}
        post_path = hot[POST][0]
        with (
            running(
                [*service_command, str(on_port)],
                {**service_env, **events_env},
                on + "/health/live",
                "events-on",
            ) as on_pid,
            running(
                [*service_command, str(off_port)], service_env, off + "/health/live", "events-off"
            ) as off_pid,
        ):
            pids = {on: on_pid, off: off_pid}

            def measured(base: str, path: str, script: str | None) -> _Run:
                service_before, machine_before = _cpu_seconds(pids[base]), _machine_busy_seconds()
                database_before = _database_seconds()
                sample = wrk(base + path, duration, token, script)
                requests = max(sample.rps * duration, 1.0)
                return _Run(
                    sample,
                    (_cpu_seconds(pids[base]) - service_before) / requests * 1000,
                    (_database_seconds() - database_before) / requests * 1000,
                    (_machine_busy_seconds() - machine_before) / requests * 1000,
                )

            # Both services warmed up on every endpoint first (connections, prepared statements).
            for path, script in hot.values():
                for base in (on, off):
                    wrk(base + path, WARMUP_SECONDS, token, script)
            # What recording costs the requests alone: events on, no worker publishing yet.
            for round_number in range(rounds):
                order = [("unpublished", on), ("off, no worker", off)]
                if round_number % 2:
                    order.reverse()
                for mode, base in order:
                    run = measured(base, post_path, "post_item.lua")
                    samples.setdefault((POST, mode), []).append(run)
                    print(
                        f"  round {round_number + 1} POST, events {mode:<14} "
                        f"{run.sample.rps:8.0f} rps  p99 {run.sample.p99_ms:6.2f} ms  "
                        f"CPU/request service {run.service_ms:.3f} ms, "
                        f"PostgreSQL {run.database_ms:.3f} ms, machine {run.machine_ms:.3f} ms",
                        flush=True,
                    )
            with _workers(1, worker_env) as (worker_pid,):
                _drain(url)
                since = time.time()
                post = wrk(on + post_path, duration, token, "post_item.lua")
                _drain(url)
                latencies, waited = asyncio.run(_latencies(url, since))
                print(
                    f"  commit->ack under POST load ({post.rps:.0f} rps): {len(latencies)} "
                    f"events, p50 {_percentile(latencies, 0.5) * 1000:.1f} ms, "
                    f"p99 {_percentile(latencies, 0.99) * 1000:.1f} ms; {len(waited)} before "
                    f"it caught up, slowest {max(waited, default=0) * 1000:.0f} ms",
                    flush=True,
                )
                # Over the POST runs with events on: the worker's CPU, the broker's, the events.
                worker_cpu = broker_cpu = 0.0
                broker = _broker_pid()
                posted = 0
                for round_number in range(rounds):
                    order = [("on", on), ("off", off)]
                    if round_number % 2:
                        order.reverse()
                    for label, (path, script) in hot.items():
                        for mode, base in order:
                            cpu_before = _cpu_seconds(worker_pid)
                            broker_before = _cpu_seconds(broker) if broker else 0.0
                            run = measured(base, path, script)
                            sample = run.sample
                            if script and mode == "on":
                                worker_cpu += _cpu_seconds(worker_pid) - cpu_before
                                if broker:
                                    broker_cpu += _cpu_seconds(broker) - broker_before
                                posted += round(sample.rps * duration)
                            samples.setdefault((label, mode), []).append(run)
                            print(
                                f"  round {round_number + 1} {label:<36} events {mode:<3} "
                                f"{sample.rps:8.0f} rps  p99 {sample.p99_ms:6.2f} ms  "
                                f"CPU/request service {run.service_ms:.3f} ms, "
                                f"PostgreSQL {run.database_ms:.3f} ms, "
                                f"machine {run.machine_ms:.3f} ms",
                                flush=True,
                            )
                    _drain(url)  # the worker keeps up between rounds: the next starts even
                live_cpu_ms = worker_cpu / max(posted, 1) * 1000
                broker_cpu_ms = broker_cpu / max(posted, 1) * 1000

            # 4. The control: events off, no worker, and PostgreSQL made to spend per POST the
            # CPU that events cost it in the POST rounds with the worker publishing; nothing else
            # changes. What requests/s that costs is what this machine takes from the service
            # for PostgreSQL's work beside it, whoever writes the code.
            def database_ms_more(mode: str, baseline: str) -> float:
                return statistics.median(
                    more.database_ms - paired.database_ms
                    for more, paired in zip(
                        samples[(POST, mode)], samples[(POST, baseline)], strict=True
                    )
                )

            recording_database_ms = database_ms_more("unpublished", "off, no worker")
            events_database_ms = database_ms_more("on", "off")
            with _burning(url) as set_turns:
                turn_seconds = asyncio.run(
                    _turn_seconds(url, lambda: wrk(off + post_path, 4, token, "post_item.lua"))
                )
                turns = max(1, round(events_database_ms / 1000 / turn_seconds))
                set_turns(turns)
                # A pair of runs to correct the estimate (a turn costs more inside the requests'
                # load than alone): the turns scaled by what the pair's burning run burned.
                plain_run = measured(off, post_path, "post_item.lua")
                burning_run = measured(off, post_path, "post_item_burning.lua")
                burned_first_ms = max(burning_run.database_ms - plain_run.database_ms, 0.001)
                scale = min(4.0, max(0.25, events_database_ms / burned_first_ms))
                print(
                    f"  control: {turns:,} turns burned {burned_first_ms * 1000:.0f} us per POST "
                    f"against {events_database_ms * 1000:.0f} us: x{scale:.2f}",
                    flush=True,
                )
                turns = max(1, round(turns * scale))
                set_turns(turns)
                for round_number in range(rounds):
                    order = [("control, plain", "post_item.lua")]
                    order.append(("control, burning", "post_item_burning.lua"))
                    if round_number % 2:
                        order.reverse()
                    for mode, script in order:
                        run = measured(off, post_path, script)
                        samples.setdefault((POST, mode), []).append(run)
                        print(
                            f"  round {round_number + 1} POST, {mode:<16} "
                            f"{run.sample.rps:8.0f} rps  CPU/request service "
                            f"{run.service_ms:.3f} ms, PostgreSQL {run.database_ms:.3f} ms, "
                            f"machine {run.machine_ms:.3f} ms",
                            flush=True,
                        )
            burned_ms = database_ms_more("control, burning", "control, plain")

        lines += [
            "## Events (NATS JetStream through the outbox)",
            "",
            f"Relay: {COUNT:,} `item.created` events over 100 users, already in the outbox, "
            "published by `users-items worker` and acknowledged by JetStream.",
            "",
            "| relay | events/s |",
            "|---|---:|",
            f"| one worker | {relay[1]:,.0f} |",
            f"| two workers | {relay[2]:,.0f} |",
            "",
            f"One worker already started and idle when the events are recorded: "
            f"{warm_rate:,.0f} events/s, {cpu_per_event_ms:.3f} ms of the worker's CPU "
            "(utime + stime) per event.",
            "",
            f"Commit to broker acknowledgement under `POST /users/{{id}}/items` (`wrk -t1 -c32`, "
            f"{duration} s, {post.rps:,.0f} requests/s, one user: one ordered sequence), one "
            f"worker: {len(latencies):,} events, p50 {_percentile(latencies, 0.5) * 1000:,.1f} ms, "
            f"p99 {_percentile(latencies, 0.99) * 1000:,.1f} ms, max "
            f"{max(latencies) * 1000:,.1f} ms. Not counted in those: the {len(waited):,} events "
            "recorded before the worker had caught up with the run's start: those it found "
            "idle, waiting for its next poll (`OUTBOX_POLL_SECONDS`, 1 s), and those recorded "
            "behind them while it published them; up to "
            f"{max(waited, default=0) * 1000:,.0f} ms, what an event waits after a quiet spell.",
            "",
            f"Hot endpoints, events on (with one worker publishing) against off, {rounds} rounds "
            "alternating (each side first in half of them); on/off is the median of the rounds' "
            "own ratios, the other columns medians of the runs. CPU per request: the service's "
            "process, PostgreSQL's processes on this machine, and the whole machine's busy time "
            "(every process: the service, PostgreSQL, wrk, and with events on the worker and "
            "nats-server) over the run's requests; steadier than requests/s on shared cores. "
            "During the `POST` runs with "
            "events on the worker spent "
            f"{live_cpu_ms:.3f} ms of CPU per event it published (its pace: "
            f"`EVENTS_LINGER_SECONDS` {os.environ.get('EVENTS_LINGER_SECONDS', 'default')}), "
            f"and the machine's nats-server {broker_cpu_ms:.3f} ms. "
            "The `POST`, no worker row is the same load with events on and no worker running (the "
            "events wait in the outbox): what recording alone costs a request. The last row is a "
            "control, on the events-off service alone: every item's insert made to cost "
            f"PostgreSQL {burned_ms * 1000:.0f} us more CPU (a trigger's loop, "
            f"{turns:,} turns; events cost it {events_database_ms * 1000:.0f} us per `POST` "
            f"with the worker publishing, recording alone {recording_database_ms * 1000:.0f} "
            "us), the service's own work unchanged; its on/off is burning against plain. "
            "What that costs the service is what this machine takes from it for work done "
            "beside it, whoever writes that work (decision 0063).",
            "",
            "| endpoint | events off rps | events on rps | on/off | p99 off | p99 on "
            "| CPU per request, off / on: service | PostgreSQL | machine |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        rows = [(label, "on", "off", label) for label in hot]
        rows.append((POST, "unpublished", "off, no worker", "`POST`, no worker running"))
        rows.append(
            (
                POST,
                "control, burning",
                "control, plain",
                "control: `POST`, events off, PostgreSQL burning",
            )
        )
        for label, mode, baseline, shown in rows:
            offs, ons = samples[(label, baseline)], samples[(label, mode)]

            def median(runs: list[_Run], figure: Callable[[_Run], float]) -> float:
                return statistics.median(figure(run) for run in runs)

            ratio = statistics.median(
                n.sample.rps / f.sample.rps for n, f in zip(ons, offs, strict=True)
            )
            lines.append(
                f"| {shown} | {median(offs, lambda r: r.sample.rps):,.0f} | "
                f"{median(ons, lambda r: r.sample.rps):,.0f} | {ratio:.2f} | "
                f"{median(offs, lambda r: r.sample.p99_ms):.2f} ms | "
                f"{median(ons, lambda r: r.sample.p99_ms):.2f} ms | "
                f"{median(offs, lambda r: r.service_ms):.3f} / "
                f"{median(ons, lambda r: r.service_ms):.3f} ms | "
                f"{median(offs, lambda r: r.database_ms):.3f} / "
                f"{median(ons, lambda r: r.database_ms):.3f} ms | "
                f"{median(offs, lambda r: r.machine_ms):.3f} / "
                f"{median(ons, lambda r: r.machine_ms):.3f} ms |"
            )
        return "\n".join(lines) + "\n"
    finally:
        asyncio.run(_delete_stream(stream))

"""The real ``users-items serve`` while its PostgreSQL goes away and comes back, and on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import select

from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.tables import items
from tests.reliability.conftest import Process, Start, plain_url, results_line, serve
from tests.support.postgres import LocalCluster

pytestmark = [pytest.mark.reliability, pytest.mark.postgres]

POOL_TIMEOUT_S = 2.0
# The contract: a request that needs the database answers within DB_POOL_TIMEOUT; the margin
# covers the HTTP round trip on a loaded 2-core machine.
LIMIT_S = POOL_TIMEOUT_S + 3.0
OUTAGE_S = 5.0
WRITERS = 4


@dataclass(frozen=True)
class Outcome:
    started: float
    finished: float
    status: int | str  # an HTTP status, or "timeout"/"error" when none came
    item_id: int | None


async def signed_up(client: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
    """Sign ada up; her items' path and her bearer header."""
    body = {"email": "ada@example.com", "username": "ada", "password": "correct horse"}
    signup = await client.post("/users", json=body)
    assert signup.status_code == 201
    token = await client.post("/auth/token", data={"username": "ada", "password": "correct horse"})
    auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
    return f"/users/{signup.json()['id']}/items", auth


async def wait_for_log_line(process: Process, text: str, deadline_s: float = 30) -> None:
    deadline = time.monotonic() + deadline_s
    while text not in process.log.read_text():
        assert process.process.poll() is None, process.log.read_text()
        assert time.monotonic() < deadline, f"no {text!r} in time"
        await asyncio.sleep(0.2)


async def stored_item_ids(url: str) -> set[int]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return set((await connection.execute(select(items.c.id))).scalars())
    finally:
        await engine.dispose()


async def test_writes_survive_a_database_outage_and_the_service_recovers_by_itself(
    cluster: LocalCluster, users_items: Start, tmp_path: Path
) -> None:
    api = serve(
        users_items,
        plain_url(cluster),
        DB_POOL_TIMEOUT=str(POOL_TIMEOUT_S),
        DB_COMMAND_TIMEOUT=str(POOL_TIMEOUT_S),
    )
    worker_env = {"DATABASE_URL": plain_url(cluster), "OUTBOX_POLL_SECONDS": "0.2"}
    worker = users_items("worker", env=worker_env, name="worker")
    outcomes: list[Outcome] = []
    writing = True

    limits = httpx.Limits(keepalive_expiry=2)  # below uvicorn's 5 s: no keep-alive race
    async with httpx.AsyncClient(
        base_url=api.base_url, timeout=LIMIT_S + 10, limits=limits
    ) as client:
        path, auth = await signed_up(client)

        async def write(writer: int) -> None:
            n = 0
            while writing:
                n += 1
                started = time.monotonic()
                try:
                    response = await client.post(
                        path, json={"title": f"w{writer}-{n}"}, headers=auth
                    )
                except httpx.TimeoutException:
                    status: int | str = "timeout"
                    item_id = None
                except httpx.TransportError:
                    status, item_id = "error", None
                else:
                    status = response.status_code
                    item_id = response.json()["id"] if status == 201 else None
                    if status == 503:
                        assert response.headers["content-type"] == "application/problem+json"
                outcomes.append(Outcome(started, time.monotonic(), status, item_id))
                await asyncio.sleep(0.02)

        writers = [asyncio.create_task(write(w)) for w in range(WRITERS)]
        await asyncio.sleep(2)
        await asyncio.to_thread(cluster.stop)
        stopped_at = time.monotonic()
        await asyncio.sleep(1.5)
        ready = await client.get("/health/ready")
        live = await client.get("/health/live")
        await asyncio.sleep(OUTAGE_S - (time.monotonic() - stopped_at))
        await asyncio.to_thread(cluster.start)
        back_at = time.monotonic()
        await asyncio.sleep(8)
        writing = False
        await asyncio.gather(*writers)
        ready_after = await client.get("/health/ready")
        # The worker lived through the outage and still delivers: a signup made now is welcomed.
        grace = {"email": "grace@example.com", "username": "grace", "password": "correct horse"}
        assert (await client.post("/users", json=grace)).status_code == 201
        await wait_for_log_line(worker, "notification to grace@example.com")

    assert worker.terminate() == 0
    assert api.terminate() in (0, -signal.SIGTERM)
    statuses = {o.status for o in outcomes}
    slowest = max(o.finished - o.started for o in outcomes)
    assert statuses <= {201, 503}, statuses  # no other 5xx, no hang, no dropped connection
    assert 503 in statuses  # the outage was seen
    assert slowest <= LIMIT_S
    assert (ready.status_code, live.status_code, ready_after.status_code) == (503, 200, 200)
    after = [o for o in outcomes if o.started >= back_at]
    first_success = min((o.finished for o in after if o.status == 201), default=None)
    assert first_success is not None, "no successful write after the database came back"
    failures_after = [o.finished for o in after if o.status != 201]
    acknowledged = {o.item_id for o in outcomes if o.item_id is not None}
    assert acknowledged <= await stored_item_ids(cluster.url)  # no acknowledged write lost
    during = [o for o in outcomes if stopped_at <= o.started < back_at]
    results_line(
        tmp_path,
        f"outage: {len(outcomes)} writes by {WRITERS} clients, {len(acknowledged)} acknowledged "
        f"(all stored); database down {back_at - stopped_at:.1f} s; "
        f"{sum(o.status == 503 for o in outcomes)} x 503 ({len(during)} requests during the "
        f"outage); slowest request {slowest:.2f} s (limit {LIMIT_S} s); recovery: first 201 "
        f"{first_success - back_at:.2f} s after PostgreSQL accepted connections again, last "
        f"failure {max(failures_after, default=back_at) - back_at:.2f} s after",
    )


async def test_sigterm_finishes_the_request_in_flight_then_closes_the_pool(
    cluster: LocalCluster, users_items: Start
) -> None:
    api = serve(users_items, plain_url(cluster))
    async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as client:
        path, auth = await signed_up(client)
        # Hold the items table so the next write waits inside the server.
        with psycopg.connect(plain_url(cluster)) as blocker:
            blocker.execute("LOCK TABLE items IN ACCESS EXCLUSIVE MODE")
            in_flight = asyncio.create_task(
                client.post(path, json={"title": "in flight"}, headers=auth)
            )
            await asyncio.sleep(1)
            assert not in_flight.done()

            api.process.send_signal(signal.SIGTERM)
            await asyncio.sleep(1)
            with pytest.raises(httpx.ConnectError):  # no longer accepting
                async with httpx.AsyncClient(base_url=api.base_url, timeout=5) as fresh:
                    await fresh.get("/health/live")
            assert api.process.poll() is None  # still finishing the request
            blocker.rollback()  # release the lock

        response = await in_flight

    assert response.status_code == 201
    assert await asyncio.to_thread(api.process.wait, 15) in (0, -signal.SIGTERM)
    assert "database connections closed" in api.log.read_text()

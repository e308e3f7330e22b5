"""GET /metrics: Prometheus text, labelled by route template (never the raw path), no auth."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.api.contract import Operation
from tests.api.helpers import Account

OPERATIONS = {("get", "/metrics"): Operation("get_metrics", set())}


async def _scrape(client: httpx.AsyncClient) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def _labels(method: str, route: str, status: str) -> tuple[tuple[str, str], ...]:
    return (("method", method), ("route", route), ("status", status))


async def test_requests_are_counted_by_route_template_and_status(
    client: httpx.AsyncClient, ada: Account
) -> None:
    for user_id in (ada.id, ada.id + 1000, ada.id + 2000):
        await client.get(f"/users/{user_id}", headers=ada.headers)
    await client.get(f"/users/{ada.id}")  # no token: 401
    await client.get("/no/such/path/42")

    samples = await _scrape(client)

    requests = samples["http_requests_total"]
    assert requests[_labels("GET", "/users/{user_id}", "200")] == 1
    assert requests[_labels("GET", "/users/{user_id}", "404")] == 2
    assert requests[_labels("GET", "/users/{user_id}", "401")] == 1
    assert requests[_labels("GET", "unmatched", "404")] == 1
    routes = {dict(labels)["route"] for labels in requests}
    assert not any(str(ada.id) in route or "42" in route for route in routes), routes
    not_found = _labels("GET", "/users/{user_id}", "404")
    assert samples["http_request_duration_seconds_count"][not_found] == 2
    assert samples["http_request_duration_seconds_sum"][not_found] > 0


async def test_the_database_pool_gauges_are_read_at_scrape_time(
    client: httpx.AsyncClient,
) -> None:
    samples = await _scrape(client)

    assert samples["db_pool_size"][()] >= 1
    assert samples["db_pool_checked_out"][()] == 0  # nothing in flight while scraping
    assert samples["db_pool_overflow"][()] == 0


async def test_the_outbox_gauges_count_pending_and_dead_messages(
    client: httpx.AsyncClient, ada: Account, bob: Account
) -> None:
    samples = await _scrape(client)

    assert samples["outbox_messages_pending"][()] == 2  # two signups, no worker running
    assert samples["outbox_messages_dead"][()] == 0

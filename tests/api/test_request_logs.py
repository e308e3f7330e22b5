"""Everything logged while a request runs carries its request id, whichever logger wrote it."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import structlog

from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.logs import configure_logging
from entrypoints.settings import Settings


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """JSON logs into a buffer for one test; the previous configuration is restored after."""
    stream = io.StringIO()
    structlog_config = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging(Settings(log_format="json", log_level="INFO", _env_file=None), stream)
    yield stream
    structlog.configure(**structlog_config)
    root.handlers = handlers
    root.setLevel(level)


@pytest.fixture
async def client_with_a_chatty_route(container: Container) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(container)

    @app.get("/chatty")
    async def chatty() -> dict[str, str]:
        logging.getLogger("some.library").warning("stdlib line inside the request")
        structlog.get_logger().info("structlog line inside the request", password="hunter22")
        return {"said": "two lines"}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_lines_logged_during_a_request_carry_its_id(
    client_with_a_chatty_route: httpx.AsyncClient, json_logs: io.StringIO
) -> None:
    response = await client_with_a_chatty_route.get("/chatty", headers={"X-Request-ID": "chat-1"})

    assert response.status_code == 200
    lines: list[dict[str, Any]] = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    by_event = {line["event"]: line for line in lines}
    stdlib_line = by_event["stdlib line inside the request"]
    structlog_line = by_event["structlog line inside the request"]
    assert stdlib_line["request_id"] == "chat-1"
    assert stdlib_line["logger"] == "some.library"
    assert stdlib_line["level"] == "warning"
    assert structlog_line["request_id"] == "chat-1"
    assert structlog_line["password"] == "[redacted]"
    assert "hunter22" not in json_logs.getvalue()

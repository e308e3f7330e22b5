"""The machine's NATS JetStream for the event tests: a stream and subject prefix unique to each
test (deleted after), and what the stream holds, read back by sequence.

NATS runs at ``NATS_URL`` (default ``nats://127.0.0.1:4222``). When it does not answer the tests
skip naming the reason, unless ``REQUIRE_NATS=1`` (CI, ``.ci/run``), which makes that a failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import nats
import pytest
from nats.js.errors import NotFoundError

NATS_URL = os.environ.get("NATS_URL", "nats://127.0.0.1:4222")


@dataclass(frozen=True)
class Published:
    subject: str
    headers: dict[str, str]
    event: dict[str, Any]  # the CloudEvent, as JSON


@dataclass(frozen=True)
class EventStream:
    url: str
    name: str
    prefix: str

    def settings(self) -> dict[str, str]:
        """The environment of a service or worker that publishes to this stream."""
        return {
            "EVENTS_NATS_URL": self.url,
            "EVENTS_STREAM": self.name,
            "EVENTS_SUBJECT_PREFIX": self.prefix,
        }

    async def read(self) -> list[Published]:
        """Every message of the stream, in stream order (empty when it does not exist yet)."""
        client = await nats.connect(self.url, connect_timeout=5, allow_reconnect=False)
        try:
            js = client.jetstream(timeout=10)
            try:
                info = await js.stream_info(self.name)
            except NotFoundError:
                return []
            if info.state.messages == 0:
                # A stream the worker has just created reports first_seq 0, which get_msg
                # refuses (400, "bad request"): there is nothing to read yet.
                return []
            found = []
            for seq in range(info.state.first_seq, info.state.last_seq + 1):
                message = await js.get_msg(self.name, seq)
                found.append(
                    Published(
                        subject=message.subject or "",
                        headers=dict(message.headers or {}),
                        event=json.loads(message.data or b"null"),
                    )
                )
            return found
        finally:
            await client.close()


async def _answers(url: str) -> str | None:
    """None when a JetStream answers at ``url``, else why not."""
    try:
        client = await nats.connect(url, connect_timeout=3, allow_reconnect=False)
    except Exception as error:  # any failure means "no broker"
        return f"no NATS at {url}: {type(error).__name__}: {error}"
    try:
        await client.jetstream(timeout=3).account_info()
    except Exception as error:
        return f"NATS at {url} has no JetStream: {type(error).__name__}: {error}"
    finally:
        await client.close()
    return None


@pytest.fixture
async def jetstream() -> AsyncIterator[EventStream]:
    reason = await _answers(NATS_URL)
    if reason is not None:
        if os.environ.get("REQUIRE_NATS") == "1":
            pytest.fail(f"REQUIRE_NATS=1 but {reason}")
        pytest.skip(reason)
    unique = uuid.uuid4().hex[:12]
    stream = EventStream(NATS_URL, f"TEST_EVENTS_{unique}", f"test-{unique}")
    yield stream
    client = await nats.connect(NATS_URL, connect_timeout=5, allow_reconnect=False)
    try:
        with contextlib.suppress(NotFoundError):
            await client.jetstream(timeout=10).delete_stream(stream.name)
    finally:
        await client.close()

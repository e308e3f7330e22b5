"""The event publisher on NATS JetStream (nats-py; docs/decisions/0044).

Each event is one JetStream message on ``<prefix>.<type>``: the body is the CloudEvent in
structured JSON mode, the headers ``Content-Type: application/cloudevents+json`` and
``Nats-Msg-Id: <event id>`` (JetStream drops a repeat of an id within the stream's duplicate
window). ``publish`` returns when JetStream has acknowledged (stored) the message.

The connection is made on first use and remade by nats-py itself after a broken link
(``max_reconnect_attempts=-1``: forever). A broker that is down when the worker starts, or a
publish that gets no acknowledgement in time, is ``PublisherUnavailable``: the relay waits and
tries again. The stream is created when missing (subjects ``<prefix>.>``, limits retention with
``max_age``), checked once per connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import nats
import orjson
from nats.aio.client import Client
from nats.errors import ConnectionClosedError, NoServersError, OutboundBufferLimitError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import (
    APIError,
    NoStreamResponseError,
    NotFoundError,
    ServiceUnavailableError,
    TooManyStalledMsgsError,
)

from application.ports import (
    CloudEvent,
    EventRejected,
    NamedEvent,
    PublisherUnavailable,
    RunOutcome,
)

logger = logging.getLogger("users_items.events")

CONTENT_TYPE = "application/cloudevents+json"
DEFAULT_SUBJECT_PREFIX = "users-items"
# Publishes in flight, unacknowledged, at most (nats-py's default). A pass has at most its batch.
MAX_PENDING_ACKS = 4000


@dataclass(frozen=True, slots=True)
class StreamOptions:
    name: str = "USERS_ITEMS"
    subject_prefix: str = DEFAULT_SUBJECT_PREFIX
    max_age_seconds: float = 7 * 24 * 3600.0  # how long the stream keeps a message
    duplicate_window_seconds: float = 600.0  # repeats of an id within this are dropped


def encode(event: CloudEvent) -> bytes:
    # orjson: compact UTF-8 JSON, a few times quicker than json.dumps on the relay's path.
    return orjson.dumps(event.to_json_object())


class NatsJetStreamPublisher:
    def __init__(
        self,
        url: str,
        stream: StreamOptions | None = None,
        *,
        timeout_seconds: float = 5.0,
        reconnect_wait_seconds: float = 0.5,
    ) -> None:
        self._url = url
        self._stream = stream or StreamOptions()
        self._timeout = timeout_seconds
        self._reconnect_wait = reconnect_wait_seconds
        self._client: Client | None = None
        self._js: JetStreamContext | None = None
        self._stream_ready = False
        self._lock = asyncio.Lock()
        self._closing = False  # a disconnection then is ours, not a lost link

    def subject(self, name: str) -> str:
        return f"{self._stream.subject_prefix}.{name}"

    async def publish_run(self, events: Sequence[NamedEvent]) -> RunOutcome:
        """Send the run's messages one after the other on the one connection (NATS keeps a
        connection's order, and JetStream stores in arrival order), without waiting for each
        acknowledgement, then wait for the acknowledgements in order, all within
        ``timeout_seconds``. The first failure ends the run; what came after it is reported as
        not acknowledged, and if it was stored all the same its repeat is dropped by id."""
        try:
            js = await self._jetstream()
        except PublisherUnavailable as error:
            return RunOutcome(0, error)
        acks: list[asyncio.Future[Any]] = []
        failed: Exception | None = None
        for named in events:
            try:
                acks.append(
                    await js.publish_async(
                        self.subject(named.name),
                        encode(named.event),
                        wait_stall=self._stall_wait(js),
                        stream=self._stream.name,
                        headers={"Content-Type": CONTENT_TYPE, "Nats-Msg-Id": named.event.id},
                    )
                )
            except Exception as failure:
                failed = self._translate(failure)
                break
        deadline = asyncio.get_running_loop().time() + self._timeout
        acknowledged = 0
        for ack in acks:
            try:
                # Acknowledgements arrive many to a read: most are in by the time their turn
                # comes, and waiting on one that is costs a timer and a turn of the loop.
                if not ack.done():
                    left = max(0.0, deadline - asyncio.get_running_loop().time())
                    # asyncio.wait, not wait_for: the ack is never cancelled by the timeout,
                    # so it needs no shield (a future and two callbacks less per event).
                    await asyncio.wait((ack,), timeout=left)
                    if not ack.done():
                        raise TimeoutError(f"no acknowledgement within {self._timeout} s")
                ack.result()
            except Exception as failure:
                failed = self._translate(failure)
                break
            acknowledged += 1
        for ack in acks[acknowledged:]:
            if not ack.done():
                ack.cancel()  # its slot is freed; a late acknowledgement finds no future
            elif not ack.cancelled():
                ack.exception()  # retrieved: no "exception never retrieved" warning
        return RunOutcome(acknowledged, failed if acknowledged < len(events) else None)

    def _stall_wait(self, js: JetStreamContext) -> float | None:
        """How long a publish may wait for a free slot among the unacknowledged ones. None while
        slots are surely free: nats-py then takes one without a task and a timer of
        ``asyncio.wait_for``, so the event loop is not yielded to between a run's messages and
        its flusher writes the whole run at once, not one socket write per message (40% of a
        worker's CPU under the POST load, decision 0054)."""
        return None if js.publish_async_pending() < MAX_PENDING_ACKS - 1 else self._timeout

    def _translate(self, error: Exception) -> Exception:
        if isinstance(
            error,
            NatsTimeoutError
            | TimeoutError
            | ConnectionClosedError
            | OutboundBufferLimitError
            | NoStreamResponseError
            | ServiceUnavailableError
            | TooManyStalledMsgsError
            | PublisherUnavailable,
        ):
            return PublisherUnavailable(f"{type(error).__name__}: {error}")
        if isinstance(error, NotFoundError):
            self._stream_ready = False  # deleted under us: made again on the next try
            return PublisherUnavailable(f"stream {self._stream.name} missing: {error}")
        if isinstance(error, APIError):
            return EventRejected(f"{type(error).__name__}: {error}")
        return error

    async def _jetstream(self) -> JetStreamContext:
        # Connected, stream checked: every run of every pass asks, so without the lock (in a
        # profile of the warm worker, 7% of its samples were in the lock's acquire).
        client, js = self._client, self._js
        if client is not None and js is not None and self._stream_ready and not client.is_closed:
            return js
        async with self._lock:
            if self._client is None or self._client.is_closed:
                self._client = await self._connect()
                self._js = self._jetstream_of(self._client)
                self._stream_ready = False
            js = self._js
            if js is None:
                js = self._js = self._jetstream_of(self._client)
            if not self._stream_ready:
                await self._ensure_stream(js)
                self._stream_ready = True
            return js

    def _jetstream_of(self, client: Client) -> JetStreamContext:
        return client.jetstream(timeout=self._timeout, publish_async_max_pending=MAX_PENDING_ACKS)

    async def _connect(self) -> Client:
        async def disconnected() -> None:
            if not self._closing:
                logger.warning("event broker link lost; reconnecting")

        async def reconnected() -> None:
            logger.info("event broker link back")

        async def error(e: Exception) -> None:
            logger.debug("event broker: %s", e)

        self._closing = False
        try:
            return await nats.connect(
                self._url,
                connect_timeout=self._timeout,
                allow_reconnect=True,
                max_reconnect_attempts=-1,  # forever: the relay must outlive any outage
                reconnect_time_wait=self._reconnect_wait,
                disconnected_cb=disconnected,
                reconnected_cb=reconnected,
                error_cb=error,
                name="users-items-worker",
            )
        except (NoServersError, OSError, TimeoutError, NatsTimeoutError) as failure:
            raise PublisherUnavailable(f"cannot connect to {self._safe_url()}: {failure}") from None

    async def _ensure_stream(self, js: JetStreamContext) -> None:
        try:
            await js.stream_info(self._stream.name)
            return
        except NotFoundError:
            pass
        except (NatsTimeoutError, TimeoutError, ServiceUnavailableError) as error:
            raise PublisherUnavailable(f"no JetStream answer: {error}") from error
        config = StreamConfig(
            name=self._stream.name,
            subjects=[f"{self._stream.subject_prefix}.>"],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            max_age=self._stream.max_age_seconds,
            duplicate_window=self._stream.duplicate_window_seconds,
        )
        try:
            await js.add_stream(config)
        except (NatsTimeoutError, TimeoutError, ServiceUnavailableError) as error:
            raise PublisherUnavailable(f"no JetStream answer: {error}") from error
        logger.info("created stream %s for %s.>", self._stream.name, self._stream.subject_prefix)

    def _safe_url(self) -> str:
        # Never log a password from the URL.
        scheme, _, rest = self._url.partition("://")
        return f"{scheme}://{rest.rpartition('@')[2]}"

    async def close(self) -> None:
        client, self._client, self._js = self._client, None, None
        self._closing = True
        if client is not None and not client.is_closed:
            try:
                await client.drain()
            except Exception:  # closing a link that is already broken
                await client.close()

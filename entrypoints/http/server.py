"""uvicorn's HTTP protocol with two guards it lacks: a header-read timeout and a connection cap.

uvicorn has no timeout for reading a request's headers (its issue #157 lists
``--timeout-request-start`` as still open): ``timeout_keep_alive`` only runs *between* requests
and is cancelled by every byte received, so a client that trickles a header line now and then
(slowloris) holds its connection, and a file descriptor, for ever. Its ``limit_concurrency``
answers 503 once headers are complete, which a client that never completes them never meets.

So ``serve`` hands uvicorn this protocol (its documented ``http=`` extension point), a subclass
of the one uvicorn would pick (httptools, else h11):

- **Header timeout.** From the moment a connection opens, and again from the first byte of each
  further request on a kept-alive connection, the client has ``header_timeout_seconds`` to
  complete the request line and headers; bytes arriving do not extend it. Then the connection is
  closed. Bodies and responses are not timed here (the body size is capped at 1 MiB).
- **Connection cap.** A connection accepted while ``max_connections`` are open (in this worker
  process) is closed at once, before it can hold anything.

In production, put a reverse proxy in front anyway (README, Deploying).
"""

from __future__ import annotations

import asyncio
import functools
import os
import socket
from typing import Any, cast

from uvicorn.protocols.http.h11_impl import H11Protocol

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - uvicorn[standard] brings httptools
    HttpToolsProtocol = None  # type: ignore[assignment, misc]


class _Guards:
    """Mixed into a uvicorn HTTP protocol (which provides ``connections``, ``cycle``,
    ``loop``, ``transport`` and the asyncio.Protocol methods)."""

    connections: set[Any]
    cycle: Any
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport

    def __init__(
        self, *args: Any, header_timeout_seconds: float, max_connections: int, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._header_timeout_seconds = header_timeout_seconds
        self._max_connections = max_connections
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        if len(self.connections) > self._max_connections:
            transport.close()
            return
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._header_timer is None and (self.cycle is None or self.cycle.response_complete):
            self._arm()  # the first bytes of a further request on a kept-alive connection
        cycle = self.cycle
        super().data_received(data)  # type: ignore[misc]
        if self.cycle is not cycle:  # a request's headers are complete: it has its cycle
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)  # type: ignore[misc]

    def _arm(self) -> None:
        self._header_timer = self.loop.call_later(self._header_timeout_seconds, self._expire)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _expire(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()


class GuardedH11Protocol(_Guards, H11Protocol):
    pass


if HttpToolsProtocol is not None:

    class GuardedHttpToolsProtocol(_Guards, HttpToolsProtocol):
        pass

    _PROTOCOL: type[_Guards] = GuardedHttpToolsProtocol
else:  # pragma: no cover
    _PROTOCOL = GuardedH11Protocol


def guarded_http_protocol(
    *, header_timeout_seconds: float, max_connections: int
) -> type[asyncio.Protocol]:
    """What ``serve`` passes as uvicorn's ``http=``: uvicorn only calls it, with its own
    arguments, once per connection (typed as the class uvicorn's signature names). A partial of a
    module-level class, so it pickles for ``--workers N``."""
    factory = functools.partial(
        _PROTOCOL, header_timeout_seconds=header_timeout_seconds, max_connections=max_connections
    )
    return cast("type[asyncio.Protocol]", factory)


# --- accepting every waiting connection at once (decision 0051) ---------------------------------
#
# libuv (under uvloop) accepts one connection per turn of the event loop: 256 clients that
# connect while the worker is saturated are taken in one at a time, one turn (a few ms under
# load) apart, so the last of them wait about a second before their first request is even read,
# while every request already inside waits a quarter of that. asyncio's own loop accepts all the
# waiting connections in one go. ``serve`` runs uvloop with a second watcher on the listening
# socket (a duplicate of its descriptor) that does the same: each time it is readable, every
# connection waiting is accepted and given the same protocol (so the header timeout and the
# connection cap hold for it), before the loop moves on.

_ACCEPT_BATCH = 1024  # at most this many per readiness, so a flood cannot hold the loop


class _BatchAcceptingServer:
    """Wraps the loop's ``Server``: closing it stops the extra watcher first."""

    def __init__(self, server: Any, loop: asyncio.AbstractEventLoop, listeners: list[Any]) -> None:
        self._server = server
        self._loop = loop
        self._listeners = listeners

    def close(self) -> None:
        for listener in self._listeners:
            self._loop.remove_reader(listener.fileno())
            listener.close()
        self._listeners = []
        self._server.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._server, name)


def _accept_waiting(
    loop: asyncio.AbstractEventLoop, listener: Any, protocol_factory: Any, tasks: set[Any]
) -> None:
    for _ in range(_ACCEPT_BATCH):
        try:
            connection, _address = listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # ECONNABORTED, EMFILE...: libuv's own watcher deals with the rest
            return
        connection.setblocking(False)
        task = loop.create_task(loop.connect_accepted_socket(protocol_factory, connection))
        tasks.add(task)
        task.add_done_callback(tasks.discard)


def batch_accepting_loop() -> asyncio.AbstractEventLoop:
    """uvicorn's ``loop=`` extension point (an import string naming a loop factory): a uvloop
    loop whose TCP servers accept every waiting connection at once; asyncio's loop (which
    already does) without uvloop."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings uvloop
        return asyncio.new_event_loop()

    class BatchAcceptingLoop(uvloop.Loop):
        async def create_server(self, protocol_factory: Any, *args: Any, **kwargs: Any) -> Any:
            server: Any = await super().create_server(protocol_factory, *args, **kwargs)
            if kwargs.get("ssl") is not None:
                return server
            tasks: set[Any] = set()
            listeners = []
            for sock in server.sockets or ():
                listener = socket.socket(fileno=os.dup(sock.fileno()))
                listener.setblocking(False)
                self.add_reader(
                    listener.fileno(), _accept_waiting, self, listener, protocol_factory, tasks
                )
                listeners.append(listener)
            return _BatchAcceptingServer(server, self, listeners)

    return BatchAcceptingLoop()

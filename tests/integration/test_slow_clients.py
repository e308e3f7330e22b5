"""Slow clients against a real ``users-items serve`` over raw sockets: incomplete
headers are timed out, connections past the cap are closed at once, and an idle kept-alive
connection lasts ``SERVER_KEEP_ALIVE_SECONDS``.

What is asserted is how many connections the server closed and how many it still holds, never
how long anything took; the waits below only bound how long the test waits for the counts (the
keep-alive's are on either side of uvicorn's own 5 s, which the setting replaces).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from contextlib import ExitStack, suppress
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from tests.support.service import RunningService, running_service


def _connect(service: RunningService) -> socket.socket:
    url = urlsplit(service.base_url)
    sock = socket.create_connection((url.hostname or "127.0.0.1", url.port or 80), timeout=5)
    sock.setblocking(False)
    return sock


def _closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(4096) == b""  # end of stream (no answer is sent to a half request)
    except BlockingIOError:
        return False  # still open, nothing to read
    except OSError:
        return True  # reset


def _count_closed(socks: list[socket.socket]) -> int:
    return sum(_closed_by_server(sock) for sock in socks)


def _wait_until(condition: Callable[[], bool], deadline_s: float, tick: Callable[[], None]) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline and not condition():
        tick()
        time.sleep(0.25)


def test_slow_partial_headers_get_the_connection_closed(tmp_path: Path) -> None:
    env = {"SERVER_HEADER_TIMEOUT_SECONDS": "1"}
    with running_service(tmp_path, env) as service, ExitStack() as stack:
        socks = [stack.enter_context(_connect(service)) for _ in range(20)]
        for sock in socks:
            sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\n")
        closed = [False] * len(socks)

        def trickle() -> None:  # slowloris: one more header line now and then, never the end
            for index, sock in enumerate(socks):
                closed[index] = closed[index] or _closed_by_server(sock)
                if not closed[index]:
                    try:
                        sock.sendall(b"X-Slow: 1\r\n")
                    except OSError:
                        closed[index] = True

        _wait_until(lambda: all(closed), deadline_s=30, tick=trickle)

        assert sum(closed) == 20, f"{sum(closed)} of 20 slow connections closed"
        # A complete request on a new connection is still served.
        assert httpx.get(f"{service.base_url}/health/live").status_code == 200


def test_a_kept_alive_connection_gets_the_same_timeout_for_its_next_request(
    tmp_path: Path,
) -> None:
    env = {"SERVER_HEADER_TIMEOUT_SECONDS": "1"}
    with running_service(tmp_path, env) as service, _connect(service) as sock:
        sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = b""

        def read() -> None:
            nonlocal answer
            with suppress(BlockingIOError):
                answer += sock.recv(4096)

        _wait_until(lambda: b'{"status":"ok"}' in answer, deadline_s=30, tick=read)
        assert answer.startswith(b"HTTP/1.1 200")
        closed = False

        def trickle() -> None:
            nonlocal closed
            closed = _closed_by_server(sock)
            if not closed:
                try:
                    sock.sendall(b"X-Slow: 1\r\n")
                except OSError:
                    closed = True

        sock.sendall(b"GET /health/live HTTP/1.1\r\n")
        _wait_until(lambda: closed, deadline_s=30, tick=trickle)

        assert closed


def test_connections_past_the_cap_are_closed_at_once(tmp_path: Path) -> None:
    env = {"SERVER_MAX_CONNECTIONS": "10", "SERVER_HEADER_TIMEOUT_SECONDS": "120"}
    with running_service(tmp_path, env) as service, ExitStack() as stack:
        socks = [stack.enter_context(_connect(service)) for _ in range(30)]

        def closed_count() -> int:
            return _count_closed(socks)

        _wait_until(lambda: closed_count() >= 20, deadline_s=30, tick=lambda: None)
        time.sleep(0.5)  # any late close would show in the count below

        held = [sock for sock in socks if not _closed_by_server(sock)]
        assert len(held) == 10, f"{len(held)} of 30 connections held"
        # The connections held are served as usual.
        held[0].setblocking(True)
        held[0].sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert held[0].recv(4096).startswith(b"HTTP/1.1 200")
        # Once they go, new clients get in again.
        for sock in held:
            sock.close()
        _wait_until(lambda: _live(service) == 200, deadline_s=30, tick=lambda: None)
        assert _live(service) == 200


def _live(service: RunningService) -> int:
    try:
        return httpx.get(f"{service.base_url}/health/live", timeout=5).status_code
    except httpx.TransportError:
        return 0


def _served(sock: socket.socket) -> bytes:
    """One request on a kept-alive connection, and the start of its answer."""
    sock.setblocking(True)
    sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
    answer = sock.recv(4096)
    sock.setblocking(False)
    return answer


def test_an_idle_kept_alive_connection_lasts_the_set_keep_alive(tmp_path: Path) -> None:
    # Behind a proxy that keeps idle upstream connections for longer than the server, the proxy
    # may send a request on a connection the server is closing (a 502 for its client): the
    # setting puts the server's keep-alive above the proxy's. Past uvicorn's own 5 s here.
    env = {"SERVER_KEEP_ALIVE_SECONDS": "30"}
    with running_service(tmp_path, env) as service, _connect(service) as sock:
        assert _served(sock).startswith(b"HTTP/1.1 200")
        time.sleep(6.5)

        assert not _closed_by_server(sock)
        assert _served(sock).startswith(b"HTTP/1.1 200")


def test_an_idle_kept_alive_connection_is_closed_after_the_set_keep_alive(
    tmp_path: Path,
) -> None:
    env = {"SERVER_KEEP_ALIVE_SECONDS": "1"}
    with running_service(tmp_path, env) as service, _connect(service) as sock:
        assert _served(sock).startswith(b"HTTP/1.1 200")
        closed = False

        def look() -> None:
            nonlocal closed
            closed = _closed_by_server(sock)

        # Before uvicorn's own 5 s would close it.
        _wait_until(lambda: closed, deadline_s=3.5, tick=look)

        assert closed

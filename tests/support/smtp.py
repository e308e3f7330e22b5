"""A real SMTP server (aiosmtpd) on a free port of 127.0.0.1 that records what it accepts."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.support.ports import free_port


@dataclass
class RecordingHandler:
    """Accepts every message (or refuses with ``refusal``) and keeps it."""

    refusal: str | None = None
    delay_seconds: float = 0.0  # a slow server: each message takes this long to accept
    received: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        if self.refusal is not None:
            return self.refusal
        content = cast(bytes, envelope.original_content or envelope.content)
        message = message_from_bytes(content, policy=default)
        with self.lock:
            self.received.append(message)
        return "250 OK"

    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return list(self.received)


@dataclass(frozen=True)
class SmtpServer:
    port: int
    handler: RecordingHandler

    def url(self, username: str | None = None, password: str | None = None) -> str:
        credentials = f"{username}:{password}@" if username else ""
        return f"smtp://{credentials}127.0.0.1:{self.port}"


@contextmanager
def smtp_server(credentials: tuple[str, str] | None = None) -> Iterator[SmtpServer]:
    """Serve SMTP on 127.0.0.1; with ``credentials``, AUTH (PLAIN/LOGIN, no TLS) is required."""
    handler = RecordingHandler()
    options: dict[str, Any] = {}
    if credentials is not None:

        def authenticate(
            server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
        ) -> AuthResult:
            given = (
                (data.login.decode(), data.password.decode())
                if isinstance(data, LoginPassword)
                else None
            )
            return AuthResult(success=given == credentials)

        options = {"authenticator": authenticate, "auth_required": True, "auth_require_tls": False}
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    try:
        yield SmtpServer(port=controller.port, handler=handler)
    finally:
        controller.stop()

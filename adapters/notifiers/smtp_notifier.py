"""Email over SMTP with aiosmtplib: ``SMTP_URL=smtp://user:pass@host:587`` (STARTTLS when the
server offers it), or ``smtps://`` for implicit TLS (port 465)."""

from __future__ import annotations

from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import aiosmtplib

from application.ports import Notification, NotificationFailed

EVENT_ID_HEADER = "X-Event-ID"


class SmtpNotifier:
    def __init__(self, url: str, sender: str, *, timeout_seconds: float = 30.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://user:password@host:587")
        self._hostname = parts.hostname
        self._implicit_tls = parts.scheme == "smtps"
        self._port = parts.port or (465 if self._implicit_tls else 587)
        self._username = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self._sender = sender
        self._timeout = timeout_seconds

    async def send(self, notification: Notification) -> None:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = notification.recipient
        message["Subject"] = notification.subject
        # The event id twice: as a header a receiver can de-duplicate on, and as the Message-ID
        # (the same on every redelivery), which mail systems already de-duplicate by.
        message[EVENT_ID_HEADER] = notification.event_id
        message["Message-ID"] = f"<{notification.event_id}@users-items>"
        message.set_content(notification.body)
        try:
            await aiosmtplib.send(
                message,
                hostname=self._hostname,
                port=self._port,
                username=self._username,
                password=self._password,
                use_tls=self._implicit_tls,
                start_tls=None if not self._implicit_tls else False,
                timeout=self._timeout,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise NotificationFailed(f"SMTP {self._hostname}:{self._port}: {error}") from error

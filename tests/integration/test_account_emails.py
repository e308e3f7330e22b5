"""The account emails end to end: the API (in process) records them, a real ``users-items
worker`` process sends them to a real SMTP server (aiosmtpd), and the links in them work. Once
delivered, no token is left in the database or in the worker's log."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.migrate import upgrade_to_head
from entrypoints.http.app import create_app
from tests.conftest import build_container
from tests.support.smtp import SmtpServer, smtp_server

COMMAND = str(Path(sys.executable).with_name("users-items"))
APP_BASE_URL = "https://app.example.test/accounts"
PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new horse battery"
LINK = re.compile(
    re.escape(APP_BASE_URL) + r"/(verify-email|reset-password)\?token=([A-Za-z0-9_-]+)"
)


def _text(path: Path) -> str:
    return path.read_text()


@pytest.fixture
def database_file(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'users-items.db'}"
    upgrade_to_head(url)
    return url


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def worker_log(tmp_path: Path, database_file: str, smtp: SmtpServer) -> Iterator[Path]:
    """A real worker process on the database, sending to the SMTP server."""
    env = {
        **os.environ,
        "DATABASE_URL": database_file,
        "SMTP_URL": smtp.url(),
        "APP_BASE_URL": APP_BASE_URL,
        "OUTBOX_POLL_SECONDS": "0.1",
        "SMTP_TIMEOUT_SECONDS": "5",
        "LOG_LEVEL": "DEBUG",
    }
    log = tmp_path / "worker.log"
    with log.open("ab") as out:
        worker = subprocess.Popen(  # noqa: S603 - our own command
            [COMMAND, "worker"], cwd=tmp_path, env=env, stdout=out, stderr=out
        )
    try:
        yield log
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


@pytest.fixture
async def client(database_file: str) -> AsyncIterator[httpx.AsyncClient]:
    container = build_container(database_file, app_base_url=APP_BASE_URL)
    transport = httpx.ASGITransport(app=create_app(container), raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        await container.engine().dispose()
        container.password_hasher().close()


async def mail_to(smtp: SmtpServer, log: Path, recipient: str, subject: str) -> EmailMessage:
    deadline = time.monotonic() + 30
    while True:
        for mail in smtp.handler.messages():
            if mail["To"] == recipient and mail["Subject"] == subject:
                return mail
        assert time.monotonic() < deadline, _text(log)
        await asyncio.sleep(0.1)


def link_in(mail: EmailMessage) -> tuple[str, str]:
    found = LINK.search(str(mail.get_content()))
    assert found, mail.get_content()
    return found.group(1), found.group(2)


async def outbox_payloads(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT status, payload FROM outbox"))
            return [f"{status} {payload}" for status, payload in rows]
    finally:
        await engine.dispose()


async def test_verification_and_reset_emails_work_and_leave_no_token_behind(
    client: httpx.AsyncClient, database_file: str, smtp: SmtpServer, worker_log: Path
) -> None:
    signup = await client.post(
        "/users", json={"email": "ada@example.com", "username": "ada", "password": PASSWORD}
    )
    assert signup.status_code == 201, signup.text

    welcome = await mail_to(smtp, worker_log, "ada@example.com", "Welcome to users-items")
    path, verification_token = link_in(welcome)
    verified = await client.post("/auth/verify-email", json={"token": verification_token})

    assert path == "verify-email"
    assert verified.status_code == 200, verified.text
    assert verified.json()["email_verified"] is True

    reset = await client.post("/auth/password-reset", json={"email": "ada@example.com"})
    assert reset.status_code == 202
    reset_mail = await mail_to(smtp, worker_log, "ada@example.com", "Reset your password")
    path, reset_token = link_in(reset_mail)
    confirmed = await client.post(
        "/auth/password-reset/confirm", json={"token": reset_token, "new_password": NEW_PASSWORD}
    )

    assert path == "reset-password"
    assert confirmed.status_code == 204, confirmed.text
    login = await client.post("/auth/token", data={"username": "ada", "password": NEW_PASSWORD})
    assert login.status_code == 200

    # The notice of a password change is an email too; then everything is delivered.
    access = login.json()["access_token"]
    changed = await client.post(
        "/users/me/password",
        json={"current_password": NEW_PASSWORD, "new_password": PASSWORD + " again"},
        headers={"Authorization": f"Bearer {access}"},
    )
    assert changed.status_code == 204
    await mail_to(smtp, worker_log, "ada@example.com", "Your password was changed")
    deadline = time.monotonic() + 30
    while any(not row.startswith("delivered") for row in await outbox_payloads(database_file)):
        assert time.monotonic() < deadline, _text(worker_log)
        await asyncio.sleep(0.1)

    stored = " ".join(await outbox_payloads(database_file))
    for token in (verification_token, reset_token):
        assert token not in stored
        assert token not in _text(worker_log)
    assert "token" not in stored

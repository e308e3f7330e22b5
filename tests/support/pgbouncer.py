"""A throwaway PgBouncer in front of a test database, from the machine's ``pgbouncer`` binary.

Run as the ``postgres`` system user when the tests run as root (PgBouncer refuses root, as
PostgreSQL does); its files live in a temporary directory removed afterwards.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.support.ports import free_port
from tests.support.postgres import as_postgres_user


def find_pgbouncer() -> str | None:
    return shutil.which("pgbouncer") or next(
        (path for path in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if Path(path).exists()),
        None,
    )


@contextmanager
def pgbouncer(
    binary: str, database_url: str, *, pool_mode: str, server_connections: int
) -> Iterator[str]:
    """PgBouncer on a free port of 127.0.0.1 in ``pool_mode``, with at most
    ``server_connections`` connections to the server of ``database_url``; yields the URL of
    the same database through it."""
    target = make_url(database_url)
    prefix, account = as_postgres_user()
    tmp = Path(tempfile.mkdtemp(prefix="users-items-pgbouncer-"))
    port = free_port()
    user = target.username or "postgres"
    password = f" password={target.password}" if target.password else ""
    (tmp / "users.txt").write_text(f'"{user}" ""\n')
    (tmp / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"bounced = host={target.host or '127.0.0.1'} port={target.port or 5432} "
        f"dbname={target.database} user={user}{password}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {tmp / 'users.txt'}\n"
        f"pool_mode = {pool_mode}\ndefault_pool_size = {server_connections}\n"
        "max_client_conn = 200\n"
    )
    if account is not None:
        for path in (tmp, *tmp.iterdir()):
            os.chown(path, account.pw_uid, account.pw_gid)
    log = (tmp / "pgbouncer.log").open("wb")
    process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
        [*prefix, binary, str(tmp / "pgbouncer.ini")], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        _wait_for_port(port, process, tmp / "pgbouncer.log")
        yield target.set(host="127.0.0.1", port=port, database="bounced").render_as_string(
            hide_password=False
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - only if it hangs
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pgbouncer exited with {process.returncode}: {log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"pgbouncer did not listen within 10 s: {log.read_text()}")

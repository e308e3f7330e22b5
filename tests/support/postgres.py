"""Provide a fresh, empty PostgreSQL database to the test suite.

``provide_postgres()`` yields a SQLAlchemy async URL (``postgresql+asyncpg://...``) and cleans
up afterwards. Sources, first match wins:

a. ``TEST_DATABASE_URL`` is set: create ``users_items_test_<hex>`` on that server, drop it
   (``WITH (FORCE)``) afterwards. Without the CREATEDB privilege the URL's own database is used
   as is, and then it must be empty. This is what ``.ci/run`` and any CI with a service
   container use: it is the fastest and needs nothing else.
b. A Docker engine answers: a throwaway ``postgres:16-alpine`` container via testcontainers.
c. PostgreSQL server binaries are installed (``/usr/lib/postgresql/*/bin`` or ``PATH``): a
   throwaway cluster in a temporary directory on a free port of 127.0.0.1. PostgreSQL refuses
   to run as root, so as root the cluster is owned and run by the ``postgres`` system user
   (``runuser``). This covers development machines and sandboxes that run as root and have
   only a Docker client, no engine.
d. Otherwise ``PostgresUnavailable`` is raised; callers decide whether to skip or fail.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

from adapters.sqlalchemy.engine import to_async_url
from tests.support.ports import free_port

__all__ = [
    "LocalCluster",
    "PostgresUnavailable",
    "database_on_server",
    "find_bin_dir",
    "local_cluster",
    "provide_postgres",
    "restartable_cluster",
    "to_asyncpg_url",
]

_PG_LIB = Path("/usr/lib/postgresql")
_LOCAL_DATABASE = "users_items_test"


class PostgresUnavailable(Exception):
    """No PostgreSQL server could be provided; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def to_asyncpg_url(url: str) -> str:
    """Return ``url`` (postgres://, postgresql://, postgresql+<driver>://) as postgresql+asyncpg."""
    if make_url(url).get_backend_name() not in {"postgres", "postgresql"}:
        raise ValueError(f"not a PostgreSQL URL: {make_url(url)!r}")
    return to_async_url(url).render_as_string(hide_password=False)


@contextmanager
def provide_postgres() -> Iterator[str]:
    """Yield the async URL of a fresh, empty database; see the module docstring for sources."""
    source: AbstractContextManager[str]
    if url := os.environ.get("TEST_DATABASE_URL"):
        source = database_on_server(url)
    elif _docker_answers():
        source = _container()
    elif (bin_dir := find_bin_dir()) is not None:
        source = local_cluster(bin_dir)
    else:
        raise PostgresUnavailable(
            "no TEST_DATABASE_URL, no Docker engine, no PostgreSQL binaries found"
        )
    with source as database_url:
        yield database_url


# a. an existing server ----------------------------------------------------------------------


@contextmanager
def database_on_server(url: str) -> Iterator[str]:
    server = make_url(to_asyncpg_url(url))
    name = f"{_LOCAL_DATABASE}_{secrets.token_hex(6)}"
    try:
        _execute(server, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.errors.InsufficientPrivilege:
        created = False
    except psycopg.OperationalError as exc:
        raise PostgresUnavailable(f"TEST_DATABASE_URL does not answer: {exc}") from exc
    else:
        created = True
    if not created:  # no CREATEDB right: use the URL's own database, which must be empty
        yield server.render_as_string(hide_password=False)
        return
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        _execute(server, drop)


def _execute(url: URL, statement: sql.Composed) -> None:
    """Run one statement in autocommit mode (CREATE/DROP DATABASE) with psycopg."""
    libpq = _rename_query(url.set(drivername="postgresql"), "ssl", "sslmode")
    conninfo = libpq.render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as connection:
        connection.execute(statement)


def _rename_query(url: URL, old: str, new: str) -> URL:
    if old not in url.query:
        return url
    return url.difference_update_query([old]).update_query_dict({new: url.query[old]})


# b. testcontainers --------------------------------------------------------------------------


def _docker_answers() -> bool:
    try:
        import docker  # type: ignore[import-untyped,unused-ignore]

        return bool(docker.from_env(timeout=3).ping())
    except Exception:
        return False


@contextmanager
def _container() -> Iterator[str]:
    from testcontainers.community.postgres import PostgresContainer

    container = PostgresContainer("postgres:16-alpine", driver="asyncpg")
    try:
        container.start()
    except Exception as exc:
        raise PostgresUnavailable(f"could not start a PostgreSQL container: {exc}") from exc
    try:
        yield to_asyncpg_url(container.get_connection_url())
    finally:
        container.stop()


# c. local server binaries -------------------------------------------------------------------


def find_bin_dir() -> Path | None:
    def version(bin_dir: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in bin_dir.parent.name.split(".") if part.isdigit())

    candidates = [d for d in _PG_LIB.glob("*/bin") if (d / "initdb").exists()]
    if candidates:
        return max(candidates, key=version)
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl and Path(initdb).parent == Path(pg_ctl).parent:
        return Path(initdb).parent
    return None


def as_postgres_user() -> tuple[list[str], pwd.struct_passwd | None]:
    """Command prefix and account to run the server as: ourselves, or ``postgres`` as root."""
    if os.geteuid() != 0:
        return [], None
    try:
        account = pwd.getpwnam("postgres")
    except KeyError:
        raise PostgresUnavailable(
            "running as root, PostgreSQL refuses to run as root and there is no 'postgres' "
            "system user to run it as"
        ) from None
    runuser = shutil.which("runuser")
    if runuser is None:
        raise PostgresUnavailable("running as root and 'runuser' is not installed")
    return [runuser, "-u", "postgres", "--"], account


@contextmanager
def local_cluster(bin_dir: Path) -> Iterator[str]:
    with restartable_cluster(bin_dir) as cluster:
        yield cluster.url


@dataclass(frozen=True)
class LocalCluster:
    """A throwaway cluster that a test may stop and start again (same port, same data)."""

    url: str  # postgresql+asyncpg://... of the test database
    port: int
    pg_ctl: list[str]
    options: str
    log: Path

    def stop(self) -> None:
        """Stop the server as an outage looks: sessions terminated, new connections refused."""
        _run([*self.pg_ctl, "-w", "-t", "60", "-m", "fast", "stop"], self.log)

    def start(self) -> None:
        """Start it again; returns once it accepts connections."""
        _run(
            [*self.pg_ctl, "-w", "-t", "60", "-l", str(self.log), "-o", self.options, "start"],
            self.log,
        )


@contextmanager
def restartable_cluster(bin_dir: Path) -> Iterator[LocalCluster]:
    """A fresh cluster on a free port of 127.0.0.1 with an empty test database; see
    ``LocalCluster``. Removed afterwards, whatever state it is in."""
    prefix, account = as_postgres_user()
    tmp = Path(tempfile.mkdtemp(prefix="users-items-pg-"))
    data, sockets, log = tmp / "data", tmp / "sockets", tmp / "postgres.log"
    pg_ctl = [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data)]
    try:
        sockets.mkdir()
        log.touch()
        if account is not None:
            for path in (tmp, sockets, log):
                os.chown(path, account.pw_uid, account.pw_gid)
        initdb = [str(bin_dir / "initdb"), "-A", "trust", "-U", "postgres", "--no-sync"]
        _run([*prefix, *initdb, "-E", "UTF8", "--locale=C", "-D", str(data)], log)
        port = free_port()
        options = (
            f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        )
        cluster = LocalCluster(
            url=to_asyncpg_url(
                URL.create(
                    "postgresql",
                    username="postgres",
                    host="127.0.0.1",
                    port=port,
                    database=_LOCAL_DATABASE,
                ).render_as_string(hide_password=False)
            ),
            port=port,
            pg_ctl=pg_ctl,
            options=options,
            log=log,
        )
        cluster.start()
        server = URL.create(
            "postgresql", username="postgres", host="127.0.0.1", port=port, database="postgres"
        )
        _execute(server, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(_LOCAL_DATABASE)))
        yield cluster
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(  # noqa: S603 - fixed argv, no shell
                [*pg_ctl, "-m", "immediate", "stop"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=tmp,
                check=False,
            )
        shutil.rmtree(tmp, ignore_errors=True)


def _run(argv: list[str], log: Path) -> None:
    with log.open("ab") as out:
        result = subprocess.run(  # noqa: S603 - fixed argv, no shell
            argv, stdout=out, stderr=subprocess.STDOUT, cwd=log.parent, check=False
        )
    if result.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        program = Path(argv[argv.index("--") + 1] if "--" in argv else argv[0]).name
        raise PostgresUnavailable(
            f"{program} failed with exit code {result.returncode}; last log lines:\n{tail}"
        )

"""The ``users-items`` command: serve the API, run migrations, manage accounts.

Every command exits non-zero with one line on bad input or a failure it understands (no
traceback): 2 for bad input or configuration, 1 when the operation itself fails.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from typing import Annotated, NoReturn, TypeVar

import typer
import uvicorn
from alembic.util import CommandError
from dependency_injector import providers
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError

from adapters.sqlalchemy.engine import is_sqlite
from adapters.sqlalchemy.migrate import upgrade_to_head
from application.create_user import CreateUserCommand
from application.deactivate_user import DeactivateUserCommand
from application.errors import ApplicationError, PasswordRejected, StorageUnavailable
from application.manage_user import ManageUserCommand
from entrypoints import worker_cli
from entrypoints.container import Container
from entrypoints.http.metrics import MULTIPROC_DIR_VARIABLE
from entrypoints.http.schemas import UserCreate
from entrypoints.http.server import guarded_http_protocol
from entrypoints.logs import configure_logging
from entrypoints.settings import Settings

T = TypeVar("T")

app = typer.Typer(
    help="users-items: users who sign up, log in and own items.",
    no_args_is_help=True,
    add_completion=False,
    # A crash must never print local variables: one of them may be a password.
    pretty_exceptions_show_locals=False,
)


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"users-items: {message}", err=True)
    raise typer.Exit(code=code)


def _messages(error: ValidationError) -> str:
    return "; ".join(
        (f"{'.'.join(str(p) for p in e['loc'])}: " if e.get("loc") else "")
        + str(e.get("msg", e)).removeprefix("Value error, ")
        for e in error.errors()
    )


def _settings() -> Settings:
    try:
        settings = Settings()
    except ValidationError as error:
        _fail(f"invalid configuration: {_messages(error)}", code=2)
    configure_logging(settings)
    return settings


def _upgrade(database_url: str) -> None:
    """Alembic ``upgrade head``; a revision that refuses to run (0004 on colliding email
    addresses) says why in one line."""
    try:
        upgrade_to_head(database_url)
    except CommandError as error:
        _fail(f"migration refused: {error}")


def _migrate_if_sqlite(settings: Settings, *, quiet: bool = False) -> None:
    if is_sqlite(settings.database_url):
        if quiet:  # an account command reports its own outcome, not Alembic's steps
            logging.getLogger("alembic").setLevel(logging.WARNING)
        # Zero setup: a newcomer's first command gets a working database. PostgreSQL is
        # migrated explicitly (`users-items migrate`) as a deploy step, never by N workers at once.
        _upgrade(settings.database_url)


def _run(settings: Settings, work: Callable[[Container], Awaitable[T]]) -> T:
    """Run one use case on a container of ``settings``; its engine is disposed afterwards."""
    container = Container()
    container.settings.override(providers.Object(settings))

    async def run() -> T:
        try:
            return await work(container)
        finally:
            await container.engine().dispose()
            container.password_hasher().close()

    try:
        return asyncio.run(run())
    except StorageUnavailable:
        _fail("the database is unavailable; check DATABASE_URL and try again")
    except PasswordRejected:
        raise  # bad input: the command says so itself
    except ApplicationError as error:
        _fail(str(error))
    except DBAPIError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        _fail(f"database error: {reason} (is the schema migrated? `users-items migrate`)")


@app.command()
def migrate() -> None:
    """Apply every pending database migration (Alembic ``upgrade head``)."""
    settings = _settings()
    _upgrade(settings.database_url)
    typer.echo("database is at the newest schema revision")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Serve the HTTP API with uvicorn. On SQLite, migrate the database first."""
    settings = _settings()
    _migrate_if_sqlite(settings)
    if workers > 1 or os.environ.get(MULTIPROC_DIR_VARIABLE):
        _prepare_multiprocess_metrics()
    uvicorn.run(
        "entrypoints.http.asgi:app",
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        timeout_graceful_shutdown=10,
        # How long an idle kept-alive connection stays open (uvicorn's default, 5 s, unless
        # set): above a proxy's idle timeout, the proxy is always the one that closes first.
        timeout_keep_alive=settings.server_keep_alive_seconds,
        # A worker may take more than uvicorn's default 5 s to import the app on a busy host;
        # past this, the supervisor kills and restarts it.
        timeout_worker_healthcheck=30,
        log_config=None,  # configure_logging did it, and each worker does it in asgi.py
        access_log=False,  # one access line per request, from our middleware
        # A header-read timeout and a connection cap, which uvicorn lacks.
        http=guarded_http_protocol(
            header_timeout_seconds=settings.server_header_timeout_seconds,
            max_connections=settings.server_max_connections,
        ),
        ws="none",  # no WebSocket routes; an Upgrade request is served as plain HTTP
        # uvloop, accepting every waiting connection at once rather than one per turn of the
        # loop (decision 0051).
        loop="entrypoints.http.server:batch_accepting_loop",
    )


worker_cli.register(app, load_settings=_settings)  # `worker` and `outbox list|retry`


def _prepare_multiprocess_metrics() -> None:
    """Several workers must report one view: prometheus-client's multiprocess mode, with the
    directory emptied at start (left-over files would add a previous run's counts)."""
    directory = os.environ.get(MULTIPROC_DIR_VARIABLE)
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)
    else:
        directory = tempfile.mkdtemp(prefix="users-items-metrics-")
        os.environ[MULTIPROC_DIR_VARIABLE] = directory  # inherited by the worker processes


@app.command("create-user")
def create_user(
    email: Annotated[str, typer.Option(help="The new user's email address.")],
    username: Annotated[str, typer.Option(help="3-32 characters of [A-Za-z0-9_.-].")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="Asked for without echo (and twice) when not given; avoid passing it here.",
        ),
    ],
    admin: Annotated[bool, typer.Option("--admin", help="Make the user an administrator.")] = False,
) -> None:
    """Create an active user, as signing up would (same validation, same password policy, same
    hashing, the same welcome email with its verification link)."""
    settings = _settings()
    try:
        body = UserCreate(email=email, username=username, password=password)
    except ValidationError as error:
        _fail(f"invalid input: {_messages(error)}", code=2)
    _migrate_if_sqlite(settings, quiet=True)
    command = CreateUserCommand(
        email=body.email, username=body.username, password=body.password, is_admin=admin
    )
    try:
        user = _run(settings, lambda container: container.create_user().execute(command))
    except PasswordRejected as error:
        _fail(f"invalid input: password {error.reason}", code=2)
    role = "administrator" if user.is_admin else "user"
    typer.echo(f"created {role} {user.username} (id {user.id})")


@app.command("deactivate-user")
def deactivate_user(
    user: Annotated[str, typer.Argument(help="The username, or the numeric id with --id.")],
    by_id: Annotated[bool, typer.Option("--id", help="USER is the numeric user id.")] = False,
) -> None:
    """Deactivate a user: they can no longer log in and their access tokens stop working."""
    settings = _settings()
    if by_id:
        if not user.isdigit() or int(user) < 1:
            _fail(f"invalid input: --id needs a positive whole number, not {user!r}", code=2)
        command = DeactivateUserCommand(user_id=int(user))
    else:
        command = DeactivateUserCommand(username=user)
    _migrate_if_sqlite(settings, quiet=True)
    result = _run(settings, lambda container: container.deactivate_user().execute(command))
    state = "deactivated" if result.was_active else "was already inactive"
    typer.echo(f"user {result.user.username} (id {result.user.id}) {state}")


def _set_admin(username: str, *, admin: bool) -> None:
    settings = _settings()
    _migrate_if_sqlite(settings, quiet=True)
    command = ManageUserCommand(actor=None, username=username, is_admin=admin)
    user = _run(settings, lambda container: container.manage_user().execute(command))
    state = "is now an administrator" if admin else "is no longer an administrator"
    typer.echo(f"user {user.username} (id {user.id}) {state}")


@app.command("grant-admin")
def grant_admin(
    user: Annotated[str, typer.Argument(help="The username (case-insensitive).")],
) -> None:
    """Make a user an administrator."""
    _set_admin(user, admin=True)


@app.command("revoke-admin")
def revoke_admin(
    user: Annotated[str, typer.Argument(help="The username (case-insensitive).")],
) -> None:
    """Make an administrator a user again; refused for the last active administrator."""
    _set_admin(user, admin=False)


@app.command("mfa-reset")
def mfa_reset(
    user: Annotated[str, typer.Argument(help="The username (case-insensitive).")],
) -> None:
    """Turn a user's second factor off (they lost both device and recovery codes): they log
    in with the password alone, and a notice email is queued."""
    settings = _settings()
    _migrate_if_sqlite(settings, quiet=True)
    found = _run(settings, lambda container: container.reset_second_factor().execute(user))
    typer.echo(f"user {found.username} (id {found.id}): second factor turned off")


def main() -> None:
    app()

"""The ``users-items`` command: serve the API, run migrations."""

from __future__ import annotations

import copy
import logging.config
from typing import Annotated, Any

import typer
import uvicorn
from pydantic import ValidationError

from adapters.sqlalchemy.engine import is_sqlite
from adapters.sqlalchemy.migrate import upgrade_to_head
from entrypoints.settings import Settings

app = typer.Typer(
    help="users-items: users who sign up, log in and own items.",
    no_args_is_help=True,
    add_completion=False,
)


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        messages = "; ".join(
            str(e.get("msg", e)).removeprefix("Value error, ") for e in error.errors()
        )
        typer.echo(f"users-items: invalid configuration: {messages}", err=True)
        raise typer.Exit(code=2) from None


@app.command()
def migrate() -> None:
    """Apply every pending database migration (Alembic ``upgrade head``)."""
    settings = _settings()
    upgrade_to_head(settings.database_url)
    typer.echo("database is at the newest schema revision")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    access_log: Annotated[
        bool, typer.Option(help="Log one line per request (off for benchmarks).")
    ] = True,
) -> None:
    """Serve the HTTP API with uvicorn. On SQLite, migrate the database first."""
    settings = _settings()
    if is_sqlite(settings.database_url):
        # Zero setup: a newcomer's first `make run` gets a working database. PostgreSQL is
        # migrated explicitly (`users-items migrate`) as a deploy step, never by N workers at once.
        upgrade_to_head(settings.database_url)
    uvicorn.run(
        "entrypoints.http.asgi:app",
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        timeout_graceful_shutdown=10,
        access_log=access_log,
        log_config=_log_config(),
    )


def _log_config() -> dict[str, Any]:
    """uvicorn's logging, with the request id in every line (``-`` outside a request)."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["filters"] = {
        "request_id": {"()": "asgi_correlation_id.CorrelationIdFilter", "default_value": "-"}
    }
    for handler in config["handlers"].values():
        handler["filters"] = ["request_id"]
    config["formatters"]["default"]["fmt"] = (
        "%(asctime)s %(levelprefix)s %(name)s [%(correlation_id)s] %(message)s"
    )
    config["formatters"]["access"]["fmt"] = (
        '%(asctime)s %(levelprefix)s [%(correlation_id)s] %(client_addr)s - "%(request_line)s" '
        "%(status_code)s"
    )
    config["root"] = {"handlers": ["default"], "level": "INFO"}
    return config


def main() -> None:
    logging.config.dictConfig(_log_config())
    app()

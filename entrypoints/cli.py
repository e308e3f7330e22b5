"""The ``users-items`` command: serve the API, run migrations."""

from __future__ import annotations

import logging
from typing import Annotated

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
    )


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app()

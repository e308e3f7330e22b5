"""``users-items worker`` and ``users-items outbox list|retry|prune`` (registered in cli.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated

import typer
from dependency_injector import providers

from adapters.sqlalchemy.engine import is_sqlite
from adapters.sqlalchemy.migrate import upgrade_to_head
from application.errors import OutboxMessageNotDead
from application.ports import OutboxDestination, OutboxStatus
from entrypoints.container import Container
from entrypoints.settings import Settings
from entrypoints.worker import run_worker

outbox_app = typer.Typer(help="Inspect and requeue outbox messages.", no_args_is_help=True)


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """The worker's loop: uvloop's, as ``serve`` runs (uvicorn[standard] brings it), else
    asyncio's. On uvloop the relay spent about a tenth less CPU per event (decision 0055)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings uvloop
        return asyncio.new_event_loop
    return uvloop.new_event_loop


def register(app: typer.Typer, load_settings: Callable[[], Settings]) -> None:
    """Add ``worker`` and ``outbox`` to the main command; ``load_settings`` exits on bad config."""

    def container() -> Container:
        container = Container()
        container.settings.override(providers.Object(load_settings()))
        return container

    @app.command()
    def worker() -> None:
        """Deliver outbox messages (welcome emails) until SIGTERM; any number on PostgreSQL."""
        built = container()
        database_url = built.settings().database_url
        if is_sqlite(database_url):
            upgrade_to_head(database_url)  # zero setup, as `serve` does
        with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
            runner.run(run_worker(built))

    @outbox_app.command("list")
    def list_messages(
        dead: Annotated[
            bool, typer.Option("--dead", help="Dead messages, not pending ones.")
        ] = False,
        limit: Annotated[int, typer.Option(min=1, help="At most this many.")] = 100,
        destination: Annotated[
            OutboxDestination | None,
            typer.Option(help="Only emails or only events; both by default."),
        ] = None,
    ) -> None:
        """List pending (default) or dead messages: id, destination, event, user (events),
        attempts, last error."""
        built = container()
        status = OutboxStatus.DEAD if dead else OutboxStatus.PENDING

        async def run() -> None:
            try:
                messages = await built.list_outbox_messages().execute(status, limit, destination)
            finally:
                await built.engine().dispose()
            for m in messages:
                user = f"\tuser={m.ordering_key}" if m.ordering_key is not None else ""
                typer.echo(
                    f"{m.id}\t{m.destination.value}\t{m.event_type}\t{m.event_id}{user}\t"
                    f"attempts={m.attempts}\tcreated={m.created_at.isoformat()}\t"
                    f"{m.last_error or ''}"
                )

        asyncio.run(run())

    @outbox_app.command("retry")
    def retry(message_id: Annotated[int, typer.Argument(help="The dead message's id.")]) -> None:
        """Requeue a dead message: pending again, due now, attempts counted from zero."""
        built = container()

        async def run() -> None:
            try:
                await built.requeue_outbox_message().execute(message_id)
            finally:
                await built.engine().dispose()

        try:
            asyncio.run(run())
        except OutboxMessageNotDead as error:
            typer.echo(f"users-items: {error}", err=True)
            raise typer.Exit(code=1) from None
        typer.echo(f"outbox message {message_id} requeued")

    app.add_typer(outbox_app, name="outbox")

    @outbox_app.command("prune")
    def prune() -> None:
        """Delete messages delivered more than OUTBOX_RETENTION_DAYS ago (the worker does it
        hourly); pending and dead messages stay."""
        built = container()

        async def run() -> int:
            try:
                deleted: int = await built.prune_outbox().execute()
            finally:
                await built.engine().dispose()
            return deleted

        deleted = asyncio.run(run())
        typer.echo(f"{deleted} delivered outbox messages pruned")

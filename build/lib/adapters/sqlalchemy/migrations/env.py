"""Alembic environment: runs migrations over an async engine.

The URL comes from ``config.attributes["database_url"]`` (set by ``adapters.sqlalchemy.migrate``),
else from the ``DATABASE_URL`` environment variable, else the service's default SQLite file, so
the plain ``alembic`` command (with the alembic.ini at the repository root) works too.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from adapters.sqlalchemy.engine import DEFAULT_DATABASE_URL, create_engine
from adapters.sqlalchemy.tables import metadata

config = context.config


def _database_url() -> str:
    url = config.attributes.get("database_url") or os.environ.get("DATABASE_URL")
    return str(url or DEFAULT_DATABASE_URL)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite can only ALTER a table by copying it
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_engine(_database_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_database_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())

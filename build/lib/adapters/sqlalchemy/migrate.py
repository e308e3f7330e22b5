"""Run the Alembic migrations that own the schema (``users-items migrate``, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from adapters.sqlalchemy.engine import to_async_url

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Stored as an attribute, not an ini option: ini interpolation would mangle a '%' in a password.
    config.attributes["database_url"] = to_async_url(database_url).render_as_string(
        hide_password=False
    )
    return config


def upgrade_to_head(database_url: str) -> None:
    """Bring the database to the newest revision. Synchronous: it runs its own event loop, so
    call it from a thread (``asyncio.to_thread``) when a loop is already running."""
    command.upgrade(alembic_config(database_url), "head")


def downgrade_to_base(database_url: str) -> None:
    command.downgrade(alembic_config(database_url), "base")

"""Alembic owns the schema: it builds it from nothing, tears it down, and matches the models."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.migrate import alembic_config, downgrade_to_base, upgrade_to_head
from adapters.sqlalchemy.tables import metadata
from tests.support.postgres import PostgresUnavailable, provide_postgres


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    request.getfixturevalue("postgres_url")  # skips or fails exactly as the other PG tests do
    try:
        with provide_postgres() as url:
            yield url
    except PostgresUnavailable as error:  # pragma: no cover - postgres_url already decided
        pytest.fail(error.reason)


def _inspect(url: str, probe: Any) -> Any:
    async def run() -> Any:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(probe)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _head(database_url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()


def test_upgrade_head_builds_the_schema_from_nothing(empty_database_url: str) -> None:
    assert _inspect(empty_database_url, _tables) == set()

    upgrade_to_head(empty_database_url)

    assert _inspect(empty_database_url, _tables) == {*metadata.tables, "alembic_version"}
    assert {"users", "items", "refresh_tokens", "outbox"} <= set(metadata.tables)
    assert _inspect(empty_database_url, _current_revision) == _head(empty_database_url)


# SQLite cannot reflect expression indexes, so there only the tables and columns are compared;
# on PostgreSQL the indexes are compared too.
@pytest.mark.filterwarnings("ignore:.*expression-based index")
def test_models_agree_with_migrations(empty_database_url: str) -> None:
    upgrade_to_head(empty_database_url)

    assert _inspect(empty_database_url, _differences) == []


def test_downgrade_to_base_and_up_again(empty_database_url: str) -> None:
    upgrade_to_head(empty_database_url)
    downgrade_to_base(empty_database_url)
    assert _inspect(empty_database_url, _tables) == {"alembic_version"}

    upgrade_to_head(empty_database_url)
    assert {"users", "items"} <= _inspect(empty_database_url, _tables)


def test_the_indexes_the_queries_need_exist(empty_database_url: str) -> None:
    upgrade_to_head(empty_database_url)

    def index_definitions(connection: Connection) -> dict[str, str]:
        # Read the catalogue: SQLite cannot reflect expression indexes through the inspector.
        query = (
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            if connection.dialect.name == "sqlite"
            else "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
        )
        definitions = {}
        for name, sql in connection.exec_driver_sql(query):
            # PostgreSQL writes lower((email)::text); SQLite keeps what was declared.
            normal = " ".join(sql.lower().split()).replace("::text", "").replace('"', "")
            definitions[name] = normal.replace("((", "(").replace("))", ")")
        return definitions

    found = _inspect(empty_database_url, index_definitions)
    assert "unique index" in found["uq_users_email_key"]
    assert found["uq_users_email_key"].endswith("(email_key)")
    assert "unique index" in found["uq_users_username_lower"]
    assert "lower(username)" in found["uq_users_username_lower"]
    assert found["ix_items_owner_id_id"].endswith("(owner_id, id)")
    # A refresh is a look-up by token hash; reuse revokes by family.
    assert "unique index" in found["uq_refresh_tokens_token_hash"]
    assert found["uq_refresh_tokens_token_hash"].endswith("(token_hash)")
    assert found["ix_refresh_tokens_family_id"].endswith("(family_id)")
    # A verification or reset is a look-up by token hash; issuing voids by user and kind.
    assert "unique index" in found["uq_account_tokens_token_hash"]
    assert found["uq_account_tokens_token_hash"].endswith("(token_hash)")
    assert found["ix_account_tokens_user_id_kind"].endswith("(user_id, kind)")

    # The events claim: due rows in id order among the pending only; "no earlier undelivered
    # row of the key" among the undelivered only (docs/decisions/0052).
    def bare(name: str) -> str:
        definition: str = found[name]
        return definition.replace("(", "").replace(")", "").replace("!=", "<>")

    assert bare("ix_outbox_pending_destination_id").endswith(
        "destination, id where status = 'pending'"
    )
    assert bare("ix_outbox_undelivered_ordering_key_id").endswith(
        "ordering_key, id where status <> 'delivered'"
    )
    assert "ix_outbox_ordering_key_id" not in found
    # The event lag (/metrics) reads the undelivered rows by creation time; no index holds
    # available_at, so that a claim's lease can be a heap-only update (docs/decisions/0058).
    assert bare("ix_outbox_undelivered_destination_created_at").endswith(
        "destination, created_at where status <> 'delivered'"
    )
    assert not [name for name, sql in found.items() if "available_at" in sql]


# --- 0004: email keys by NFKC + case folding, IDNA domains in ASCII --------------------------

_OLD_ROWS = [  # (id, email, email_key as revision 0003's code stored them: lower())
    (1, "paypal@example.com"),
    (2, "\uff50aypal@example.com"),  # fullwidth p: the same address once NFKC-normalised
    (3, "Ada@Bücher.de"),  # an internationalised domain, stored as typed
    (4, "bob@example.com"),
    (5, "PayPal@\uff45xample.com"),  # fullwidth e in the domain: the same as 1 and 2
]


def _seed_old_rows(connection: Connection) -> None:
    for user_id, email in _OLD_ROWS:
        connection.execute(
            text(
                "INSERT INTO users (id, email, email_key, username, hashed_password, is_active, "
                "created_at) VALUES (:id, :email, :key, :username, 'x', true, :now)"
            ),
            {
                "id": user_id,
                "email": email,
                "key": email.lower(),
                "username": f"user{user_id}",
                "now": datetime.now(UTC),
            },
        )
    connection.commit()


def _emails(connection: Connection) -> dict[int, tuple[str, str]]:
    rows = connection.execute(text("SELECT id, email, email_key FROM users ORDER BY id"))
    return {row.id: (row.email, row.email_key) for row in rows}


def _delete_user(user_id: int) -> Callable[[Connection], None]:
    def delete(connection: Connection) -> None:
        connection.execute(text("DELETE FROM users WHERE id = :id"), {"id": user_id})
        connection.commit()

    return delete


def test_0004_refuses_colliding_emails_then_normalises_them_and_goes_back_down(
    empty_database_url: str,
) -> None:
    config = alembic_config(empty_database_url)
    command.upgrade(config, "0003")
    _inspect(empty_database_url, _seed_old_rows)

    with pytest.raises(CommandError) as refused:
        upgrade_to_head(empty_database_url)

    assert "users 1, 2, 5" in str(refused.value)
    assert _inspect(empty_database_url, _current_revision) == "0003"
    assert _inspect(empty_database_url, _emails)[2] == (_OLD_ROWS[1][1], _OLD_ROWS[1][1])

    # The operator keeps account 1 at that address and removes the look-alikes.
    _inspect(empty_database_url, _delete_user(2))
    _inspect(empty_database_url, _delete_user(5))
    upgrade_to_head(empty_database_url)

    assert _inspect(empty_database_url, _emails) == {
        1: ("paypal@example.com", "paypal@example.com"),
        3: ("Ada@xn--bcher-kva.de", "ada@xn--bcher-kva.de"),
        4: ("bob@example.com", "bob@example.com"),
    }

    command.downgrade(config, "0003")
    assert _inspect(empty_database_url, _emails)[3] == (
        "Ada@xn--bcher-kva.de",
        "ada@xn--bcher-kva.de",
    )
    upgrade_to_head(empty_database_url)
    assert _inspect(empty_database_url, _current_revision) == _head(empty_database_url)


def test_0005_keeps_existing_rows_valid_up_and_down(empty_database_url: str) -> None:
    """Users, items and refresh tokens from before the accounts revision: up, they are
    unverified non-admins at credentials version 0 whose tokens' login time is their issue
    time; down again, nothing is lost (no table copy cascades into items)."""
    config = alembic_config(empty_database_url)
    command.upgrade(config, "0003")

    def seed(connection: Connection) -> None:
        connection.exec_driver_sql(
            "INSERT INTO users (id, email, email_key, username, hashed_password, is_active, "
            "created_at) VALUES (1, 'ada@example.com', 'ada@example.com', 'ada', 'h', true, "
            "'2026-11-01 10:00:00+00:00')"
        )
        connection.exec_driver_sql(
            "INSERT INTO items (id, title, owner_id, created_at) "
            "VALUES (1, 'Lamp', 1, '2026-11-01 10:00:00+00:00')"
        )
        connection.exec_driver_sql(
            "INSERT INTO refresh_tokens (token_hash, family_id, user_id, issued_at, expires_at) "
            "VALUES ('h1', 'f1', 1, '2026-11-02 10:00:00+00:00', '2026-11-16 10:00:00+00:00')"
        )
        connection.commit()

    def read(connection: Connection) -> tuple[Any, ...]:
        user = connection.exec_driver_sql(
            "SELECT email_verified, is_admin, credentials_version FROM users"
        ).one()
        token = connection.exec_driver_sql(
            "SELECT authenticated_at = issued_at, credentials_version FROM refresh_tokens"
        ).one()
        return tuple(user), tuple(token)

    def counts(connection: Connection) -> tuple[int, ...]:
        return tuple(
            connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()  # noqa: S608
            for table in ("users", "items", "refresh_tokens")
        )

    _inspect(empty_database_url, seed)
    command.upgrade(config, "head")

    assert _inspect(empty_database_url, read) == ((False, False, 0), (True, 0))
    assert _inspect(empty_database_url, counts) == (1, 1, 1)

    command.downgrade(config, "0003")
    assert _inspect(empty_database_url, counts) == (1, 1, 1)
    assert "account_tokens" not in _inspect(empty_database_url, _tables)

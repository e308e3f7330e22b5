"""accounts: verified emails, admins, credentials versions, account tokens, sessions

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

import warnings
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Existing users: not verified, not admins, credentials version 0. A plain ADD COLUMN, not
    # a batch copy: SQLite cannot reflect the expression index on lower(username), so a copy of
    # `users` would lose it.
    op.add_column(
        "users",
        sa.Column("email_verified", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "users", sa.Column("is_admin", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column(
        "users",
        sa.Column("credentials_version", sa.Integer(), nullable=False, server_default="0"),
    )
    # Existing refresh tokens: their login time is unknown; their own issue time is the best
    # bound (it only ever makes a login look fresher than the first token of its family).
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.add_column(sa.Column("authenticated_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("credentials_version", sa.Integer(), nullable=False, server_default="0")
        )
    op.execute("UPDATE refresh_tokens SET authenticated_at = issued_at")
    # On SQLite this copies refresh_tokens; reflecting it reflects `users` (its foreign key's
    # target), whose expression index SQLite cannot reflect. `users` itself is not copied.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        with op.batch_alter_table("refresh_tokens") as batch:
            batch.alter_column(
                "authenticated_at", existing_type=sa.DateTime(timezone=True), nullable=False
            )
    op.create_table(
        "account_tokens",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_account_tokens"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_account_tokens_user_id_users",
            ondelete="CASCADE",
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("uq_account_tokens_token_hash", "account_tokens", ["token_hash"], unique=True)
    op.create_index("ix_account_tokens_user_id_kind", "account_tokens", ["user_id", "kind"])


def downgrade() -> None:
    op.drop_index("ix_account_tokens_user_id_kind", table_name="account_tokens")
    op.drop_index("uq_account_tokens_token_hash", table_name="account_tokens")
    op.drop_table("account_tokens")
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+), not a batch copy: copying `users` would
    # drop the old table, and with foreign keys on, that deletes every item by cascade.
    for table, column in (
        ("refresh_tokens", "credentials_version"),
        ("refresh_tokens", "authenticated_at"),
        ("users", "credentials_version"),
        ("users", "is_admin"),
        ("users", "email_verified"),
    ):
        op.drop_column(table, column)

"""second factor: TOTP enrolments, recovery codes, users.mfa_enabled, refresh_tokens.amr

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-04

(0006 is the events branch's; the two are chained when both land.)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Plain ADD COLUMNs with a server default, not batch copies (see 0005: a copy of `users`
    # would lose its expression index on SQLite). Existing users have no second factor;
    # existing sessions logged in with a password.
    op.add_column(
        "users", sa.Column("mfa_enabled", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column(
        "refresh_tokens",
        sa.Column("amr", sa.String(32), nullable=False, server_default="pwd"),
    )
    op.create_table(
        "user_mfa",
        sa.Column("user_id", Id, nullable=False),
        sa.Column("secret_ciphertext", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("last_step", sa.BigInteger(), nullable=False, server_default="-1"),
        sa.Column("generation", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name="pk_user_mfa"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_user_mfa_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "mfa_recovery_codes",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_mfa_recovery_codes"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_mfa_recovery_codes_user_id_users",
            ondelete="CASCADE",
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "uq_mfa_recovery_codes_code_hash", "mfa_recovery_codes", ["code_hash"], unique=True
    )
    op.create_index("ix_mfa_recovery_codes_user_id", "mfa_recovery_codes", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_mfa_recovery_codes_user_id", table_name="mfa_recovery_codes")
    op.drop_index("uq_mfa_recovery_codes_code_hash", table_name="mfa_recovery_codes")
    op.drop_table("mfa_recovery_codes")
    op.drop_table("user_mfa")
    # Plain DROP COLUMN (SQLite 3.35+), as 0005's downgrade does.
    op.drop_column("refresh_tokens", "amr")
    op.drop_column("users", "mfa_enabled")

"""outbox destinations and ordering keys: events to the broker beside emails

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every existing row is an email. Plain ADD COLUMNs (no table copy on SQLite).
    op.add_column(
        "outbox",
        sa.Column("destination", sa.String(16), nullable=False, server_default="email"),
    )
    op.add_column("outbox", sa.Column("ordering_key", sa.String(64), nullable=True))
    op.drop_index("ix_outbox_status_available_at", table_name="outbox")
    op.create_index(
        "ix_outbox_destination_status_available_at",
        "outbox",
        ["destination", "status", "available_at"],
    )
    op.create_index("ix_outbox_ordering_key_id", "outbox", ["ordering_key", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_ordering_key_id", table_name="outbox")
    op.drop_index("ix_outbox_destination_status_available_at", table_name="outbox")
    op.create_index("ix_outbox_status_available_at", "outbox", ["status", "available_at"])
    # Events have no meaning for an older code base: they go with the columns.
    op.execute("DELETE FROM outbox WHERE destination <> 'email'")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("ordering_key")
        batch.drop_column("destination")

"""outbox: no index on available_at (a lease can be HOT); the event lag from a partial index

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

A claim leases a row by moving its ``available_at``. ``ix_outbox_destination_status_available_at``
indexed that column, so every lease wrote a new entry into each of the outbox's five indexes
(decision 0058). Its readers are served by the partial indexes: the claim by the pending rows'
(0008), the pending count too, the event lag (the oldest undelivered ``created_at`` of a
destination) by a new partial index on ``(destination, created_at)`` of the undelivered rows,
whose columns a lease never changes. A lease (and a retry's new time) is then a heap-only tuple
update when its page has room: no index entry at all.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNDELIVERED = sa.text("status <> 'delivered'")


def upgrade() -> None:
    op.create_index(
        "ix_outbox_undelivered_destination_created_at",
        "outbox",
        ["destination", "created_at"],
        postgresql_where=UNDELIVERED,
        sqlite_where=UNDELIVERED,
    )
    op.drop_index("ix_outbox_destination_status_available_at", table_name="outbox")


def downgrade() -> None:
    op.create_index(
        "ix_outbox_destination_status_available_at",
        "outbox",
        ["destination", "status", "available_at"],
    )
    op.drop_index("ix_outbox_undelivered_destination_created_at", table_name="outbox")

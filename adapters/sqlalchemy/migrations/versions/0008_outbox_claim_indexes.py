"""outbox claim indexes: partial indexes on the pending and the undelivered rows

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

The events claim walked the delivered rows twice (docs/decisions/0052): its scan of due rows in
id order went through every delivered row before the first pending one, and its "no earlier
undelivered row of the key" probe read every delivered row of the key, once per pending row
(one user with 30,000 delivered and 3,000 pending rows: 24 s per claim). Both indexes hold only
the rows the claim looks for; the full (ordering_key, id) index is replaced by its partial form.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNDELIVERED = sa.text("status <> 'delivered'")
PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.drop_index("ix_outbox_ordering_key_id", table_name="outbox")
    op.create_index(
        "ix_outbox_undelivered_ordering_key_id",
        "outbox",
        ["ordering_key", "id"],
        postgresql_where=UNDELIVERED,
        sqlite_where=UNDELIVERED,
    )
    op.create_index(
        "ix_outbox_pending_destination_id",
        "outbox",
        ["destination", "id"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_pending_destination_id", table_name="outbox")
    op.drop_index("ix_outbox_undelivered_ordering_key_id", table_name="outbox")
    op.create_index("ix_outbox_ordering_key_id", "outbox", ["ordering_key", "id"])

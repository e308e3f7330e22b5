"""email keys: NFKC + case folding, internationalised domains in ASCII

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

Upgrade: every user's ``email`` gets its domain in ASCII (IDNA) form, and ``email_key`` is
recomputed as NFKC_Casefold of that, so look-alike addresses (``paypal@example.com`` with a
fullwidth ``p``, and the plain one) become one key. Rows whose new keys collide are two accounts
that are now the same address: the migration changes nothing and fails, naming the ids of each
group, so an operator decides which account keeps the address (README, "Look-alike email
addresses") and runs it again.

Downgrade: ``email_key`` is ``lower(email)`` again (the rule before this revision); the domains
stay in their ASCII form, which the older code reads like any other address.

The rules are written out here rather than imported, so this revision keeps doing what it did
when the application's rules change later.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Callable, Sequence

import idna
import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_users = sa.table(
    "users", sa.column("id", sa.Integer()), sa.column("email"), sa.column("email_key")
)


def _ascii_domain(email: str) -> str:
    local, at, domain = email.rpartition("@")
    if not at or domain.isascii():
        return email
    try:
        ascii_domain = idna.encode(domain, uts46=True, transitional=False).decode("ascii")
    except idna.IDNAError:
        return email  # not a valid IDN: kept as stored, compared by its key alone
    return f"{local}@{ascii_domain.lower()}"


def _key(email: str) -> str:
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", email).casefold())


def _rows() -> list[tuple[int, str, str]]:
    query = sa.select(_users.c.id, _users.c.email, _users.c.email_key).order_by(_users.c.id)
    return [(row.id, row.email, row.email_key) for row in op.get_bind().execute(query)]


def _rewrite(change: Callable[[int, str, str], tuple[str, str]]) -> None:
    """Apply ``change(id, email, key) -> (email, key)`` to every row that it changes, with the
    unique index dropped meanwhile (two rows may swap keys on the way)."""
    updates = []
    for user_id, email, key in _rows():
        new_email, new_key = change(user_id, email, key)
        if (new_email, new_key) != (email, key):
            updates.append({"user_id": user_id, "new_email": new_email, "new_key": new_key})
    if not updates:
        return
    op.drop_index("uq_users_email_key", table_name="users")
    op.get_bind().execute(
        _users.update()
        .where(_users.c.id == sa.bindparam("user_id"))
        .values(email=sa.bindparam("new_email"), email_key=sa.bindparam("new_key")),
        updates,
    )
    op.create_index("uq_users_email_key", "users", ["email_key"], unique=True)


def upgrade() -> None:
    groups: dict[str, list[int]] = defaultdict(list)
    for user_id, email, _ in _rows():
        groups[_key(_ascii_domain(email))].append(user_id)
    collisions = [ids for ids in groups.values() if len(ids) > 1]
    if collisions:
        listed = "; ".join("users " + ", ".join(str(i) for i in ids) for ids in collisions)
        raise CommandError(
            f"{len(collisions)} group(s) of accounts have email addresses that are now the same "
            f"address (NFKC + case folding, IDNA domains): {listed}. Nothing was changed. Keep "
            "one account of each group at that address (change the others' email or delete "
            "them; README: 'Look-alike email addresses'), then migrate again."
        )
    _rewrite(lambda _id, email, _key_: (_ascii_domain(email), _key(_ascii_domain(email))))


def downgrade() -> None:
    _rewrite(lambda _id, email, _key_: (email, email.lower()))

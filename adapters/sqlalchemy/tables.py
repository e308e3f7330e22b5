"""The schema as SQLAlchemy Core tables. Alembic owns it in the database; this module mirrors it,
and tests/integration/test_migrations.py checks that the two agree."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
    func,
    true,
)

from domain.item import DESCRIPTION_MAX_LENGTH, TITLE_MAX_LENGTH
from domain.user import EMAIL_MAX_LENGTH, USERNAME_MAX_LENGTH

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# BIGINT on PostgreSQL; SQLite only auto-assigns ids to a column declared exactly INTEGER.
# Ids are never reused (AUTOINCREMENT on SQLite, a sequence on PostgreSQL): a deleted item's URL
# never comes to mean another item, and a keyset cursor never has new rows appear behind it.
Id = BigInteger().with_variant(Integer(), "sqlite")

users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("email", String(EMAIL_MAX_LENGTH), nullable=False),
    # domain.user.email_key(email), computed in Python: SQLite's lower() folds ASCII only,
    # PostgreSQL's depends on the collation, and the in-memory twin must agree with both.
    Column("email_key", String(EMAIL_MAX_LENGTH), nullable=False),
    Column("username", String(USERNAME_MAX_LENGTH), nullable=False),
    Column("hashed_password", String(255), nullable=False),
    Column("is_active", Boolean(), nullable=False, server_default=true()),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("email_verified", Boolean(), nullable=False, server_default=false()),
    Column("is_admin", Boolean(), nullable=False, server_default=false()),
    # domain.user.User.credentials_version: bumped when credentials change; tokens of an older
    # version are refused.
    Column("credentials_version", Integer(), nullable=False, server_default="0"),
    # The second factor is on (domain.user.User.mfa_enabled); its secret lives in user_mfa.
    Column("mfa_enabled", Boolean(), nullable=False, server_default=false()),
    sqlite_autoincrement=True,
)
# Case-insensitive uniqueness: the database, not a prior SELECT, decides a race. Usernames are
# ASCII by their pattern, so lower() means the same everywhere.
Index("uq_users_email_key", users.c.email_key, unique=True)
Index("uq_users_username_lower", func.lower(users.c.username), unique=True)

items = Table(
    "items",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("title", String(TITLE_MAX_LENGTH), nullable=False),
    Column("description", String(DESCRIPTION_MAX_LENGTH), nullable=True),
    Column(
        "owner_id",
        Id,
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("created_at", DateTime(timezone=True), nullable=False),
    sqlite_autoincrement=True,
)
# A user's keyset page (WHERE owner_id = ? AND id > ? ORDER BY id) is one index range scan.
Index("ix_items_owner_id_id", items.c.owner_id, items.c.id)

# Refresh tokens: only the SHA-256 of each token (hex) is stored. A family is every token
# descended from one login; reuse of a spent token revokes the family.
refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False),
    Column("family_id", String(32), nullable=False),
    Column(
        "user_id",
        Id,
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("spent_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    # When the login that began this family happened (the access tokens' auth_time claim: a
    # refresh never makes a login fresh), and the user's credentials version at that login.
    Column("authenticated_at", DateTime(timezone=True), nullable=False),
    Column("credentials_version", Integer(), nullable=False, server_default="0"),
    # How that login authenticated (RFC 8176 `amr`, space-separated): refreshes keep it.
    Column("amr", String(32), nullable=False, server_default="pwd"),
    sqlite_autoincrement=True,
)
Index("uq_refresh_tokens_token_hash", refresh_tokens.c.token_hash, unique=True)
Index("ix_refresh_tokens_family_id", refresh_tokens.c.family_id)
Index("ix_refresh_tokens_user_id", refresh_tokens.c.user_id)

# Email-verification and password-reset tokens: only the SHA-256 of each (hex). `used_at` is set
# by a conditional UPDATE, so a token is used once however many requests race with it.
account_tokens = Table(
    "account_tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column(
        "user_id",
        Id,
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("token_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=True),
    sqlite_autoincrement=True,
)
Index("uq_account_tokens_token_hash", account_tokens.c.token_hash, unique=True)
Index("ix_account_tokens_user_id_kind", account_tokens.c.user_id, account_tokens.c.kind)

# The transactional outbox: CreateUser records events here in its own transaction; the worker
# (`users-items worker`) delivers them. `available_at` is both the retry backoff and a claim's
# lease: a worker that dies mid-delivery lets its claims become available again.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("payload", JSON(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer(), nullable=False),
    Column("available_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Column("last_error", Text(), nullable=True),
    # One row per destination (docs/decisions/0043): 'email' (the notifier) or 'events' (the
    # broker), each claimed by its own loop.
    Column("destination", String(16), nullable=False, server_default="email"),
    # Rows of one key go out in id order (events: the user id); NULL: no order.
    Column("ordering_key", String(64), nullable=True),
    sqlite_autoincrement=True,
)
Index("uq_outbox_event_id", outbox.c.event_id, unique=True)
# The undelivered rows of a key, in id order: the claim's probe "is an earlier row of this key
# undelivered?" (one per key of its window), and, past a full window, its grouped pass SELECT
# min(id) ... GROUP BY ordering_key. Partial: it never reads a delivered row (docs/decisions/0052,
# 0057, 0058).
_UNDELIVERED = outbox.c.status != "delivered"
_PENDING = outbox.c.status == "pending"


def _partial_index(name: str, where: Any, *columns: Any) -> Index:
    """An index of the outbox rows ``where`` holds, on both databases."""
    return Index(name, *columns, postgresql_where=where, sqlite_where=where)


_partial_index(
    "ix_outbox_undelivered_ordering_key_id", _UNDELIVERED, outbox.c.ordering_key, outbox.c.id
)
# The event lag (/metrics): the oldest created_at of a destination's undelivered rows. No index
# holds available_at, the column a claim's lease moves, so that a lease can be a heap-only (HOT)
# update, with no new index entry (migration 0009, docs/decisions/0058).
_partial_index(
    "ix_outbox_undelivered_destination_created_at",
    _UNDELIVERED,
    outbox.c.destination,
    outbox.c.created_at,
)
# The claim's scan of due rows in id order (ORDER BY id LIMIT n): pending rows only, so it never
# walks through the delivered ones kept until pruning.
_partial_index("ix_outbox_pending_destination_id", _PENDING, outbox.c.destination, outbox.c.id)

# The second factor (TOTP, RFC 6238): one row per user who started an enrolment. The secret is
# stored only encrypted (Fernet, MFA_ENCRYPTION_KEY); `last_step` is the newest time step whose
# code was accepted (a code is accepted once: an UPDATE ... WHERE last_step < :step decides);
# `generation` counts completed second-factor logins (an mfa_token names the generation it
# was issued at, so it dies with the first code accepted).
user_mfa = Table(
    "user_mfa",
    metadata,
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("secret_ciphertext", Text(), nullable=False),
    Column("enabled", Boolean(), nullable=False, server_default=false()),
    Column("last_step", BigInteger(), nullable=False, server_default="-1"),
    Column("generation", Integer(), nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("enabled_at", DateTime(timezone=True), nullable=True),
)

# Recovery codes: only a SHA-256 of each (hex, keyed by the user id), single use.
mfa_recovery_codes = Table(
    "mfa_recovery_codes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=True),
    sqlite_autoincrement=True,
)
Index("uq_mfa_recovery_codes_code_hash", mfa_recovery_codes.c.code_hash, unique=True)
Index("ix_mfa_recovery_codes_user_id", mfa_recovery_codes.c.user_id)

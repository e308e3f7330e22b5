"""Translate driver failures into application errors, so nothing above sees SQLAlchemy."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from application.errors import UserAlreadyExists

# What the driver's message names -> the request field it protects (see tables.py).
_UNIQUE_FIELDS = {
    "email_key": "email",  # "uq_users_email_key" (asyncpg), "users.email_key" (SQLite)
    "uq_users_username_lower": "username",  # an expression index: both name the index
}


def is_foreign_key_violation(error: IntegrityError) -> bool:
    """asyncpg's SQLSTATE 23503; SQLite says 'FOREIGN KEY constraint failed'."""
    return getattr(error.orig, "sqlstate", None) == "23503" or "FOREIGN KEY" in str(error.orig)


def translate_integrity_error(error: IntegrityError) -> Exception:
    """The application error a unique-index violation means, or the error itself if unknown.

    asyncpg names the violated index ('violates unique constraint "uq_..."'); SQLite names the
    column of a plain unique index ('UNIQUE constraint failed: users.email_key') and the index of
    an expression index ('... failed: index 'uq_users_username_lower''). Either is all we need.
    """
    message = str(error.orig)
    fields = tuple(field for index, field in _UNIQUE_FIELDS.items() if index in message)
    if fields:
        return UserAlreadyExists(fields)
    return error

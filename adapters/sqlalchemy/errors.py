"""Translate driver failures into application errors, so nothing above sees SQLAlchemy."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from application.errors import UserAlreadyExists

# Unique index name -> the request field it protects. The index names are those in tables.py.
_UNIQUE_FIELDS = {
    "uq_users_email_key": "email",
    "uq_users_username_lower": "username",
}


def translate_integrity_error(error: IntegrityError) -> Exception:
    """The application error a unique-index violation means, or the error itself if unknown.

    Both drivers name the violated index in the message (asyncpg: 'violates unique constraint
    "uq_..."'; SQLite: 'UNIQUE constraint failed: index 'uq_...''), which is all we need.
    """
    message = str(error.orig)
    fields = tuple(field for index, field in _UNIQUE_FIELDS.items() if index in message)
    if fields:
        return UserAlreadyExists(fields)
    return error

"""The user entity and the rules of its fields."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

USERNAME_PATTERN = r"^[A-Za-z0-9_.-]{3,32}$"
USERNAME_MIN_LENGTH = 3
USERNAME_MAX_LENGTH = 32
PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128
EMAIL_MAX_LENGTH = 254


def email_key(email: str) -> str:
    """What makes two email addresses the same account: equal after Unicode NFKC normalisation
    and case folding (NFKC_Casefold: NFKC, casefold, NFKC again), so ``ADA@example.com``
    written in fullwidth letters is ``ada@example.com``. Every repository compares and indexes
    emails by this.

    Stored addresses have an ASCII local part and their domain in ASCII (IDNA) form (the HTTP
    schemas see to that); a login that names an internationalised domain is given its ASCII
    form before it is looked up, so both sides meet here in the same form."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", email).casefold())


@dataclass(frozen=True, slots=True)
class NewUser:
    """A user about to be stored: everything but the id the store assigns."""

    email: str
    username: str
    hashed_password: str
    created_at: datetime
    is_active: bool = True
    is_admin: bool = False
    email_verified: bool = False


@dataclass(frozen=True, slots=True)
class User:
    """A stored user."""

    id: int
    email: str
    username: str
    hashed_password: str
    is_active: bool
    created_at: datetime
    email_verified: bool = False
    is_admin: bool = False
    # Bumped whenever credentials change (password change or reset, log out everywhere,
    # deactivation): access and refresh tokens carry the version they were issued under, and
    # one that is older is refused. A counter, not a timestamp, so that credentials issued
    # within the same second as the change still work.
    credentials_version: int = 0
    # The second factor (TOTP) is on: logging in needs a code after the password, and a fresh
    # login (step-up) is one that passed both. Kept by the second factor's repository.
    mfa_enabled: bool = False

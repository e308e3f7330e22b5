"""Builders of the account collaborators the use cases share, for tests at every level."""

from __future__ import annotations

from adapters.zxcvbn_passwords import ZxcvbnCommonPasswords
from application.account_emails import AccountEmails
from application.clock import Clock, utc_now
from application.create_user import CreateUser
from application.password_policy import PasswordPolicy
from application.ports import PasswordHasher, UnitOfWork

VERIFICATION_TTL_SECONDS = 48 * 3600
RESET_TTL_SECONDS = 3600

_COMMON_PASSWORDS = ZxcvbnCommonPasswords()  # loaded once per test run, on first use


def password_policy() -> PasswordPolicy:
    """The production policy, over zxcvbn's list."""
    return PasswordPolicy(_COMMON_PASSWORDS)


def account_emails(clock: Clock = utc_now) -> AccountEmails:
    return AccountEmails(
        verification_ttl_seconds=VERIFICATION_TTL_SECONDS,
        reset_ttl_seconds=RESET_TTL_SECONDS,
        clock=clock,
    )


def create_user(uow: UnitOfWork, hasher: PasswordHasher, clock: Clock = utc_now) -> CreateUser:
    return CreateUser(uow, hasher, password_policy(), account_emails(clock))

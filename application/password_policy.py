"""The rule every new password meets: signup, change, reset and the ``create-user`` command.

8-128 characters, not one of the most common passwords (the list is a port: the adapter takes
it from zxcvbn, docs/decisions/0039), and not containing the username or the email's local
part, both compared case-insensitively. A local part shorter than the shortest username (3) is
not checked: refusing every password that holds the letter "a" protects nobody.
"""

from __future__ import annotations

from typing import ClassVar

from application.errors import ApplicationError, PasswordRejected
from application.ports.common_passwords import CommonPasswords
from domain.user import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, USERNAME_MIN_LENGTH


class PasswordPolicy:
    raises: ClassVar[tuple[type[ApplicationError], ...]] = (PasswordRejected,)

    def __init__(self, common_passwords: CommonPasswords) -> None:
        self._common = common_passwords

    def check(self, password: str, *, username: str, email: str, field: str = "password") -> None:
        """Raise ``PasswordRejected`` (naming ``field`` and why) unless the password is allowed
        for an account with this username and email."""
        reason = self._reason(password, username=username, email=email)
        if reason is not None:
            raise PasswordRejected(field, reason)

    def _reason(self, password: str, *, username: str, email: str) -> str | None:
        if len(password) < PASSWORD_MIN_LENGTH:
            return f"must be at least {PASSWORD_MIN_LENGTH} characters long"
        if len(password) > PASSWORD_MAX_LENGTH:
            return f"must be at most {PASSWORD_MAX_LENGTH} characters long"
        folded = password.casefold()
        if password in self._common:
            return "is one of the 10,000 most common passwords; choose a less guessable one"
        if username and username.casefold() in folded:
            return "must not contain the username"
        local_part = email.rpartition("@")[0]
        if len(local_part) >= USERNAME_MIN_LENGTH and local_part.casefold() in folded:
            return "must not contain the email address (its part before the @)"
        return None

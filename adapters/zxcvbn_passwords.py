"""The most common passwords, from the frequency list that zxcvbn ships (docs/decisions/0039).

zxcvbn's ``passwords`` list is ranked (most common first) and lower-case; its first 10,000 are
the list the password policy refuses. Loaded once, on first use, into a set.
"""

from __future__ import annotations

from functools import cached_property

COMMON_PASSWORD_COUNT = 10_000


class ZxcvbnCommonPasswords:
    def __init__(self, count: int = COMMON_PASSWORD_COUNT) -> None:
        self._count = count

    @cached_property
    def _passwords(self) -> frozenset[str]:
        # ~1 MB of lists: imported on first use. No stubs needed for one dict of lists.
        from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]

        ranked: list[str] = FREQUENCY_LISTS["passwords"]
        return frozenset(password.casefold() for password in ranked[: self._count])

    def __contains__(self, password: str) -> bool:
        return password.casefold() in self._passwords

    def __len__(self) -> int:
        return len(self._passwords)

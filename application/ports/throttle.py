"""Throttle port: named limits, each counting attempts per key in a moving window.

A use case *reserves* one unit of every count that applies before it does the work the limit
protects (verifying a password, sending an email), so N simultaneous attempts get at most the
limit's worth of work done: the reservation is the atomic step, there is no separate "check".

One call per use: a login reserves ``(LOGIN_PER_ACCOUNT_AND_ADDRESS, "user:7|192.0.2.1")``,
``(LOGIN_PER_ADDRESS, "192.0.2.1")`` and ``(LOGIN_PER_ACCOUNT, "user:7")``
(application/login_attempts.py); a password-reset request would reserve a count per email
address and one per client address, a verification resend one per user. Each limit's amount
and window are settings, given to the adapter by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Limit:
    """A named limit. ``counts`` says what it counts, for the 429's detail ("failed logins for
    this account from this address")."""

    name: str
    counts: str


@dataclass(frozen=True, slots=True)
class Count:
    """One limit's count for one key (an account, a client address, an email address...)."""

    limit: Limit
    key: str


class Throttle(Protocol):
    async def reserve(self, *counts: Count) -> None:
        """Take one unit of each count, each taken atomically (no two callers get the last
        unit). Raise ``Throttled`` (with the seconds until a unit frees up) when any count is
        spent; a count already spent is seen before anything is taken, so list the counts from
        the most specific to the widest. ``ThrottleUnavailable`` when the counts' store fails:
        callers fail closed."""
        ...

    async def release(self, count: Count) -> None:
        """Forget every unit taken from this count (e.g. a successful login gives back the
        failures of its account-and-address pair)."""
        ...

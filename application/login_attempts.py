"""Failed logins, counted by the throttle: the one place that says how a password check is paid
for, for logging in and for any other check of an account's password.

Three counts, each reserved *before* the password is verified (the reservation is atomic, so N
simultaneous guesses check at most the limit's worth of passwords):

- per (account, client address) pair: the small limit (5 per 15 minutes). Guessing from one
  address locks only that address out of that account; the owner elsewhere is not affected.
- per client address, across accounts: credential stuffing from one address.
- per account, across addresses: a much higher ceiling against guessing spread over many
  addresses (OWASP Authentication Cheat Sheet: a per-account limit alone lets anyone lock anyone
  out; none at all lets a botnet guess freely).

A successful check gives back its pair's count (its own reservation and that pair's earlier
failures: whoever succeeded knows the password). The per-address and per-account counts keep
the unit: the throttle cannot give back one unit of a moving window, and clearing those counts
would let an attacker with an account of their own wipe their address's count.

An IPv6 client is counted by its /64 network: one host usually holds a whole /64, so counting
single addresses would give it 2**64 of them.
"""

from __future__ import annotations

import ipaddress

from application.ports import Count, Limit, Throttle
from domain.user import User, email_key

LOGIN_PER_ACCOUNT_AND_ADDRESS = Limit(
    "login-account-address", "failed logins for this account from this address"
)
LOGIN_PER_ADDRESS = Limit("login-address", "failed logins from this address")
LOGIN_PER_ACCOUNT = Limit("login-account", "failed logins for this account")
LOGIN_LIMITS = (LOGIN_PER_ACCOUNT_AND_ADDRESS, LOGIN_PER_ADDRESS, LOGIN_PER_ACCOUNT)

_IPV6_NETWORK_PREFIX = 64


def user_account_key(user_id: int) -> str:
    """The account key of an existing user: what a login and a current-password check of that
    account both count against."""
    return f"user:{user_id}"


def account_key(user: User | None, login: str) -> str:
    """The account a login names: its id when it exists (so its username and its email share
    one count), else the normalised login (so unknown names are throttled exactly like known
    ones, and a 429 says nothing about existence)."""
    return user_account_key(user.id) if user is not None else f"login:{email_key(login)}"


def address_key(address: str) -> str:
    """The client address as counted: IPv4 as is, IPv6 by its /64 network."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address  # not an IP (a test client's name): counted as given
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, _IPV6_NETWORK_PREFIX), strict=False))
    return str(ip)


class LoginAttempt:
    """One reserved password check. A failure needs nothing more (the reservation counts it);
    call ``succeeded`` when the password was right."""

    def __init__(self, throttle: Throttle, pair: Count) -> None:
        self._throttle = throttle
        self._pair = pair

    async def succeeded(self) -> None:
        await self._throttle.release(self._pair)


class LoginAttempts:
    def __init__(self, throttle: Throttle) -> None:
        self._throttle = throttle

    async def begin(self, account: str, address: str | None) -> LoginAttempt:
        """Reserve a password check of ``account`` from ``address`` (None when unknown), or
        raise ``Throttled`` (429) / ``ThrottleUnavailable`` (503) with no hashing done."""
        client = address_key(address) if address is not None else None
        pair = Count(LOGIN_PER_ACCOUNT_AND_ADDRESS, f"{account}|{client or 'unknown'}")
        counts = [pair]
        if client is not None:
            counts.append(Count(LOGIN_PER_ADDRESS, client))
        counts.append(Count(LOGIN_PER_ACCOUNT, account))
        await self._throttle.reserve(*counts)
        return LoginAttempt(self._throttle, pair)

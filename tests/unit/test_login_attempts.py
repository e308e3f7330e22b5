"""LoginAttempts: what each password check counts, and under which keys."""

from __future__ import annotations

import pytest

from adapters.memory import InMemoryDatabase
from application.login_attempts import (
    LOGIN_PER_ACCOUNT,
    LOGIN_PER_ACCOUNT_AND_ADDRESS,
    LOGIN_PER_ADDRESS,
    LoginAttempts,
    account_key,
    address_key,
)
from application.ports import Count
from tests.unit.support import add_user


class RecordingThrottle:
    def __init__(self) -> None:
        self.reserved: list[tuple[Count, ...]] = []
        self.released: list[Count] = []

    async def reserve(self, *counts: Count) -> None:
        self.reserved.append(counts)

    async def release(self, count: Count) -> None:
        self.released.append(count)


async def test_a_check_counts_the_pair_the_address_and_the_account() -> None:
    throttle = RecordingThrottle()

    attempt = await LoginAttempts(throttle).begin("user:7", "192.0.2.1")

    assert throttle.reserved == [
        (
            Count(LOGIN_PER_ACCOUNT_AND_ADDRESS, "user:7|192.0.2.1"),
            Count(LOGIN_PER_ADDRESS, "192.0.2.1"),
            Count(LOGIN_PER_ACCOUNT, "user:7"),
        )
    ]
    await attempt.succeeded()
    assert throttle.released == [Count(LOGIN_PER_ACCOUNT_AND_ADDRESS, "user:7|192.0.2.1")]


async def test_an_unknown_address_counts_no_address_of_its_own() -> None:
    throttle = RecordingThrottle()

    await LoginAttempts(throttle).begin("user:7", None)

    assert throttle.reserved == [
        (
            Count(LOGIN_PER_ACCOUNT_AND_ADDRESS, "user:7|unknown"),
            Count(LOGIN_PER_ACCOUNT, "user:7"),
        )
    ]


async def test_an_existing_account_is_counted_by_its_id_an_unknown_one_by_its_login(
    db: InMemoryDatabase,
) -> None:
    ada = await add_user(db, "ada")
    grace = await add_user(db, "grace")

    assert account_key(ada, "ada") == account_key(ada, "ada@example.com") == f"user:{ada.id}"
    assert account_key(grace, "grace") != account_key(ada, "ada")
    assert account_key(None, "Nobody@Example.COM") == "login:nobody@example.com"


@pytest.mark.parametrize(
    ("address", "counted_as"),
    [
        ("192.0.2.1", "192.0.2.1"),
        ("::ffff:192.0.2.1", "192.0.2.1"),  # IPv4 seen through an IPv6 socket: the same client
        ("2001:db8::1", "2001:db8::/64"),
        ("2001:db8::ffff:1", "2001:db8::/64"),  # one host holds its whole /64
        ("2001:db8:0:1::1", "2001:db8:0:1::/64"),
        ("testclient", "testclient"),  # not an IP: as given
    ],
)
def test_addresses_are_counted_ipv4_as_is_and_ipv6_by_its_64(address: str, counted_as: str) -> None:
    assert address_key(address) == counted_as

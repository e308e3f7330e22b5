"""AuthenticateUser's defences: throttling before hashing, rehash on login, refresh tokens."""

from __future__ import annotations

import asyncio

import pytest
from argon2 import extract_parameters

from adapters.argon2_hasher import DEFAULT_PARAMETERS, Argon2PasswordHasher
from adapters.jwt_tokens import JwtTokenService
from adapters.limits_throttle import LimitsThrottle
from adapters.memory import InMemoryDatabase, InMemoryUnitOfWork
from application.authenticate_user import AuthenticateUser, AuthenticateUserCommand
from application.errors import InvalidCredentials, Throttled
from application.token_pairs import hash_refresh_token
from tests.unit.support import (
    MAX_FAILURES_PER_ACCOUNT,
    MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS,
    MAX_FAILURES_PER_ADDRESS,
    add_user,
    make_challenges,
    make_issuer,
    make_throttle,
    stored_user,
)

PASSWORD = "correct horse"
WRONG = "wrong horse"


class CountingHasher:
    """The real hasher, counting the argon2 operations it is asked for."""

    def __init__(self, hasher: Argon2PasswordHasher) -> None:
        self._hasher = hasher
        self.operations = 0

    async def hash(self, password: str) -> str:
        self.operations += 1
        return await self._hasher.hash(password)

    async def verify(self, hashed_password: str, password: str) -> bool:
        self.operations += 1
        return await self._hasher.verify(hashed_password, password)

    def needs_rehash(self, hashed_password: str) -> bool:
        return self._hasher.needs_rehash(hashed_password)

    async def verify_dummy(self, password: str) -> None:
        self.operations += 1
        await self._hasher.verify_dummy(password)


@pytest.fixture
def throttle() -> LimitsThrottle:
    return make_throttle()


@pytest.fixture
def counting(hasher: Argon2PasswordHasher) -> CountingHasher:
    return CountingHasher(hasher)


@pytest.fixture
def authenticate(
    db: InMemoryDatabase,
    counting: CountingHasher,
    tokens: JwtTokenService,
    throttle: LimitsThrottle,
) -> AuthenticateUser:
    return AuthenticateUser(
        InMemoryUnitOfWork(db), counting, make_issuer(tokens), throttle, make_challenges()
    )


async def add_ada(db: InMemoryDatabase, hasher: Argon2PasswordHasher) -> int:
    return (await add_user(db, "ada", hashed_password=await hasher.hash(PASSWORD))).id


def attempt(
    login: str, password: str, address: str | None = "192.0.2.1"
) -> AuthenticateUserCommand:
    return AuthenticateUserCommand(login=login, password=password, client_address=address)


@pytest.mark.parametrize("login", ["ada", "nobody"])
async def test_past_the_pair_limit_logins_are_throttled_before_any_hashing(
    db: InMemoryDatabase,
    hasher: Argon2PasswordHasher,
    counting: CountingHasher,
    authenticate: AuthenticateUser,
    login: str,
) -> None:
    await add_ada(db, hasher)
    for _ in range(MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS):
        with pytest.raises(InvalidCredentials):
            await authenticate.execute(attempt(login, WRONG))
    hashed_so_far = counting.operations

    with pytest.raises(Throttled) as throttled:
        await authenticate.execute(attempt(login, PASSWORD))  # even the right password

    assert 1 <= throttled.value.retry_after_seconds <= 900
    assert counting.operations == hashed_so_far


async def test_username_and_email_share_one_count(
    db: InMemoryDatabase, hasher: Argon2PasswordHasher, authenticate: AuthenticateUser
) -> None:
    await add_ada(db, hasher)
    for index in range(MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS):
        login = "ada" if index % 2 else "ADA@example.com"
        with pytest.raises(InvalidCredentials):
            await authenticate.execute(attempt(login, WRONG))

    with pytest.raises(Throttled):
        await authenticate.execute(attempt("ada@example.com", PASSWORD))


async def test_a_success_clears_its_pair_count(
    db: InMemoryDatabase, hasher: Argon2PasswordHasher, authenticate: AuthenticateUser
) -> None:
    await add_ada(db, hasher)  # no client address here: only the account count is at work
    for _ in range(MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS - 1):
        with pytest.raises(InvalidCredentials):
            await authenticate.execute(attempt("ada", WRONG, None))
    await authenticate.execute(attempt("ada", PASSWORD, None))

    for _ in range(MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS):
        with pytest.raises(InvalidCredentials):
            await authenticate.execute(attempt("ada", WRONG, None))
    with pytest.raises(Throttled):
        await authenticate.execute(attempt("ada", WRONG, None))


async def test_one_address_is_throttled_across_accounts(
    db: InMemoryDatabase, hasher: Argon2PasswordHasher, authenticate: AuthenticateUser
) -> None:
    await add_ada(db, hasher)
    for index in range(MAX_FAILURES_PER_ADDRESS):
        with pytest.raises(InvalidCredentials):
            await authenticate.execute(attempt(f"user{index}", WRONG, "198.51.100.7"))

    with pytest.raises(Throttled):
        await authenticate.execute(attempt("ada", PASSWORD, "198.51.100.7"))
    # Another address is not affected.
    assert await authenticate.execute(attempt("ada", PASSWORD, "198.51.100.8"))


async def test_a_login_stores_a_refresh_token_hash(
    db: InMemoryDatabase, hasher: Argon2PasswordHasher, authenticate: AuthenticateUser
) -> None:
    ada_id = await add_ada(db, hasher)

    pair = await authenticate.execute(attempt("ada", PASSWORD))

    stored = db.state.refresh_tokens[hash_refresh_token(pair.refresh_token)]
    assert stored.user_id == ada_id
    assert stored.spent_at is None
    assert stored.revoked_at is None


async def test_a_hash_with_old_parameters_is_upgraded_on_login(
    db: InMemoryDatabase, tokens: JwtTokenService
) -> None:
    weak = Argon2PasswordHasher(time_cost=1, memory_cost_kib=1024, parallelism=1)
    current = Argon2PasswordHasher()  # the defaults: RFC 9106 low-memory
    try:
        ada = await add_user(db, "ada", hashed_password=await weak.hash(PASSWORD))
        authenticate = AuthenticateUser(
            InMemoryUnitOfWork(db), current, make_issuer(tokens), make_throttle(), make_challenges()
        )

        await authenticate.execute(attempt("ada", PASSWORD))

        stored = await stored_user(db, ada.id)
        assert stored is not None
        parameters = extract_parameters(stored.hashed_password)
        assert parameters.time_cost == DEFAULT_PARAMETERS.time_cost
        assert parameters.memory_cost == DEFAULT_PARAMETERS.memory_cost
        assert parameters.parallelism == DEFAULT_PARAMETERS.parallelism
        assert await current.verify(stored.hashed_password, PASSWORD)
        # Logging in again finds nothing to upgrade.
        assert not current.needs_rehash(stored.hashed_password)
    finally:
        weak.close()
        current.close()


async def test_a_wrong_password_leaves_an_old_hash_alone(
    db: InMemoryDatabase, hasher: Argon2PasswordHasher, tokens: JwtTokenService
) -> None:
    weak = Argon2PasswordHasher(time_cost=1, memory_cost_kib=512, parallelism=1)
    try:
        old_hash = await weak.hash(PASSWORD)
        ada = await add_user(db, "ada", hashed_password=old_hash)
        authenticate = AuthenticateUser(
            InMemoryUnitOfWork(db), hasher, make_issuer(tokens), make_throttle(), make_challenges()
        )

        with pytest.raises(InvalidCredentials):
            await authenticate.execute(attempt("ada", WRONG))

        stored = await stored_user(db, ada.id)
        assert stored is not None
        assert stored.hashed_password == old_hash
    finally:
        weak.close()


async def test_failures_from_one_address_never_lock_the_owner_out_elsewhere(
    db: InMemoryDatabase, hasher: Argon2PasswordHasher, authenticate: AuthenticateUser
) -> None:
    await add_ada(db, hasher)
    outcomes = []
    for _ in range(30):
        try:
            await authenticate.execute(attempt("ada", WRONG, "203.0.113.66"))
            outcomes.append("ok")
        except InvalidCredentials:
            outcomes.append("401")
        except Throttled:
            outcomes.append("429")
    assert outcomes.count("401") == MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS
    assert outcomes.count("429") == 30 - MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS

    assert await authenticate.execute(attempt("ada", PASSWORD, "198.51.100.20"))
    with pytest.raises(Throttled):  # the guessing address stays shut out of this account
        await authenticate.execute(attempt("ada", PASSWORD, "203.0.113.66"))


async def test_guessing_spread_over_many_addresses_meets_the_account_ceiling(
    db: InMemoryDatabase, hasher: Argon2PasswordHasher, authenticate: AuthenticateUser
) -> None:
    await add_ada(db, hasher)
    for index in range(MAX_FAILURES_PER_ACCOUNT):  # 3 from each of 4 addresses
        with pytest.raises(InvalidCredentials):
            await authenticate.execute(attempt("ada", WRONG, f"192.0.2.{index // 3}"))

    with pytest.raises(Throttled) as throttled:
        await authenticate.execute(attempt("ada", PASSWORD, "198.51.100.99"))
    assert throttled.value.counts == "failed logins for this account"


async def test_an_ipv6_client_is_counted_by_its_64_network(
    db: InMemoryDatabase, hasher: Argon2PasswordHasher, authenticate: AuthenticateUser
) -> None:
    await add_ada(db, hasher)
    for index in range(MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS):
        with pytest.raises(InvalidCredentials):
            await authenticate.execute(attempt("ada", WRONG, f"2001:db8:1:2::{index + 1:x}"))

    with pytest.raises(Throttled):
        await authenticate.execute(attempt("ada", PASSWORD, "2001:db8:1:2:ffff::1"))
    assert await authenticate.execute(attempt("ada", PASSWORD, "2001:db8:1:3::1"))


async def test_simultaneous_guesses_check_at_most_the_limits_worth_of_passwords(
    db: InMemoryDatabase,
    hasher: Argon2PasswordHasher,
    counting: CountingHasher,
    authenticate: AuthenticateUser,
) -> None:
    await add_ada(db, hasher)
    before = counting.operations

    results = await asyncio.gather(
        *(authenticate.execute(attempt("ada", WRONG)) for _ in range(200)),
        return_exceptions=True,
    )

    kinds = [type(result).__name__ for result in results]
    assert kinds.count("InvalidCredentials") == MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS
    assert kinds.count("Throttled") == 200 - MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS
    assert counting.operations - before == MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS

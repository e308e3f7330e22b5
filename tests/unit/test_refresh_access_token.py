"""RefreshAccessToken and LogOut: rotation, reuse detection, expiry, logout."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from adapters.jwt_tokens import JwtTokenService
from adapters.memory import InMemoryDatabase, InMemoryUnitOfWork
from application.errors import InvalidRefreshToken
from application.log_out import LogOut
from application.refresh_access_token import RefreshAccessToken
from application.token_pairs import TokenPair, TokenPairIssuer, hash_refresh_token
from domain.user import User
from tests.unit.support import REFRESH_TTL_SECONDS, add_user, make_issuer


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def issuer(tokens: JwtTokenService, clock: Clock) -> TokenPairIssuer:
    return make_issuer(tokens, clock)


@pytest.fixture
def refresh(db: InMemoryDatabase, issuer: TokenPairIssuer) -> RefreshAccessToken:
    return RefreshAccessToken(InMemoryUnitOfWork(db), issuer)


@pytest.fixture
def log_out(db: InMemoryDatabase, clock: Clock) -> LogOut:
    return LogOut(InMemoryUnitOfWork(db), clock)


async def log_in(db: InMemoryDatabase, issuer: TokenPairIssuer, user: User) -> TokenPair:
    async with InMemoryUnitOfWork(db) as uow:
        pair = await issuer.issue(uow, user)
        await uow.commit()
    return pair


async def test_a_refresh_token_is_256_random_bits_stored_only_as_a_hash(
    db: InMemoryDatabase, issuer: TokenPairIssuer
) -> None:
    ada = await add_user(db)
    first, second = await log_in(db, issuer, ada), await log_in(db, issuer, ada)

    assert len(first.refresh_token) >= 43  # base64 of 32 bytes
    assert first.refresh_token != second.refresh_token
    stored_hashes = set(db.state.refresh_tokens)
    assert stored_hashes == {hash_refresh_token(p.refresh_token) for p in (first, second)}
    assert first.refresh_token not in str(db.state.refresh_tokens)


async def test_a_refresh_rotates_the_pair_within_the_family(
    db: InMemoryDatabase,
    issuer: TokenPairIssuer,
    refresh: RefreshAccessToken,
    tokens: JwtTokenService,
) -> None:
    ada = await add_user(db)
    login = await log_in(db, issuer, ada)

    renewed = await refresh.execute(login.refresh_token)

    assert tokens.verify(renewed.access_token).user_id == ada.id
    assert renewed.refresh_token != login.refresh_token
    old = db.state.refresh_tokens[hash_refresh_token(login.refresh_token)]
    new = db.state.refresh_tokens[hash_refresh_token(renewed.refresh_token)]
    assert old.spent_at is not None
    assert new.family_id == old.family_id
    assert new.spent_at is None
    assert (await refresh.execute(renewed.refresh_token)).refresh_token


async def test_reusing_a_spent_token_revokes_the_whole_family(
    db: InMemoryDatabase, issuer: TokenPairIssuer, refresh: RefreshAccessToken
) -> None:
    ada = await add_user(db)
    stolen = await log_in(db, issuer, ada)
    other_login = await log_in(db, issuer, ada)
    renewed = await refresh.execute(stolen.refresh_token)

    with pytest.raises(InvalidRefreshToken):
        await refresh.execute(stolen.refresh_token)

    with pytest.raises(InvalidRefreshToken):  # the descendant dies with its family
        await refresh.execute(renewed.refresh_token)
    assert await refresh.execute(other_login.refresh_token)  # another login is untouched


async def test_an_expired_token_is_refused(
    db: InMemoryDatabase, issuer: TokenPairIssuer, refresh: RefreshAccessToken, clock: Clock
) -> None:
    ada = await add_user(db)
    login = await log_in(db, issuer, ada)
    clock.now += timedelta(seconds=REFRESH_TTL_SECONDS)

    with pytest.raises(InvalidRefreshToken):
        await refresh.execute(login.refresh_token)


async def test_a_token_just_before_expiry_is_accepted(
    db: InMemoryDatabase, issuer: TokenPairIssuer, refresh: RefreshAccessToken, clock: Clock
) -> None:
    ada = await add_user(db)
    login = await log_in(db, issuer, ada)
    clock.now += timedelta(seconds=REFRESH_TTL_SECONDS - 1)

    assert await refresh.execute(login.refresh_token)


async def test_an_unknown_token_is_refused(refresh: RefreshAccessToken) -> None:
    with pytest.raises(InvalidRefreshToken):
        await refresh.execute("not-a-token-we-issued")


async def test_a_deactivated_users_token_is_refused_and_revoked(
    db: InMemoryDatabase, issuer: TokenPairIssuer, refresh: RefreshAccessToken
) -> None:
    cyd = await add_user(db, "cyd")
    login = await log_in(db, issuer, cyd)
    db.state.users[cyd.id] = replace(cyd, is_active=False)

    with pytest.raises(InvalidRefreshToken):
        await refresh.execute(login.refresh_token)
    assert db.state.refresh_tokens[hash_refresh_token(login.refresh_token)].revoked_at is not None


async def test_logout_revokes_the_family(
    db: InMemoryDatabase, issuer: TokenPairIssuer, refresh: RefreshAccessToken, log_out: LogOut
) -> None:
    ada = await add_user(db)
    login = await log_in(db, issuer, ada)
    renewed = await refresh.execute(login.refresh_token)

    await log_out.execute(renewed.refresh_token)

    with pytest.raises(InvalidRefreshToken):
        await refresh.execute(renewed.refresh_token)
    with pytest.raises(InvalidRefreshToken):  # a second logout with it is refused
        await log_out.execute(renewed.refresh_token)


@pytest.mark.parametrize("state", ["unknown", "spent", "expired"])
async def test_logout_with_a_dead_token_is_refused(
    db: InMemoryDatabase,
    issuer: TokenPairIssuer,
    refresh: RefreshAccessToken,
    log_out: LogOut,
    clock: Clock,
    state: str,
) -> None:
    ada = await add_user(db)
    login = await log_in(db, issuer, ada)
    token = login.refresh_token
    if state == "unknown":
        token = "never-issued"
    elif state == "spent":
        renewed = await refresh.execute(login.refresh_token)
    else:
        clock.now += timedelta(seconds=REFRESH_TTL_SECONDS)

    with pytest.raises(InvalidRefreshToken):
        await log_out.execute(token)
    if state == "spent":  # reuse at logout revokes the family too
        with pytest.raises(InvalidRefreshToken):
            await refresh.execute(renewed.refresh_token)

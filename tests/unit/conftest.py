"""Fixtures of the use-case tests: an empty in-memory store, a cheap real hasher, real tokens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.argon2_hasher import Argon2PasswordHasher
from adapters.jwt_tokens import JwtTokenService
from adapters.memory import InMemoryDatabase
from tests.conftest import cheap_hasher
from tests.unit.support import make_tokens


@pytest.fixture
def db() -> InMemoryDatabase:
    return InMemoryDatabase()


@pytest.fixture
def hasher() -> Iterator[Argon2PasswordHasher]:
    hasher = cheap_hasher()
    yield hasher
    hasher.close()


@pytest.fixture
def tokens() -> JwtTokenService:
    return make_tokens()

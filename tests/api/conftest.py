"""Accounts most API tests start from: ada and bob, signed up and logged in."""

from __future__ import annotations

import httpx
import pytest

from tests.api.helpers import Account, account


@pytest.fixture
async def ada(client: httpx.AsyncClient) -> Account:
    return await account(client, "ada")


@pytest.fixture
async def bob(client: httpx.AsyncClient) -> Account:
    return await account(client, "bob")

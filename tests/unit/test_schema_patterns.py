"""The patterns the schema publishes agree with what the validators accept: every value of a
pattern is accepted, so a client (or schemathesis) that follows the schema is never refused."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from entrypoints.http.cursors import CURSOR_PATTERN, CursorCodec
from entrypoints.http.routers.items import ItemCreate
from entrypoints.http.schemas import EMAIL_PATTERN, NO_NUL, NOT_BLANK, UserCreate

CHARACTERS = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]


def _title_accepted(title: str) -> bool:
    try:
        ItemCreate(title=title)
    except ValidationError:
        return False
    return True


def test_not_blank_is_exactly_what_the_title_validator_accepts_per_character() -> None:
    pattern = re.compile(NOT_BLANK)
    disagreements = [
        hex(ord(c)) for c in CHARACTERS if bool(pattern.fullmatch(c)) != _title_accepted(c)
    ]
    assert disagreements == []
    assert not pattern.fullmatch(" \u3000\t")
    assert pattern.fullmatch(" a ")


def test_no_nul_refuses_nul_only() -> None:
    pattern = re.compile(NO_NUL)
    assert [c for c in CHARACTERS if not pattern.fullmatch(c)] == ["\x00"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(st.from_regex(EMAIL_PATTERN, fullmatch=True).filter(lambda email: len(email) <= 254))
def test_every_address_of_the_email_pattern_is_accepted(email: str) -> None:
    UserCreate(email=email, username="ada", password="correct horse battery staple")


@pytest.mark.parametrize("special", ["a@b.test", "a@b.LocalHost", "a@x.y.onion", "a@b.arpa"])
def test_the_email_pattern_leaves_out_special_use_domains(special: str) -> None:
    assert not re.fullmatch(EMAIL_PATTERN, special)


@given(st.integers(min_value=0, max_value=2**64 - 1), st.sampled_from(["/items", "/users/1"]))
def test_every_cursor_the_service_issues_matches_the_documented_pattern(
    after_id: int, scope: str
) -> None:
    cursor = CursorCodec("cursor-secret-that-is-at-least-32-bytes").encode(after_id, scope)
    assert re.fullmatch(CURSOR_PATTERN, cursor)

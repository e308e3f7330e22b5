from __future__ import annotations

import base64
import secrets

import pytest

from entrypoints.http.cursors import CursorCodec, InvalidCursor

SECRET = "cursor-secret-that-is-at-least-32-bytes"
SCOPE = "/items"


@pytest.fixture
def codec() -> CursorCodec:
    return CursorCodec(SECRET)


@pytest.mark.parametrize("after_id", [0, 1, 42, 2**63 - 1])
def test_a_cursor_decodes_to_the_id_it_was_made_from(codec: CursorCodec, after_id: int) -> None:
    assert codec.decode(codec.encode(after_id, SCOPE), SCOPE) == after_id


def test_a_cursor_is_url_safe(codec: CursorCodec) -> None:
    cursor = codec.encode(2**63 - 1, SCOPE)

    assert cursor.isascii()
    assert not set(cursor) & set("+/=?&# ")


def test_a_cursor_for_one_scope_is_refused_in_another(codec: CursorCodec) -> None:
    cursor = codec.encode(42, "/users/1/items")

    with pytest.raises(InvalidCursor):
        codec.decode(cursor, "/users/2/items")


def test_a_cursor_from_a_codec_with_another_secret_is_refused(codec: CursorCodec) -> None:
    cursor = CursorCodec("another-secret-that-is-32-bytes-long").encode(42, SCOPE)

    with pytest.raises(InvalidCursor):
        codec.decode(cursor, SCOPE)


def replace_char(cursor: str, index: int) -> str:
    replacement = "A" if cursor[index] != "A" else "B"
    return cursor[:index] + replacement + cursor[index + 1 :]


@pytest.mark.parametrize("index", [0, 5, 10, 20, -1])
def test_a_cursor_with_a_changed_character_is_refused(codec: CursorCodec, index: int) -> None:
    tampered = replace_char(codec.encode(42, SCOPE), index)

    with pytest.raises(InvalidCursor):
        codec.decode(tampered, SCOPE)


@pytest.mark.parametrize("keep", [0, 1, 4, 16, 31])
def test_a_truncated_cursor_is_refused(codec: CursorCodec, keep: int) -> None:
    truncated = codec.encode(42, SCOPE)[:keep]

    with pytest.raises(InvalidCursor):
        codec.decode(truncated, SCOPE)


def test_a_cursor_with_extra_bytes_is_refused(codec: CursorCodec) -> None:
    cursor = codec.encode(42, SCOPE)
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    longer = base64.urlsafe_b64encode(raw + b"\x00").decode().rstrip("=")

    with pytest.raises(InvalidCursor):
        codec.decode(longer, SCOPE)


@pytest.mark.parametrize("size", [8, 24, 32])
def test_random_base64_is_refused(codec: CursorCodec, size: int) -> None:
    random = base64.urlsafe_b64encode(secrets.token_bytes(size)).decode().rstrip("=")

    with pytest.raises(InvalidCursor):
        codec.decode(random, SCOPE)


@pytest.mark.parametrize("cursor", ["", "é", "ü" * 32, "\x00", "====", "not a cursor!"])
def test_malformed_text_is_refused(codec: CursorCodec, cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        codec.decode(cursor, SCOPE)


@pytest.mark.parametrize("junk", ["!", "\n"])
def test_a_valid_cursor_with_characters_outside_the_alphabet_is_refused(
    codec: CursorCodec, junk: str
) -> None:
    cursor = codec.encode(42, SCOPE)
    padded = cursor[:8] + junk + cursor[8:]

    with pytest.raises(InvalidCursor):
        codec.decode(padded, SCOPE)

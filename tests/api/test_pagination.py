"""Keyset pagination on every list endpoint: limit, opaque cursors, stability under inserts."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.helpers import Account, add_item, assert_problem, error_fields, sign_up

LISTS = ["/items", "/users/{ada}/items", "/users"]


async def _get_page(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], **params: Any
) -> dict[str, Any]:
    response = await client.get(url, params=params, headers=headers)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    assert set(page) == {"items", "next_cursor"}
    return page


async def _walk(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    cursor: str | None = None,
    **params: Any,
) -> list[list[int]]:
    """The ids of every page from ``cursor`` on, following next_cursor to the end."""
    pages: list[list[int]] = []
    while True:
        extra = {} if cursor is None else {"cursor": cursor}
        page = await _get_page(client, url, headers, **params, **extra)
        pages.append([row["id"] for row in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
        assert isinstance(cursor, str)
        assert cursor
        assert len(pages) < 200, "next_cursor never ends"


async def _rows(client: httpx.AsyncClient, ada: Account, url: str, count: int) -> list[int]:
    """Make ``count`` rows in the list at ``url`` (ada included when it lists users)."""
    if url == "/users":
        return [ada.id] + [(await sign_up(client, f"user{n:03}"))["id"] for n in range(count - 1)]
    return [(await add_item(client, ada, f"Item {n}"))["id"] for n in range(count)]


@pytest.mark.parametrize("path", LISTS)
async def test_default_limit_is_20_and_cursor_walks_every_row_once(
    client: httpx.AsyncClient, ada: Account, path: str
) -> None:
    url = path.format(ada=ada.id)
    ids = await _rows(client, ada, url, 45)
    pages = await _walk(client, url, ada.headers)
    assert [len(p) for p in pages] == [20, 20, 5]
    assert [i for p in pages for i in p] == sorted(ids)


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(("limit", "sizes"), [(1, [1] * 7), (3, [3, 3, 1]), (7, [7]), (100, [7])])
async def test_limit_sizes_the_pages(
    client: httpx.AsyncClient, ada: Account, path: str, limit: int, sizes: list[int]
) -> None:
    url = path.format(ada=ada.id)
    ids = await _rows(client, ada, url, 7)
    pages = await _walk(client, url, ada.headers, limit=limit)
    assert [len(p) for p in pages] == sizes
    assert [i for p in pages for i in p] == sorted(ids)


async def test_a_full_last_page_has_no_next_cursor(client: httpx.AsyncClient, ada: Account) -> None:
    await _rows(client, ada, "/items", 6)
    pages = await _walk(client, "/items", ada.headers, limit=3)
    assert [len(p) for p in pages] == [3, 3]


async def test_an_empty_list_is_one_empty_page(client: httpx.AsyncClient, ada: Account) -> None:
    page = await _get_page(client, "/items", ada.headers)
    assert page == {"items": [], "next_cursor": None}


@pytest.mark.parametrize("path", ["/items", "/users/{ada}/items"])
async def test_rows_inserted_while_paging_are_neither_skipped_nor_repeated(
    client: httpx.AsyncClient, ada: Account, path: str
) -> None:
    url = path.format(ada=ada.id)
    ids = await _rows(client, ada, url, 10)
    seen: list[int] = []
    cursor = None
    added: list[int] = []
    while True:
        page = await _get_page(
            client, url, ada.headers, limit=3, **({} if cursor is None else {"cursor": cursor})
        )
        seen += [row["id"] for row in page["items"]]
        if len(added) < 4:  # insert behind the walk's position, twice per page for two pages
            added += [(await add_item(client, ada, f"Late {len(added)}"))["id"] for _ in range(2)]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen))
    assert seen == sorted(seen)
    assert seen == ids + added


async def test_users_signing_up_while_paging_appear_once(
    client: httpx.AsyncClient, ada: Account
) -> None:
    ids = await _rows(client, ada, "/users", 5)
    first = await _get_page(client, "/users", ada.headers, limit=2)
    late = (await sign_up(client, "latecomer"))["id"]
    rest = await _walk(client, "/users", ada.headers, limit=2, cursor=first["next_cursor"])
    seen = [u["id"] for u in first["items"]] + [i for p in rest for i in p]
    assert seen == [*ids, late]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("limit", ["0", "-1", "101", "abc", "1.5", "", "99999999999999999999"])
async def test_out_of_range_limit_is_422(
    client: httpx.AsyncClient, ada: Account, path: str, limit: str
) -> None:
    response = await client.get(
        path.format(ada=ada.id), params={"limit": limit}, headers=ada.headers
    )
    assert error_fields(assert_problem(response, 422)) == {"query.limit"}


def _tamper(cursor: str) -> str:
    return ("B" if cursor[0] != "B" else "C") + cursor[1:]


@pytest.mark.parametrize(
    "forge",
    [
        _tamper,
        lambda c: c[:-1] + ("A" if c[-1] != "A" else "B"),
        lambda c: c[:-2],
        lambda c: c + "AAAA",
        lambda c: c[:5] + "!" + c[5:],
        lambda c: c[:5] + " " + c[5:],
        lambda _c: "",
        lambda _c: "garbage",
        lambda _c: "!!!!",
        lambda _c: "é",
        lambda _c: "AAAAAAAAAAE",  # base64 of the bare id 1, no signature
        lambda _c: "A" * 200,
        lambda _c: "%00",
    ],
    ids=["first-char", "last-char", "truncated", "extended", "stray-char", "stray-space",
         "empty", "garbage", "punctuation", "non-ascii", "unsigned-id", "too-long", "nul"],
)  # fmt: skip
@pytest.mark.parametrize("path", LISTS)
async def test_forged_cursor_is_422(
    client: httpx.AsyncClient, ada: Account, path: str, forge: Any
) -> None:
    url = path.format(ada=ada.id)
    await _rows(client, ada, url, 3)
    cursor = (await _get_page(client, url, ada.headers, limit=1))["next_cursor"]
    response = await client.get(url, params={"cursor": forge(cursor)}, headers=ada.headers)
    body = assert_problem(response, 422)
    assert body["errors"][0]["field"] == "query.cursor"


@pytest.mark.parametrize(
    ("issued_on", "used_on"),
    [
        ("/items", "/users/{ada}/items"),
        ("/users/{ada}/items", "/items"),
        ("/users/{ada}/items", "/users/{bob}/items"),
        ("/users", "/items"),
        ("/items", "/users"),
    ],
)
async def test_cursor_only_works_where_it_was_issued(
    client: httpx.AsyncClient, ada: Account, bob: Account, issued_on: str, used_on: str
) -> None:
    for owner in (ada, bob):
        for n in range(3):
            await add_item(client, owner, f"Item {n}")
    source = issued_on.format(ada=ada.id, bob=bob.id)
    cursor = (await _get_page(client, source, ada.headers, limit=1))["next_cursor"]
    assert cursor is not None
    target = used_on.format(ada=ada.id, bob=bob.id)
    response = await client.get(target, params={"cursor": cursor}, headers=ada.headers)
    assert assert_problem(response, 422)["errors"][0]["field"] == "query.cursor"

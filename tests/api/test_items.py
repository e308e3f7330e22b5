"""Items: create, list a user's, read, change and delete."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.contract import BODY, Callers, Operation
from tests.api.helpers import ITEM_FIELDS, RFC3339, Account, add_item, assert_problem, error_fields

OPERATIONS = {
    # An unknown user_id is someone else's: 403, never 404.
    ("post", "/users/{user_id}/items"): Operation(
        "add_item_to_user",
        BODY | {401, 403, 503},
        success=201,
        callers=Callers(other_user=403, owner=201, body={"title": "New"}),
    ),
    ("get", "/users/{user_id}/items"): Operation(
        "list_user_items", {401, 404, 422, 503}, callers=Callers(other_user=200, owner=200)
    ),
    ("get", "/items"): Operation(
        "list_items", {401, 422, 503}, callers=Callers(other_user=200, owner=200)
    ),
    ("get", "/items/{item_id}"): Operation(
        "get_item", {401, 404, 422, 503}, callers=Callers(other_user=200, owner=200)
    ),
    ("patch", "/items/{item_id}"): Operation(
        "update_item",
        BODY | {401, 403, 404, 503},
        callers=Callers(other_user=403, owner=200, body={"title": "Changed"}),
    ),
    ("delete", "/items/{item_id}"): Operation(
        "delete_item",
        {401, 403, 404, 422, 503},
        success=204,
        callers=Callers(other_user=403, owner=204),
    ),
}


@pytest.mark.parametrize(
    ("body", "description"),
    [
        ({"title": "Bike"}, None),
        ({"title": "Bike", "description": None}, None),
        ({"title": "Bike", "description": "Blue, 21 gears"}, "Blue, 21 gears"),
        ({"title": "Bike", "description": ""}, ""),
    ],
    ids=["no-description", "null-description", "description", "empty-description"],
)
async def test_create_item(
    client: httpx.AsyncClient, ada: Account, body: dict[str, Any], description: str | None
) -> None:
    response = await client.post(f"/users/{ada.id}/items", json=body, headers=ada.headers)
    assert response.status_code == 201, response.text
    item = response.json()
    assert set(item) == ITEM_FIELDS
    assert isinstance(item["id"], int)
    assert item["id"] >= 1
    assert (item["title"], item["description"], item["owner_id"]) == ("Bike", description, ada.id)
    assert RFC3339.match(item["created_at"]), item["created_at"]
    assert response.headers["location"] == f"/items/{item['id']}"
    fetched = await client.get(response.headers["location"], headers=ada.headers)
    assert fetched.status_code == 200
    assert fetched.json() == item


@pytest.mark.parametrize("title", ["a", "x" * 200, "  padded  ", "Ünïcode ☃", "😀" * 200])
async def test_boundary_titles_are_accepted(
    client: httpx.AsyncClient, ada: Account, title: str
) -> None:
    item = await add_item(client, ada, title, description="é" * 2000)
    stored = (await client.get(f"/items/{item['id']}", headers=ada.headers)).json()
    assert stored["title"] == item["title"] == title
    assert stored["description"] == item["description"] == "é" * 2000


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body.title"),
        ({"title": ""}, "body.title"),
        ({"title": "   "}, "body.title"),
        ({"title": "\t\n "}, "body.title"),
        ({"title": None}, "body.title"),
        ({"title": "x" * 201}, "body.title"),
        ({"title": "Bike", "description": "d" * 2001}, "body.description"),
    ],
    ids=["missing", "empty", "blank", "whitespace", "null", "201-chars", "description-2001"],
)
async def test_invalid_item_is_422(
    client: httpx.AsyncClient, ada: Account, body: dict[str, Any], field: str
) -> None:
    response = await client.post(f"/users/{ada.id}/items", json=body, headers=ada.headers)
    assert field in error_fields(assert_problem(response, 422))
    assert (await client.get("/items", headers=ada.headers)).json()["items"] == []


async def test_list_a_users_items(client: httpx.AsyncClient, ada: Account, bob: Account) -> None:
    first = await add_item(client, ada, "One")
    await add_item(client, bob, "Bob's")
    second = await add_item(client, ada, "Two")
    response = await client.get(f"/users/{ada.id}/items", headers=bob.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"items": [first, second], "next_cursor": None}
    every = await client.get("/items", headers=ada.headers)
    assert [i["title"] for i in every.json()["items"]] == ["One", "Bob's", "Two"]


async def test_a_user_without_items_has_an_empty_page(
    client: httpx.AsyncClient, ada: Account, bob: Account
) -> None:
    await add_item(client, ada)
    response = await client.get(f"/users/{bob.id}/items", headers=ada.headers)
    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}


async def test_items_of_an_unknown_user_is_404(client: httpx.AsyncClient, ada: Account) -> None:
    assert_problem(await client.get(f"/users/{ada.id + 1000}/items", headers=ada.headers), 404)


async def test_unknown_item_is_404_everywhere(client: httpx.AsyncClient, ada: Account) -> None:
    item = await add_item(client, ada)
    missing = f"/items/{item['id'] + 1000}"
    assert_problem(await client.get(missing, headers=ada.headers), 404)
    assert_problem(await client.patch(missing, json={"title": "X"}, headers=ada.headers), 404)
    assert_problem(await client.delete(missing, headers=ada.headers), 404)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"title": "Red bike"}, {"title": "Red bike", "description": "Blue"}),
        ({"description": "Red"}, {"title": "Bike", "description": "Red"}),
        ({"description": None}, {"title": "Bike", "description": None}),
        ({"title": "Trike", "description": ""}, {"title": "Trike", "description": ""}),
        ({}, {"title": "Bike", "description": "Blue"}),
        ({"title": "Bike", "description": "Blue"}, {"title": "Bike", "description": "Blue"}),
    ],
    ids=["title", "description", "clear-description", "both", "empty", "same"],
)
async def test_patch_item(
    client: httpx.AsyncClient,
    ada: Account,
    changes: dict[str, Any],
    expected: dict[str, Any],
) -> None:
    item = await add_item(client, ada, "Bike", description="Blue")
    response = await client.patch(f"/items/{item['id']}", json=changes, headers=ada.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {**item, **expected}
    stored = await client.get(f"/items/{item['id']}", headers=ada.headers)
    assert stored.json() == {**item, **expected}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": None}, "body.title"),
        ({"title": ""}, "body.title"),
        ({"title": "  "}, "body.title"),
        ({"title": "x" * 201}, "body.title"),
        ({"description": "d" * 2001}, "body.description"),
        ({"owner_id": 2}, "body.owner_id"),
        ({"title": "Ok", "colour": "red"}, "body.colour"),
    ],
    ids=["null-title", "empty-title", "blank-title", "long-title", "long-description",
         "owner_id", "unknown-field"],
)  # fmt: skip
async def test_invalid_patch_is_422_and_changes_nothing(
    client: httpx.AsyncClient, ada: Account, changes: dict[str, Any], field: str
) -> None:
    item = await add_item(client, ada, "Bike", description="Blue")
    response = await client.patch(f"/items/{item['id']}", json=changes, headers=ada.headers)
    assert field in error_fields(assert_problem(response, 422))
    assert (await client.get(f"/items/{item['id']}", headers=ada.headers)).json() == item


async def test_delete_item(client: httpx.AsyncClient, ada: Account) -> None:
    item = await add_item(client, ada)
    kept = await add_item(client, ada, "Kept")
    response = await client.delete(f"/items/{item['id']}", headers=ada.headers)
    assert response.status_code == 204
    assert response.content == b""
    assert_problem(await client.get(f"/items/{item['id']}", headers=ada.headers), 404)
    assert_problem(await client.delete(f"/items/{item['id']}", headers=ada.headers), 404)
    assert (await client.get("/items", headers=ada.headers)).json()["items"] == [kept]


async def test_ids_of_deleted_items_are_not_reused(client: httpx.AsyncClient, ada: Account) -> None:
    first = await add_item(client, ada)
    await client.delete(f"/items/{first['id']}", headers=ada.headers)
    second = await add_item(client, ada)
    assert second["id"] > first["id"]

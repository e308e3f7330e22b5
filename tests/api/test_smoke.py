from __future__ import annotations

import httpx

from tests.api.helpers import account


async def test_signup_login_add_and_list_an_item(client: httpx.AsyncClient) -> None:
    ada = await account(client, "ada")
    created = await client.post(f"/users/{ada.id}/items", json={"title": "Bike"}, headers=ada.headers)
    assert created.status_code == 201
    assert created.headers["location"] == f"/items/{created.json()['id']}"
    page = await client.get("/items", headers=ada.headers)
    assert [i["title"] for i in page.json()["items"]] == ["Bike"]

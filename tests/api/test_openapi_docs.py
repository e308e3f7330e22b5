"""The OpenAPI schema as documentation: examples, tags, stable operation ids; and /docs, /redoc
served from files inside the service."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.api.contract import HTTP_METHODS, declared_operations

# The operations keep the ids their API tests declare: generated clients name their methods
# after them.
OPERATION_IDS = {key: op.operation_id for key, op in declared_operations().items()}
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


@pytest.fixture
async def schema(client: httpx.AsyncClient) -> dict[str, Any]:
    body: dict[str, Any] = (await client.get("/openapi.json")).json()
    return body


def _operations(schema: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    }


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in node:
        resolved: dict[str, Any] = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
        return resolved
    return node


def test_operation_ids_are_stable_snake_case_names(schema: dict[str, Any]) -> None:
    operations = _operations(schema)
    assert set(OPERATION_IDS) <= set(operations)
    for key, operation_id in OPERATION_IDS.items():
        assert operations[key]["operationId"] == operation_id, key
    for key, operation in operations.items():
        assert SNAKE_CASE.match(operation["operationId"]), key


def test_every_request_body_has_a_complete_example(schema: dict[str, Any]) -> None:
    checked = 0
    for key, operation in _operations(schema).items():
        for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
            body_schema = _resolve(schema, content["schema"])
            examples = body_schema.get("examples") or list(content.get("examples", {}).values())
            assert examples, (key, media_type)
            for example in examples:
                assert set(body_schema.get("required", [])) <= set(example), (key, example)
                assert set(example) <= set(body_schema["properties"]), (key, example)
            checked += 1
    assert checked >= 4  # signup, login, add item, update item


def test_every_operation_has_a_declared_tag(schema: dict[str, Any]) -> None:
    declared = {tag["name"] for tag in schema["tags"]}
    assert all(tag.get("description") for tag in schema["tags"])
    for key, operation in _operations(schema).items():
        assert operation.get("tags"), key
        assert set(operation["tags"]) <= declared, key


@pytest.mark.parametrize(
    ("page", "assets"),
    [
        ("/docs", ["swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"]),
        ("/redoc", ["redoc.standalone.js", "favicon.png"]),
    ],
)
async def test_the_docs_pages_load_their_assets_from_the_service(
    client: httpx.AsyncClient, page: str, assets: list[str]
) -> None:
    response = await client.get(page)

    assert response.status_code == 200
    assert "/openapi.json" in response.text
    external = re.findall(r"""(?:src|href)=["']?(https?:)?//""", response.text)
    assert external == []  # no CDN, no web fonts
    for asset in assets:
        assert f"/docs/assets/{asset}" in response.text
        served = await client.get(f"/docs/assets/{asset}")
        assert served.status_code == 200, asset
        assert len(served.content) > 1000

"""/openapi.json: OpenAPI 3.1, every contract operation, every error as problem+json."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from entrypoints.container import Container
from entrypoints.http.app import ROUTERS, create_app

PROBLEM_JSON = "application/problem+json"
# method, path -> the error statuses the contract lists for it (429 and refresh/logout come later)
CONTRACT: dict[tuple[str, str], set[int]] = {
    ("post", "/auth/token"): {401, 422},
    ("post", "/users"): {409, 422},
    ("get", "/users"): {401, 422},
    ("get", "/users/me"): {401},
    ("get", "/users/{user_id}"): {401, 404},
    ("post", "/users/{user_id}/items"): {401, 403, 422},
    ("get", "/users/{user_id}/items"): {401, 404, 422},
    ("get", "/items"): {401, 422},
    ("get", "/items/{item_id}"): {401, 404},
    ("patch", "/items/{item_id}"): {401, 403, 404, 422},
    ("delete", "/items/{item_id}"): {401, 403, 404},
    ("get", "/health/live"): set(),
    ("get", "/health/ready"): {503},
}
SUCCESS = {
    ("post", "/users"): "201",
    ("post", "/users/{user_id}/items"): "201",
    ("delete", "/items/{item_id}"): "204",
}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture
async def schema(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    return body


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


async def test_is_openapi_3_1(schema: dict[str, Any]) -> None:
    assert schema["openapi"].startswith("3.1.")
    assert schema["info"]["title"] == "users-items"


@pytest.mark.parametrize(("method", "path"), CONTRACT)
async def test_documents_every_contract_operation_and_its_errors(
    schema: dict[str, Any], method: str, path: str
) -> None:
    operation = schema["paths"][path][method]
    responses = operation["responses"]
    assert SUCCESS.get((method, path), "200") in responses
    documented = {int(code) for code in responses if code[0] in "45"}
    assert CONTRACT[method, path] <= documented, documented


async def test_every_error_response_is_problem_json(schema: dict[str, Any]) -> None:
    checked = 0
    for method, path, operation in _operations(schema):
        for code, response in operation["responses"].items():
            if code[0] not in "45":
                continue
            content = response.get("content", {})
            assert set(content) == {PROBLEM_JSON}, (method, path, code, content)
            checked += 1
    assert checked >= sum(len(errors) for errors in CONTRACT.values())


async def test_the_problem_schema_has_the_rfc_9457_members(schema: dict[str, Any]) -> None:
    _, _, operation = next(op for op in _operations(schema) if op[:2] == ("post", "/users"))
    ref = operation["responses"]["409"]["content"][PROBLEM_JSON]["schema"]["$ref"]
    problem = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem["properties"])


async def test_operation_ids_are_unique(schema: dict[str, Any]) -> None:
    ids = [operation.get("operationId") for _, _, operation in _operations(schema)]
    assert all(ids)
    assert len(ids) == len(set(ids))


async def test_protected_operations_declare_the_bearer_scheme(schema: dict[str, Any]) -> None:
    public = {("post", "/users"), ("post", "/auth/token"), ("get", "/health/live"),
              ("get", "/health/ready")}  # fmt: skip
    for method, path in CONTRACT:
        secured = bool(schema["paths"][path][method].get("security"))
        assert secured == ((method, path) not in public), (method, path)


async def test_the_login_form_is_documented_as_a_form(schema: dict[str, Any]) -> None:
    body = schema["paths"]["/auth/token"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/x-www-form-urlencoded"}


async def test_a_patch_title_is_optional_but_never_null(schema: dict[str, Any]) -> None:
    update = schema["components"]["schemas"]["ItemUpdate"]
    assert update.get("required", []) == []
    assert update["properties"]["title"]["type"] == "string"
    assert "anyOf" not in update["properties"]["title"]


def test_the_flat_route_table_documents_what_included_routers_would() -> None:
    """The app adds its routers' routes to its own table instead of ``include_router`` (decision
    0030); a router-level option that only ``include_router`` applied would show up here."""
    flat = create_app(Container())
    included = FastAPI(generate_unique_id_function=lambda route: route.name)
    for router in ROUTERS:
        included.include_router(router)

    def schema_of(routes: Sequence[BaseRoute]) -> dict[str, Any]:
        return get_openapi(title="users-items", version="0", routes=routes)

    api_routes = [route for route in flat.routes if isinstance(route, APIRoute)]
    assert schema_of(api_routes) == schema_of(included.routes)

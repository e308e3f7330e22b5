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
from tests.api.contract import HTTP_METHODS, declared_operations
from tests.api.helpers import PASSWORD, Account

PROBLEM_JSON = "application/problem+json"
# Every operation the API tests declare (tests/api/contract.py): the app must serve exactly these,
# each with its success status and, derived by entrypoints/http/openapi.py, exactly its errors.
CONTRACT = declared_operations()


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
    assert str(CONTRACT[method, path].success) in responses
    documented = {int(code) for code in responses if code[0] in "45"}
    assert documented == CONTRACT[method, path].errors | {500}, documented


async def test_serves_exactly_the_operations_the_api_tests_declare(schema: dict[str, Any]) -> None:
    served = {(method, path) for method, path, _ in _operations(schema)}
    assert not served - set(CONTRACT), f"served, declared by no API test: {served - set(CONTRACT)}"
    assert not set(CONTRACT) - served, f"declared, not served: {set(CONTRACT) - served}"


async def test_every_error_response_is_problem_json(schema: dict[str, Any]) -> None:
    checked = 0
    for method, path, operation in _operations(schema):
        for code, response in operation["responses"].items():
            if code[0] not in "45":
                continue
            content = response.get("content", {})
            assert set(content) == {PROBLEM_JSON}, (method, path, code, content)
            checked += 1
    assert checked >= sum(len(operation.errors) for operation in CONTRACT.values())


async def test_the_problem_schema_has_the_rfc_9457_members(schema: dict[str, Any]) -> None:
    _, _, operation = next(op for op in _operations(schema) if op[:2] == ("post", "/users"))
    ref = operation["responses"]["409"]["content"][PROBLEM_JSON]["schema"]["$ref"]
    problem = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem["properties"])


async def test_operation_ids_are_unique(schema: dict[str, Any]) -> None:
    ids = [operation.get("operationId") for _, _, operation in _operations(schema)]
    assert all(ids)
    assert len(ids) == len(set(ids))


async def test_the_login_form_is_documented_as_a_form(schema: dict[str, Any]) -> None:
    body = schema["paths"]["/auth/token"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/x-www-form-urlencoded", "multipart/form-data"}
    assert body["multipart/form-data"] == body["application/x-www-form-urlencoded"]


async def test_a_multipart_login_works_as_documented(
    client: httpx.AsyncClient, ada: Account
) -> None:
    response = await client.post(
        "/auth/token", files={"username": (None, "ada"), "password": (None, PASSWORD)}
    )
    assert response.status_code == 200, response.text


def _headers(schema: dict[str, Any], method: str, path: str, status: str) -> dict[str, Any]:
    headers: dict[str, Any] = schema["paths"][path][method]["responses"][status].get("headers", {})
    return headers


async def test_each_status_documents_the_headers_it_carries(schema: dict[str, Any]) -> None:
    checked = 0
    for method, path, operation in _operations(schema):
        for status in operation["responses"]:
            headers = _headers(schema, method, path, status)
            expected = {"201": "Location", "401": "WWW-Authenticate", "429": "Retry-After"}
            if status in expected:
                assert headers[expected[status]]["required"] is True, (method, path, status)
                checked += 1
            if status == "503" and path != "/health/ready":
                assert headers["Retry-After"]["required"] is True, (method, path)
                checked += 1
    declared = sum(
        (operation.success == 201)
        + (401 in operation.errors)
        + (429 in operation.errors)
        + (503 in operation.errors and path != "/health/ready")
        for (_, path), operation in CONTRACT.items()
    )
    assert checked == declared


async def test_problem_type_is_required_and_422_lists_at_most_20_errors(
    schema: dict[str, Any],
) -> None:
    schemas = schema["components"]["schemas"]
    for name in ("Problem", "ProblemWithErrors", "UnexpectedProblem", "ReadinessProblem"):
        assert set(schemas[name]["required"]) >= {"type", "title", "status", "detail"}, name
    assert schemas["ProblemWithErrors"]["properties"]["errors"]["maxItems"] == 20
    assert "HTTPValidationError" not in schemas


async def test_pages_cursors_and_ids_say_their_limits(schema: dict[str, Any]) -> None:
    schemas = schema["components"]["schemas"]
    for page in ("UserPage", "ItemPage"):
        assert schemas[page]["properties"]["items"]["maxItems"] == 100
    cursor = next(
        p for p in schema["paths"]["/items"]["get"]["parameters"] if p["name"] == "cursor"
    )
    assert cursor["schema"]["maxLength"] == 32
    assert "Only a cursor this service issued" in cursor["description"]
    user_id = schema["paths"]["/users/{user_id}"]["get"]["parameters"][0]["schema"]
    assert user_id == {"type": "integer", "format": "int64", "minimum": 1,
                       "maximum": 2**63 - 1, "title": "User Id"}  # fmt: skip


async def test_the_password_flow_names_its_token_and_refresh_urls(schema: dict[str, Any]) -> None:
    flow = schema["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]["password"]
    assert flow["tokenUrl"] == "/auth/token"
    assert flow["refreshUrl"] == "/auth/refresh"


async def test_metrics_documents_its_text_body(schema: dict[str, Any]) -> None:
    content = schema["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    assert content["text/plain"]["schema"]["type"] == "string"


async def test_links_lead_to_operations_that_exist(schema: dict[str, Any]) -> None:
    ids = {operation["operationId"] for _, _, operation in _operations(schema)}
    links = [
        link
        for _, _, operation in _operations(schema)
        for response in operation["responses"].values()
        for link in response.get("links", {}).values()
    ]
    assert len(links) >= 6
    assert {link["operationId"] for link in links} <= ids


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

"""/openapi.json: FastAPI's schema, completed with what each operation can answer.

No route lists its error statuses. Each operation's are derived when the schema is built:

- from the request it takes: a body -> 400, 413, 415 and 422; parameters -> 422;
- from the container providers its dependencies resolve (``provided(Container.x)``, and
  ``current_user``, marked with ``resolves``): every class in each provider's graph that
  declares ``raises`` (the use case, and adapters such as the unit of work, the password hasher
  and the login throttle) contributes the errors it raises;
- each error's status, description, headers and problem schema then come from the one table in
  ``problems.py``; every operation can also answer 500.

So a use case that starts hashing passwords documents 503 + ``Retry-After`` on every route that
uses it, and one that stops raising ``UserNotFound`` stops documenting 404, with no route edited.
405 stays undocumented per operation (it is about the path, not an operation).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dependency_injector import providers
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic.json_schema import models_json_schema

from application.errors import ApplicationError
from entrypoints.http.injection import providers_resolved_by
from entrypoints.http.problems import (
    BODY_PROBLEMS,
    ERROR_STATUSES,
    HEADERS,
    PROBLEM_MODELS,
    UNEXPECTED_PROBLEM,
    VALIDATION_PROBLEM,
    mapping_for_class,
    problem_responses,
)

FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
# FastAPI's default 422 schema, which the problem+json one replaces.
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")

# OpenAPI links: which operations a response's id feeds. Clients and schemathesis's stateful
# phase follow them (a new user's id to their profile and collection, a new item's id to it).
_USER_ID = {"path.user_id": "$response.body#/id"}
_ITEM_ID = {"path.item_id": "$response.body#/id"}
LINKS: dict[tuple[str, str], dict[str, tuple[str, dict[str, str]]]] = {
    ("create_user", "201"): {
        "GetUser": ("get_user", _USER_ID),
        "ListUserItems": ("list_user_items", _USER_ID),
        "AddItemToUser": ("add_item_to_user", _USER_ID),
    },
    ("get_current_user", "200"): {
        "GetUser": ("get_user", _USER_ID),
        "ListUserItems": ("list_user_items", _USER_ID),
        "AddItemToUser": ("add_item_to_user", _USER_ID),
    },
    ("add_item_to_user", "201"): {
        "GetItem": ("get_item", _ITEM_ID),
        "UpdateItem": ("update_item", _ITEM_ID),
        "DeleteItem": ("delete_item", _ITEM_ID),
    },
}


def build_schema(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    for route in app.routes:
        if isinstance(route, APIRoute) and route.include_in_schema:
            for method in route.methods or ():
                _complete(schema["paths"][route.path_format][method.lower()], route)
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    _, problem_schemas = models_json_schema(
        [(model, "serialization") for model in PROBLEM_MODELS],
        ref_template="#/components/schemas/{model}",
    )
    schemas.update(problem_schemas["$defs"])
    schema["components"]["schemas"] = dict(sorted(schemas.items()))
    return schema


def _complete(operation: dict[str, Any], route: APIRoute) -> None:
    responses = operation["responses"]
    responses.pop("422", None)  # FastAPI's own, in its own format
    for status, response in responses.items():
        if status == "201":
            response["headers"] = {"Location": {**HEADERS["Location"], "required": True}}
        if links := LINKS.get((operation["operationId"], status)):
            response["links"] = {
                name: {"operationId": target, "parameters": parameters}
                for name, (target, parameters) in links.items()
            }
    mappings = [*_request_problems(route)]
    mappings += [mapping_for_class(error) for error in errors_raised_behind(route)]
    mappings.append(UNEXPECTED_PROBLEM)
    responses.update(problem_responses(mappings))
    for parameter in operation.get("parameters", []):
        _drop_null(parameter["schema"])
    body = operation.get("requestBody", {}).get("content", {})
    if FORM in body:  # Starlette reads a form from either encoding
        body[MULTIPART] = body[FORM]


def _drop_null(schema: dict[str, Any]) -> None:
    """An optional query parameter is absent or a string, never null (a query has no null):
    FastAPI writes ``str | None`` as ``anyOf: [string, null]``."""
    variants = schema.get("anyOf", [])
    if len(variants) == 2 and {"type": "null"} in variants:
        schema.pop("anyOf")
        schema.update(next(v for v in variants if v != {"type": "null"}))


def _request_problems(route: APIRoute) -> Iterator[Any]:
    if route.body_field is not None:
        yield from BODY_PROBLEMS.values()
    if route.body_field is not None or any(_has_parameters(d) for d in _dependants(route)):
        yield VALIDATION_PROBLEM


def _has_parameters(dependant: Dependant) -> bool:
    return bool(
        dependant.path_params
        or dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
    )


def _dependants(route: APIRoute) -> Iterator[Dependant]:
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        yield dependant
        pending.extend(dependant.dependencies)


def errors_raised_behind(route: APIRoute) -> list[type[ApplicationError]]:
    """Every application error a class behind the route's dependencies declares, in the order of
    the status table (so the schema is stable)."""
    declared: set[type[ApplicationError]] = set()
    for dependant in _dependants(route):
        if dependant.call is None:
            continue
        for provider in providers_resolved_by(dependant.call):
            for node in _graph(provider):
                declared.update(_declared_by(node))
    order = {error: index for index, error in enumerate(ERROR_STATUSES)}
    return sorted(declared, key=lambda error: (order.get(error, len(order)), error.__name__))


def _declared_by(provider: providers.Provider[Any]) -> tuple[type[ApplicationError], ...]:
    # Only what builds an object (a ``provided`` attribute answers any name with a provider).
    if not isinstance(provider, providers.Factory | providers.BaseSingleton):
        return ()
    cls = provider.provides
    return tuple(getattr(cls, "raises", ())) if isinstance(cls, type) else ()


def _graph(root: providers.Provider[Any]) -> Iterator[providers.Provider[Any]]:
    """The provider and every provider it depends on, each once. (``traverse()`` does not end
    on this container: each ``settings.provided.x`` hands out fresh wrapper providers.)"""
    seen: set[int] = set()
    pending = [root]
    while pending:
        provider = pending.pop()
        if id(provider) in seen:
            continue
        seen.add(id(provider))
        yield provider
        pending.extend(provider.related)

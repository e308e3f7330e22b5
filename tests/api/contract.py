"""The operations the API tests cover, declared where they are tested.

Each API test module declares the operations it covers in a module-level ``OPERATIONS``::

    OPERATIONS = {
        ("post", "/users/{user_id}/items"): Operation(
            "add_item_to_user", BODY | {401, 403, 503}, success=201,
            callers=Callers(other_user=403, owner=201, body={"title": "New"}),
        ),
    }

``declared_operations()`` is their union. The schema tests check it against what the app serves
(tests/api/test_openapi.py: the same operations, each with its success status and exactly its
error statuses; test_openapi_docs.py: its id), and the authorization matrix takes its rows from
it (tests/api/test_authorization_matrix.py). So a route no test module declares fails the schema
tests, and a new aggregate's routes are declared in its own test module, not in lists here.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping, Set
from dataclasses import dataclass
from functools import cache
from typing import Any

import tests.api

# What an operation that takes a body can answer for it: malformed, too large, wrong media type,
# invalid.
BODY = frozenset({400, 413, 415, 422})

Key = tuple[str, str]  # method (lower case) and path template, as in the schema
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@dataclass(frozen=True)
class Callers:
    """The authorization matrix's last two columns: what bob's token (another user) and ada's
    (the owner) get when the operation is sent to ada's resources with ``body``."""

    other_user: int
    owner: int
    body: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Operation:
    operation_id: str
    # Every error status the operation can answer, besides 500 (documented everywhere) and 405
    # (about the path, not the operation): what entrypoints/http/openapi.py must derive.
    errors: Set[int]
    success: int = 200
    # What another user and the owner get: required for every operation that needs an access
    # token (test_authorization_matrix.py), None for the public ones.
    callers: Callers | None = None


@cache
def declared_operations() -> Mapping[Key, Operation]:
    """The ``OPERATIONS`` of every module of tests/api, merged; one operation declared by two
    modules is an error. (Modules that call this at import declare no ``OPERATIONS``, so one
    still being imported when this runs has nothing to add.)"""
    declared: dict[Key, Operation] = {}
    where: dict[Key, str] = {}
    for module_info in pkgutil.iter_modules(tests.api.__path__):
        if not module_info.name.startswith("test_"):
            continue
        module = importlib.import_module(f"tests.api.{module_info.name}")
        for key, operation in getattr(module, "OPERATIONS", {}).items():
            if key in declared:
                raise ValueError(f"{key} is declared in {where[key]} and {module_info.name}")
            declared[key] = operation
            where[key] = module_info.name
    return declared

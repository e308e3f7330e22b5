"""The ``raises`` lists the schema is built from are the truth: each class in the container
declares exactly the application errors its own code raises, and each error behind a route has a
status in the table."""

from __future__ import annotations

import ast
import inspect
import sys
from typing import Any

import pytest
from dependency_injector import providers
from fastapi.routing import APIRoute

from application.errors import ApplicationError
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.http.openapi import errors_raised_behind
from entrypoints.http.problems import mapping_for_class

# Raises NotAuthenticated in verify(), which only GetCurrentUser calls; GetCurrentUser declares
# it. Declaring it here would document a 401 "bad access token" on login and refresh, which
# only issue tokens.
UNDECLARED = {"JwtTokenService", "JwtMfaChallenges"}
# JwtMfaChallenges raises InvalidMfaToken in read(), which only CompleteMfaLogin calls (and
# declares); declared here it would document "bad mfa_token" on the password login.


def _provided_classes() -> list[type[Any]]:
    classes = []
    for provider in Container.providers.values():
        if isinstance(provider, providers.Factory | providers.BaseSingleton):
            cls = provider.provides
            if isinstance(cls, type) and cls.__module__.split(".")[0] in {
                "application",
                "adapters",
            }:
                classes.append(cls)
    return classes


def _raised_in_class(cls: type[Any]) -> set[type[ApplicationError]]:
    """Application errors named by a ``raise`` in the class's own code."""
    module = sys.modules[cls.__module__]
    raised: set[type[ApplicationError]] = set()
    for node in ast.walk(ast.parse(inspect.getsource(cls))):
        if isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(target, ast.Name):
                value = getattr(module, target.id, None)
                if isinstance(value, type) and issubclass(value, ApplicationError):
                    raised.add(value)
    return raised


CLASSES = _provided_classes()


def test_the_container_provides_the_use_cases_and_adapters() -> None:
    names = {cls.__name__ for cls in CLASSES}
    assert {"CreateUser", "AuthenticateUser", "SqlAlchemyDatabase", "LimitsThrottle"} <= (names)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_each_class_declares_what_it_raises(cls: type[Any]) -> None:
    raised = _raised_in_class(cls)
    if cls.__name__ in UNDECLARED:
        assert raised, "no longer raises anything: drop it from UNDECLARED"
        return
    assert set(getattr(cls, "raises", ())) == raised


def test_each_error_behind_a_route_has_a_status() -> None:
    routes = [route for route in create_app(Container()).routes if isinstance(route, APIRoute)]
    errors = {error for route in routes for error in errors_raised_behind(route)}
    assert len(errors) >= 10
    for error in errors:
        assert 400 <= mapping_for_class(error).status < 600

"""Container providers as native async FastAPI dependencies (docs/decisions/0026).

``Depends(Provide[Container.x])`` with ``@inject`` hands FastAPI a *synchronous* callable (the
``Provide`` marker), which FastAPI runs in its thread pool on every request: a thread hand-off per
injected use case, before ``@inject`` replaces the value anyway. ``provided(Container.x)`` is an
``async def`` dependency instead: it calls the provider of the app's own container on the event
loop, so overrides (``container.x.override(...)``) still apply and nothing needs wiring.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from dependency_injector import providers
from fastapi import Depends, Request

from entrypoints.container import Container

F = TypeVar("F", bound=Callable[..., Any])

# Dependency function -> the container providers it resolves: what entrypoints/http/openapi.py
# reads to document the errors an operation's use case (and its adapters) can raise.
_RESOLVED: dict[Callable[..., Any], tuple[providers.Provider[Any], ...]] = {}


def _provider_name(provider: providers.Provider[Any]) -> str:
    for name, candidate in Container.providers.items():
        if candidate is provider:
            return str(name)
    raise LookupError(f"{provider!r} is not a provider of {Container.__name__}")


def provided(provider: providers.Provider[Any]) -> Any:
    """``Annotated[GetUser, provided(Container.get_user)]``: the provider's value, per request."""
    name = _provider_name(provider)

    async def resolve(request: Request) -> Any:
        return getattr(request.app.state.container, name)()

    resolve.__name__ = f"provide_{name}"
    _RESOLVED[resolve] = (provider,)
    return Depends(resolve)


def resolves(*resolved: providers.Provider[Any]) -> Callable[[F], F]:
    """Marks a dependency that calls these providers itself (``current_user``), so the schema
    documents what they raise, as it does for ``provided``."""

    def mark(dependency: F) -> F:
        _RESOLVED[dependency] = resolved
        return dependency

    return mark


def providers_resolved_by(dependency: Callable[..., Any]) -> tuple[providers.Provider[Any], ...]:
    return _RESOLVED.get(dependency, ())

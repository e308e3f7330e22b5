"""Container providers as native async FastAPI dependencies (docs/decisions/0026).

``Depends(Provide[Container.x])`` with ``@inject`` hands FastAPI a *synchronous* callable (the
``Provide`` marker), which FastAPI runs in its thread pool on every request: a thread hand-off per
injected use case, before ``@inject`` replaces the value anyway. ``provided(Container.x)`` is an
``async def`` dependency instead: it calls the provider of the app's own container on the event
loop, so overrides (``container.x.override(...)``) still apply and nothing needs wiring.
"""

from __future__ import annotations

from typing import Any

from dependency_injector import providers
from fastapi import Depends, Request

from entrypoints.container import Container


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
    return Depends(resolve)

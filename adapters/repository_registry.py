"""Which class implements each repository port, in one family of adapters (SQL, memory).

A unit of work hands out repositories by their port: ``uow.repository(TagRepository)``. Each
family's unit of work keeps one ``RepositoryRegistry``, and each repository class registers
itself, next to its code, with the family's decorator::

    @sql_repository(TagRepository)
    class SqlAlchemyTagRepository:
        def __init__(self, transaction: SqlTransaction) -> None: ...

mypy checks there that the class implements the port (a missing or mistyped method is an
error on the decorator line).

A decorator runs when its module is imported, and no module imports a repository class: they
are reached through the unit of work. So the adapters of the ports in
``application/ports/tags.py`` live in the family's module of the same name
(``adapters/sqlalchemy/tags.py``, ``adapters/memory/tags.py``), and the first time a port is
asked for, the registry imports that module. A port nobody registered there is a
``LookupError`` naming the module and the decorator, so a forgotten registration fails the
first contract or unit test that writes through it, on memory and on SQLite
(docs/decisions/0041).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Generic, TypeVar, cast

H = TypeVar("H")  # what the family's repositories are built on: a connection, a state
R = TypeVar("R")


class RepositoryRegistry(Generic[H]):
    def __init__(self, *, package: str, decorator: str) -> None:
        self._package = package
        self._decorator = decorator
        self._factories: dict[type[Any], Callable[[H], Any]] = {}

    def implements(self, port: type[R]) -> Callable[[Callable[[H], R]], Callable[[H], R]]:
        """The class decorator: the decorated class is this family's ``port``."""

        def register(factory: Callable[[H], R]) -> Callable[[H], R]:
            if port in self._factories:
                raise ValueError(
                    f"{port.__qualname__} has two implementations in {self._package}: "
                    f"{_name(self._factories[port])} and {_name(factory)}"
                )
            self._factories[port] = factory
            return factory

        return register

    def over(self, on: H) -> Repositories[H]:
        """The repositories of one transaction, over its connection or state."""
        return Repositories(self, on)

    def build(self, port: type[R], on: H) -> R:
        """A new repository implementing ``port`` over ``on``."""
        factory = self._factories.get(port)
        if factory is None:
            module = self._module_for(port)
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as error:
                if error.name != module:
                    raise
            factory = self._factories.get(port)
            if factory is None:
                raise LookupError(
                    f"no repository implements {port.__qualname__}: decorate the class that "
                    f"does, in {module}, with @{self._decorator}({port.__qualname__})"
                )
        return cast(R, factory(on))

    def _module_for(self, port: type[Any]) -> str:
        """Where this family implements ``port``: its module of the port's module's name."""
        return f"{self._package}.{port.__module__.rsplit('.', 1)[-1]}"


class Repositories(Generic[H]):
    """One transaction's repositories, each built on first use and kept until it ends."""

    def __init__(self, registry: RepositoryRegistry[H], on: H) -> None:
        self._registry = registry
        self._on = on
        self._built: dict[type[Any], Any] = {}

    def get(self, port: type[R]) -> R:
        repository = self._built.get(port)
        if repository is None:
            repository = self._built[port] = self._registry.build(port, self._on)
        return cast(R, repository)


def _name(factory: Callable[..., Any]) -> str:
    return str(getattr(factory, "__qualname__", repr(factory)))

"""Which class implements each repository port, in one family of adapters (SQL, memory).

A unit of work hands out repositories by their port: ``uow.repository(TagRepository)``. Each
family's unit of work keeps one ``RepositoryRegistry``, and each repository class registers
itself, next to its code, with the family's decorator::

    @sql_repository(TagRepository)
    class SqlAlchemyTagRepository:
        def __init__(self, connection: AsyncConnection) -> None: ...

mypy checks there that the class implements the port (a missing or mistyped method is an
error on the decorator line). A unit of work asked for a port nobody registered raises
``LookupError`` naming the port and the decorator, so a forgotten registration fails the
first contract or unit test that writes through it, on memory and on SQLite.

A decorator runs when its module is imported, and nothing else imports some repositories
(the outbox's is only ever reached through the unit of work). So the first time a port is
missing, the registry imports every module of its family's package, once: the registrations
are complete whatever the process happened to import before (docs/decisions/0041).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Any, Generic, TypeVar, cast

H = TypeVar("H")  # what the family's repositories are built on: a connection, a state
R = TypeVar("R")


class RepositoryRegistry(Generic[H]):
    def __init__(self, *, package: str, decorator: str) -> None:
        self._package = package
        self._decorator = decorator
        self._factories: dict[type[Any], Callable[[H], Any]] = {}
        self._package_imported = False

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
        if factory is None and not self._package_imported:
            self._import_package()
            factory = self._factories.get(port)
        if factory is None:
            raise LookupError(
                f"no repository in {self._package} implements {port.__qualname__}: decorate "
                f"the class that does with @{self._decorator}({port.__qualname__})"
            )
        return cast(R, factory(on))

    def _import_package(self) -> None:
        package = importlib.import_module(self._package)
        for module in pkgutil.iter_modules(package.__path__):
            if not module.ispkg:
                importlib.import_module(f"{self._package}.{module.name}")
        self._package_imported = True


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

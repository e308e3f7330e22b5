"""The registry behind ``uow.repository(Port)``: one implementation per port and family."""

from __future__ import annotations

from typing import Protocol

import pytest

from adapters.repository_registry import RepositoryRegistry


class CounterRepository(Protocol):
    def count(self) -> int: ...


class ListCounter:
    def __init__(self, rows: list[int]) -> None:
        self._rows = rows

    def count(self) -> int:
        return len(self._rows)


def test_builds_the_registered_class_over_what_it_is_given() -> None:
    registry = RepositoryRegistry[list[int]](package="adapters.memory", decorator="counter")
    registry.implements(CounterRepository)(ListCounter)

    assert registry.build(CounterRepository, [1, 2, 3]).count() == 3
    repositories = registry.over([1])
    assert repositories.get(CounterRepository) is repositories.get(CounterRepository)


def test_a_second_implementation_of_one_port_is_refused_naming_both() -> None:
    registry = RepositoryRegistry[list[int]](package="adapters.memory", decorator="counter")
    registry.implements(CounterRepository)(ListCounter)

    class OtherCounter(ListCounter):
        pass

    with pytest.raises(ValueError, match=r"ListCounter and .*OtherCounter"):
        registry.implements(CounterRepository)(OtherCounter)


def test_a_port_nobody_registered_is_a_lookup_error_naming_package_and_decorator() -> None:
    registry = RepositoryRegistry[list[int]](package="adapters.memory", decorator="counter")

    with pytest.raises(LookupError, match=r"adapters\.memory.*@counter\(CounterRepository\)"):
        registry.build(CounterRepository, [])

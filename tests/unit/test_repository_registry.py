"""The registry behind ``uow.repository(Port)``: one implementation per port and family, found
in the family's module named like the port's."""

from __future__ import annotations

import subprocess
import sys
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


def test_a_port_nobody_registered_is_a_lookup_error_naming_module_and_decorator() -> None:
    registry = RepositoryRegistry[list[int]](package="adapters.memory", decorator="counter")

    with pytest.raises(LookupError) as raised:
        registry.build(CounterRepository, [])

    assert str(raised.value) == (
        "no repository implements CounterRepository: decorate the class that does, in "
        "adapters.memory.test_repository_registry, with @counter(CounterRepository)"
    )


def test_the_first_use_of_a_port_imports_the_familys_module_of_that_name() -> None:
    """Nothing imports adapters/memory/outbox.py but the registry, when Outbox is asked for."""
    script = """
import sys
from adapters.memory.database import InMemoryState
from adapters.memory.unit_of_work import MEMORY_REPOSITORIES
from application.ports.outbox import Outbox
before = "adapters.memory.outbox" in sys.modules
repository = MEMORY_REPOSITORIES.build(Outbox, InMemoryState())
print(before, type(repository).__module__)
"""
    completed = subprocess.run(  # noqa: S603 - this interpreter, our own script
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert completed.stdout.split() == ["False", "adapters.memory.outbox"]

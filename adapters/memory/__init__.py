"""In-memory twins of the unit of work, its repositories and the query ports, for unit tests.

They pass the same contract tests as the SQLAlchemy adapters (tests/contract), so a unit test
written against them says something true about production.
"""

from adapters.memory.database import InMemoryDatabase
from adapters.memory.queries import (
    InMemoryItemQueries,
    InMemorySessionQueries,
    InMemoryUserQueries,
)
from adapters.memory.unit_of_work import InMemoryUnitOfWork

__all__ = [
    "InMemoryDatabase",
    "InMemoryItemQueries",
    "InMemorySessionQueries",
    "InMemoryUnitOfWork",
    "InMemoryUserQueries",
]

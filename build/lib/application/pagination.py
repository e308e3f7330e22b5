"""Keyset pagination: a page is the rows after an id, in ascending id order.

Repositories fetch ``limit + 1`` rows; the extra row only tells that there is a next page, so
no page ever needs a COUNT, and a page costs the same at any depth.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class HasId(Protocol):
    @property
    def id(self) -> int: ...


T = TypeVar("T", bound=HasId)


@dataclass(frozen=True, slots=True)
class PageRequest:
    limit: int = DEFAULT_PAGE_SIZE
    after_id: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be within 1..{MAX_PAGE_SIZE}")

    @property
    def fetch_size(self) -> int:
        """How many rows a repository reads: one more than the page, to learn if more follow."""
        return self.limit + 1


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_after_id: int | None

    @classmethod
    def from_rows(cls, rows: Sequence[T], request: PageRequest) -> Page[T]:
        """Build a page from up to ``request.fetch_size`` rows ordered by ascending id."""
        if len(rows) > request.limit:
            kept = rows[: request.limit]
            return cls(items=kept, next_after_id=kept[-1].id)
        return cls(items=rows, next_after_id=None)

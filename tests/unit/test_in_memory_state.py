"""The in-memory store's generic tables, which a new aggregate's in-memory adapters use."""

from __future__ import annotations

from adapters.memory.database import InMemoryState


def test_a_copy_is_a_transaction_over_the_generic_tables() -> None:
    committed = InMemoryState()
    first = committed.next_id("tags")
    committed.table("tags")[first] = "blue"

    working = committed.copy()
    second = working.next_id("tags")
    working.table("tags")[second] = "green"
    working.table("notes")[1] = "new table"

    assert committed.table("tags") == {first: "blue"}
    assert "notes" not in committed.tables
    assert working.table("tags") == {first: "blue", second: "green"}
    assert (first, second) == (1, 2)
    assert committed.next_id("tags") == 2  # the copy's ids were never committed

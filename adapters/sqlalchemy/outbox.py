"""The outbox as Core statements on the unit of work's connection.

The statements run per message (the insert of every change that records an event or an email,
the relay's records) are built once, at import, with named bind parameters, as in
repositories.py: building a statement and its cache key per call costs more CPU than the round
trip (docs/decisions/0027, 0052)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Integer,
    and_,
    any_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    union_all,
    update,
)

from adapters.sqlalchemy.database import SqlTransaction
from adapters.sqlalchemy.rows import utc
from adapters.sqlalchemy.tables import outbox
from adapters.sqlalchemy.unit_of_work import sql_repository
from application.ports.outbox import (
    NewOutboxMessage,
    Outbox,
    OutboxDestination,
    OutboxMessage,
    OutboxStatus,
)

_COLUMNS = (
    outbox.c.id,
    outbox.c.event_id,
    outbox.c.event_type,
    outbox.c.payload,
    outbox.c.status,
    outbox.c.attempts,
    outbox.c.available_at,
    outbox.c.created_at,
    outbox.c.delivered_at,
    outbox.c.last_error,
    outbox.c.destination,
    outbox.c.ordering_key,
)


_PENDING = OutboxStatus.PENDING.value
_DELIVERED = OutboxStatus.DELIVERED.value
_DEAD = OutboxStatus.DEAD.value
_BY_ID = outbox.c.id == bindparam("message_id")

# A new row's columns, the names of its values (``new_row``).
NEW_ROW_COLUMNS = (
    "event_id",
    "event_type",
    "payload",
    "status",
    "attempts",
    "available_at",
    "created_at",
    "destination",
    "ordering_key",
)
# Named values: run on the driver too (decision 0053), which takes what it was compiled with.
_INSERT = (
    insert(outbox)
    .values({name: bindparam(name) for name in NEW_ROW_COLUMNS})
    .returning(outbox.c.id)
)
_MARK_DELIVERED = (
    update(outbox).where(_BY_ID).values(status=_DELIVERED, delivered_at=bindparam("at"))
)
_MARK_DELIVERED_REPLACING = _MARK_DELIVERED.values(payload=bindparam("new_payload"))
_SCHEDULE_RETRY = (
    update(outbox)
    .where(_BY_ID)
    .values(
        attempts=bindparam("new_attempts"),
        available_at=bindparam("new_available_at"),
        last_error=bindparam("error"),
    )
)
_MARK_DEAD = (
    update(outbox)
    .where(_BY_ID)
    .values(status=_DEAD, attempts=bindparam("new_attempts"), last_error=bindparam("error"))
)
_MARK_DEAD_REPLACING = _MARK_DEAD.values(payload=bindparam("new_payload"))
_REQUEUE = (
    update(outbox)
    .where(_BY_ID, outbox.c.status == _DEAD)
    .values(status=_PENDING, attempts=0, available_at=bindparam("now"))
    .returning(outbox.c.id)
)
_GET = select(*_COLUMNS).where(_BY_ID)

# Many rows by id in one statement. PostgreSQL: ``id = ANY(:ids)``, one array parameter, so one
# prepared statement whatever the count. SQLite: an expanding ``IN``, in chunks under its
# parameter limit.
_IDS_ARRAY = outbox.c.id == any_(bindparam("ids", type_=ARRAY(BigInteger())))
_IDS_IN = outbox.c.id.in_(bindparam("ids", expanding=True))
_IN_CHUNK = 500


def _mark_delivered_many(ids: Any) -> Any:
    return update(outbox).where(ids).values(status=_DELIVERED, delivered_at=bindparam("at"))


def _release_many(ids: Any) -> Any:
    return (
        update(outbox)
        .where(ids, outbox.c.status == _PENDING)
        .values(available_at=bindparam("new_available_at"))
    )


_MARK_DELIVERED_MANY = {
    "array": _mark_delivered_many(_IDS_ARRAY),
    "in": _mark_delivered_many(_IDS_IN),
}
_RELEASE_MANY = {"array": _release_many(_IDS_ARRAY), "in": _release_many(_IDS_IN)}


# The claim, built once. The statuses are SQL literals, not bind parameters: the partial indexes
# (migration 0008: pending rows by destination and id, undelivered rows by key and id) serve it
# only if their predicates follow from the statement's text, whatever plan PostgreSQL picks for
# the prepared statement. A row with an ordering key is a head when no earlier row of its key is
# still undelivered (pending or dead): when it is the first undelivered row of its key.
#
# The heads come from a window: the first ``window`` pending rows of the destination in id order
# (``_WINDOW_PER_HEAD`` times the batch). Every earlier pending row of the destination is in the
# window, so a key's first row there is its head unless an earlier row of the key is dead or of
# another destination: one index probe per key, not per row. The claim's cost is the window's,
# not the outbox's history: grouping every undelivered row of the table at each claim (decision
# 0057), planned on statistics made while a backlog waited, read the whole table (5 ms a claim
# with 40,000 delivered rows, and the relay's PostgreSQL CPU per event doubled; decision 0058).
# Only when the window is full and yields fewer due heads than the batch (one user's long run
# ahead of everyone, or heads leased by another worker) does the claim also take the first
# undelivered row of every key (the grouped pass), so that no key waits behind another's run.
_WINDOW_PER_HEAD = 10


def status_literal(status: OutboxStatus) -> Any:
    """A status as SQL text, not a bind parameter: a partial index (pending, undelivered) serves
    a prepared statement's generic plan only if its predicate follows from the text. The value
    is one of ``OutboxStatus``'s own, never a caller's string."""
    return literal_column(f"'{OutboxStatus(status).value}'")


_IS_PENDING = outbox.c.status == status_literal(OutboxStatus.PENDING)
_DUE_NOW = outbox.c.available_at <= bindparam("now")
_FIRST_PENDING = (
    select(outbox.c.id, outbox.c.ordering_key, outbox.c.available_at)
    .where(outbox.c.destination == bindparam("dest"), _IS_PENDING)
    .order_by(outbox.c.id)
    .limit(bindparam("window", type_=Integer()))
    .subquery("first_pending")
)
_WINDOW = select(
    _FIRST_PENDING.c.id,
    _FIRST_PENDING.c.ordering_key,
    _FIRST_PENDING.c.available_at,
    (
        _FIRST_PENDING.c.id
        == func.min(_FIRST_PENDING.c.id).over(partition_by=_FIRST_PENDING.c.ordering_key)
    ).label("first_of_key"),
).cte("claim_window")
_EARLIER = outbox.alias("earlier")
_NOTHING_EARLIER_UNDELIVERED = ~exists().where(
    _EARLIER.c.ordering_key == _WINDOW.c.ordering_key,
    _EARLIER.c.status != status_literal(OutboxStatus.DELIVERED),
    _EARLIER.c.id < _WINDOW.c.id,
)
_WINDOW_HEADS = (
    select(_WINDOW.c.id, _WINDOW.c.available_at)
    .where(
        or_(
            _WINDOW.c.ordering_key.is_(None),
            and_(_WINDOW.c.first_of_key, _NOTHING_EARLIER_UNDELIVERED),
        )
    )
    .cte("window_heads")
)
_WINDOW_HEADS_DUE = _WINDOW_HEADS.c.available_at <= bindparam("now")
# Past the window only when it is full and short of heads (one-time filters: PostgreSQL skips
# the grouped pass otherwise).
_PAST_THE_WINDOW = and_(
    select(func.count()).select_from(_WINDOW).scalar_subquery() >= bindparam("window"),
    select(func.count()).select_from(_WINDOW_HEADS).where(_WINDOW_HEADS_DUE).scalar_subquery()
    < bindparam("heads_limit"),
)
_UNDELIVERED = outbox.alias("undelivered")
_FIRST_UNDELIVERED_OF_EACH_KEY = (
    select(func.min(_UNDELIVERED.c.id))
    .where(
        _UNDELIVERED.c.status != status_literal(OutboxStatus.DELIVERED),
        _UNDELIVERED.c.ordering_key.is_not(None),
        _PAST_THE_WINDOW,
    )
    .group_by(_UNDELIVERED.c.ordering_key)
)
_KEYLESS = outbox.alias("keyless")
_KEYLESS_PAST_THE_WINDOW = (
    select(_KEYLESS.c.id)
    .where(
        _KEYLESS.c.destination == bindparam("dest"),
        _KEYLESS.c.status == status_literal(OutboxStatus.PENDING),
        _KEYLESS.c.ordering_key.is_(None),
        _KEYLESS.c.available_at <= bindparam("now"),
        _PAST_THE_WINDOW,
    )
    .order_by(_KEYLESS.c.id)
    .limit(bindparam("heads_limit"))
    .subquery("keyless_past_the_window")
)
_HEADS = union_all(
    select(_WINDOW_HEADS.c.id).where(_WINDOW_HEADS_DUE),
    _FIRST_UNDELIVERED_OF_EACH_KEY,
    select(_KEYLESS_PAST_THE_WINDOW.c.id),
)


def _claim_heads(*are_heads: Any) -> Any:
    due = (
        select(outbox.c.id)
        .where(*are_heads, _IS_PENDING, _DUE_NOW)
        .order_by(outbox.c.id)
        .limit(bindparam("heads_limit", type_=Integer()))
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return (
        update(outbox)
        .where(outbox.c.id.in_(due))
        .values(available_at=bindparam("lease_until"))
        .returning(*_COLUMNS)
    )


# PostgreSQL: the heads are found by one statement and leased by another, by primary key. In one
# statement the planner, on an outbox's usual stale statistics, may walk the pending rows and
# evaluate the heads again for each (1.5 s a claim with 4,000 pending rows), or compare every
# pending row with every head (11 s with 360,000 rows of 10,000 users). The lease re-checks each
# row under its lock (pending, due), so a head leased by another claimer in between is skipped.
# The lease names no destination (a row's never changes; the heads are the destination's), so the
# primary key is the one index that serves it.
_LEASE_HEADS = _claim_heads(outbox.c.id == any_(bindparam("head_ids", type_=ARRAY(BigInteger()))))
# SQLite: one statement (its planner takes the subquery as written).
_CLAIM_HEADS = _claim_heads(outbox.c.id.in_(_HEADS), outbox.c.destination == bindparam("dest"))


_FOLLOWERS = (
    select(outbox.c.id)
    .where(
        outbox.c.ordering_key.in_(bindparam("keys", expanding=True)),
        outbox.c.destination == bindparam("dest"),
        _IS_PENDING,
        outbox.c.id.not_in(bindparam("head_ids", expanding=True)),
        outbox.c.id > bindparam("first_head"),
    )
    .order_by(outbox.c.id)
    .limit(bindparam("followers_limit", type_=Integer()))
    .scalar_subquery()
)
_CLAIM_FOLLOWERS = (
    update(outbox)
    .where(outbox.c.id.in_(_FOLLOWERS))
    .values(available_at=bindparam("lease_until"))
    .returning(*_COLUMNS)
)


def new_row(message: NewOutboxMessage) -> dict[str, Any]:
    """The values of ``message``'s row, by the names of ``_INSERT``'s parameters."""
    return {
        "event_id": message.event_id,
        "event_type": message.event_type,
        "payload": dict(message.payload),
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "available_at": message.created_at,
        "created_at": message.created_at,
        "destination": message.destination.value,
        "ordering_key": message.ordering_key,
    }


def _message(row: Any) -> OutboxMessage:
    return OutboxMessage(
        id=row.id,
        event_id=row.event_id,
        event_type=row.event_type,
        payload=row.payload,
        status=OutboxStatus(row.status),
        attempts=row.attempts,
        available_at=utc(row.available_at),
        created_at=utc(row.created_at),
        delivered_at=utc(row.delivered_at),
        last_error=row.last_error,
        destination=OutboxDestination(row.destination),
        ordering_key=row.ordering_key,
    )


def _of(destination: OutboxDestination | None) -> list[Any]:
    return [] if destination is None else [outbox.c.destination == destination.value]


def _contiguous(
    heads: Sequence[OutboxMessage], followers: Sequence[OutboxMessage]
) -> list[OutboxMessage]:
    """Heads and followers in id order. The followers were cut at the batch size, which may
    leave a key with a gap-free run only: every follower was taken in id order per key, so any
    cut is a prefix of each key's run."""
    return sorted([*heads, *followers], key=lambda m: m.id)


@sql_repository(Outbox)
class SqlAlchemyOutbox:
    def __init__(self, transaction: SqlTransaction) -> None:
        self._connection = transaction.connection
        self._statements = transaction.statements
        self._ids = "array" if self._connection.dialect.name == "postgresql" else "in"

    async def add(self, message: NewOutboxMessage) -> None:
        # No lock per key: ids come from a sequence as rows are inserted, so an event caused by
        # another (its transaction read the other's committed change) always has the higher id.
        # Only changes that did not see each other can commit in the other order than their
        # ids, and then either order is theirs (docs/decisions/0043).
        await self._statements.one(_INSERT, new_row(message))  # the hot path: every change

    async def claim(
        self,
        now: datetime,
        lease_until: datetime,
        limit: int,
        destination: OutboxDestination = OutboxDestination.EMAIL,
    ) -> Sequence[OutboxMessage]:
        # Lock the due heads nobody else holds (SKIP LOCKED; SQLite ignores the clause and
        # serialises writers with BEGIN IMMEDIATE) and push their availability to the end of
        # the lease, so a claim survives this transaction's commit.
        heads = await self._claim_heads(now, lease_until, limit, destination)
        keys = {m.ordering_key for m in heads if m.ordering_key is not None}
        if not keys or len(heads) >= limit:
            return heads
        # The claimer owns these keys while the heads' leases last: take each key's next
        # pending rows with them (whatever their availability: a follower's own lease or
        # backoff means nothing while its head is undelivered), up to the batch size.
        head_ids = [m.id for m in heads]
        more = await self._connection.execute(
            _CLAIM_FOLLOWERS,
            {
                "keys": sorted(keys),
                "dest": destination.value,
                "head_ids": head_ids,
                "first_head": min(head_ids),
                "followers_limit": limit - len(heads),
                "lease_until": lease_until,
            },
        )
        return _contiguous(heads, [_message(row) for row in more])

    async def _claim_heads(
        self,
        now: datetime,
        lease_until: datetime,
        limit: int,
        destination: OutboxDestination,
    ) -> list[OutboxMessage]:
        params: dict[str, Any] = {
            "dest": destination.value,
            "now": now,
            "heads_limit": limit,
            "window": limit * _WINDOW_PER_HEAD,
            "lease_until": lease_until,
        }
        if self._ids == "array":
            head_ids = list((await self._connection.execute(_HEADS, params)).scalars())
            if not head_ids:
                return []
            result = await self._connection.execute(_LEASE_HEADS, {**params, "head_ids": head_ids})
        else:
            result = await self._connection.execute(_CLAIM_HEADS, params)
        return sorted((_message(row) for row in result), key=lambda m: m.id)

    async def mark_delivered(
        self, message_id: int, at: datetime, *, payload: Mapping[str, Any] | None = None
    ) -> None:
        params: dict[str, Any] = {"message_id": message_id, "at": at}
        if payload is None:
            await self._connection.execute(_MARK_DELIVERED, params)
        else:
            params["new_payload"] = dict(payload)
            await self._connection.execute(_MARK_DELIVERED_REPLACING, params)

    async def mark_delivered_many(self, message_ids: Sequence[int], at: datetime) -> None:
        await self._many(_MARK_DELIVERED_MANY, message_ids, {"at": at})

    async def schedule_retry(
        self, message_id: int, *, attempts: int, available_at: datetime, error: str
    ) -> None:
        await self._connection.execute(
            _SCHEDULE_RETRY,
            {
                "message_id": message_id,
                "new_attempts": attempts,
                "new_available_at": available_at,
                "error": error,
            },
        )

    async def mark_dead(
        self,
        message_id: int,
        *,
        attempts: int,
        error: str,
        payload: Mapping[str, Any] | None = None,
    ) -> None:
        params: dict[str, Any] = {
            "message_id": message_id,
            "new_attempts": attempts,
            "error": error,
        }
        if payload is None:
            await self._connection.execute(_MARK_DEAD, params)
        else:
            params["new_payload"] = dict(payload)
            await self._connection.execute(_MARK_DEAD_REPLACING, params)

    async def release_many(self, message_ids: Sequence[int], available_at: datetime) -> None:
        await self._many(_RELEASE_MANY, message_ids, {"new_available_at": available_at})

    async def _many(
        self, statements: Mapping[str, Any], message_ids: Sequence[int], params: dict[str, Any]
    ) -> None:
        ids = list(message_ids)
        if not ids:
            return
        if self._ids == "array":
            await self._connection.execute(statements["array"], {**params, "ids": ids})
            return
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start : start + _IN_CHUNK]
            await self._connection.execute(statements["in"], {**params, "ids": chunk})

    async def requeue(self, message_id: int, now: datetime) -> bool:
        result = await self._connection.execute(_REQUEUE, {"message_id": message_id, "now": now})
        return result.first() is not None

    async def get(self, message_id: int) -> OutboxMessage | None:
        row = (await self._connection.execute(_GET, {"message_id": message_id})).first()
        return None if row is None else _message(row)

    async def list(
        self, status: OutboxStatus, limit: int, destination: OutboxDestination | None = None
    ) -> Sequence[OutboxMessage]:
        result = await self._connection.execute(
            select(*_COLUMNS)
            .where(outbox.c.status == status.value, *_of(destination))
            .order_by(outbox.c.id)
            .limit(limit)
        )
        return [_message(row) for row in result]

    async def count(
        self, status: OutboxStatus, destination: OutboxDestination | None = None
    ) -> int:
        result = await self._connection.execute(
            select(func.count())
            .select_from(outbox)
            .where(outbox.c.status == status_literal(status), *_of(destination))
        )
        return int(result.scalar_one())

    async def oldest_undelivered(self, destination: OutboxDestination) -> datetime | None:
        result = await self._connection.execute(
            select(func.min(outbox.c.created_at)).where(
                outbox.c.destination == destination.value,
                outbox.c.status != status_literal(OutboxStatus.DELIVERED),
            )
        )
        oldest: datetime | None = utc(result.scalar_one())
        return oldest

    async def delete_delivered_before(self, cutoff: datetime, limit: int) -> int:
        # A bounded batch per statement: a long retention backlog is deleted in short
        # transactions, never in one that locks the table for minutes.
        oldest = (
            select(outbox.c.id)
            .where(
                outbox.c.status == OutboxStatus.DELIVERED.value,
                outbox.c.delivered_at < cutoff,
            )
            .order_by(outbox.c.id)
            .limit(limit)
        )
        result = await self._connection.execute(delete(outbox).where(outbox.c.id.in_(oldest)))
        deleted: int = result.rowcount
        return deleted

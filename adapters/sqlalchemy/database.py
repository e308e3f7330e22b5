"""Connections out of the engine's pool, for the unit of work (writes) and the queries (reads).

Every checkout and every return goes through SQLAlchemy's ``AsyncConnection``, so it runs inside
SQLAlchemy's greenlet: a connection the pool does not keep (an overflow one, an invalidated one)
is really closed, which on asyncpg is IO and fails anywhere else.

``shared_connection()`` opens a scope in which everything the current task does (the caller
look-up, the queries, a unit of work) uses one connection, taken at the first use and given back
when the scope ends: an authenticated request holds one connection, never two, so a pool smaller
than the load queues requests instead of deadlocking them. Outside a scope (the worker, the CLI)
each unit of work and each query takes a connection of its own. The scope lives in a context
variable, like SQLAlchemy's ``async_scoped_session`` keyed on the task; a task the scope's task
starts inherits it, so work inside a scope must not run statements concurrently.

Reads on PostgreSQL run on the driver's connection (``AsyncpgReader``): no BEGIN/ROLLBACK round
trips and none of SQLAlchemy's per-statement work; a unit of work on the same connection runs
through SQLAlchemy as usual.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import Any, ClassVar

import asyncpg
import asyncpg.transaction
from sqlalchemy.engine.interfaces import PoolProxiedConnection
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.sqlalchemy.engine import PoolOptions
from adapters.sqlalchemy.readers import (
    CONNECTION_FAILURES,
    AsyncpgReader,
    ConnectionReader,
    Reader,
    Statement,
)
from application.errors import ApplicationError, StorageUnavailable

# What "the database is not there" looks like from below: refused or dropped connections,
# a pool that hands out nothing in time, the server shutting down.
_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeoutError, OSError, TimeoutError)
# SQLSTATEs of a server that is going away or not back yet, which asyncpg raises as plain
# errors: class 08 (connection exception), admin/crash shutdown, "the database system is
# starting up / shutting down" (57P03), too many connections. And a server that refuses the
# connection: no such database (3D000: dropped, renamed, not created yet), class 28 (no such
# role, a wrong password). Readiness says "unavailable" for those; a request gets a 503, not a
# 500 with a traceback, and the worker waits as for an outage (decision 0060).
_UNAVAILABLE_SQLSTATES = {"57P01", "57P02", "57P03", "53300", "3D000"}
_UNAVAILABLE_SQLSTATE_CLASSES = ("08", "28")


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error``, or an error it wraps, says the database is not there."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, _UNAVAILABLE + CONNECTION_FAILURES):
            return True
        sqlstate = getattr(current, "sqlstate", None) or ""
        if sqlstate.startswith(_UNAVAILABLE_SQLSTATE_CLASSES) or sqlstate in _UNAVAILABLE_SQLSTATES:
            return True
        current = getattr(current, "orig", None) or current.__cause__
    return False


class FairAdmission:
    """At most ``slots`` connections checked out through the database at once, handed out in
    the order they were asked for, each wait bounded by ``timeout_seconds``.

    SQLAlchemy's async pool wakes a waiter when a connection comes back, but a task that asks
    in between takes it first; under a load well above the pool the same waiters lose again and
    again, until their pool timeout (a 503). asyncio's semaphore is first come, first served.

    A connection given back while others wait goes straight to the next in line instead of
    through the pool (``hand_on``). Through the pool, the connections given back in one turn of
    the event loop sit idle until their next owners run; one that finds the pool's ``size``
    already idle is an overflow connection, and SQLAlchemy closes it, so the next owner opens a
    new one: a pool of 2 + 1 under load opened 15 PostgreSQL sessions a second that way. A
    connection goes back through the pool (and its recycling) when nobody waits, or once it
    has been handed on for ``hand_on_seconds``.
    """

    def __init__(self, slots: int, timeout_seconds: float, hand_on_seconds: float = 60.0) -> None:
        self._slots = asyncio.Semaphore(slots)
        self._timeout_seconds = timeout_seconds
        self._hand_on_seconds = hand_on_seconds
        self._waiting = 0
        self._handed_on: deque[tuple[AsyncConnection, float]] = deque()

    async def enter(self) -> tuple[AsyncConnection, float] | None:
        """A slot, and the connection (with when it left the pool) that the last task to
        leave handed on for it, if any."""
        if not self._slots.locked():  # a free slot, nobody in line: no wait, no timer
            await self._slots.acquire()
            return self._handed_on.popleft() if self._handed_on else None
        self._waiting += 1
        try:
            async with asyncio.timeout(self._timeout_seconds):  # TimeoutError: a 503
                await self._slots.acquire()
        finally:
            self._waiting -= 1
        return self._handed_on.popleft() if self._handed_on else None

    def hand_on(self, connection: AsyncConnection, out_since: float) -> bool:
        """Keep ``connection`` for the next task in line, if one waits for it and the
        connection has not been out of the pool too long; the caller then leaves its slot."""
        if self._waiting <= len(self._handed_on):
            return False
        if time.monotonic() - out_since > self._hand_on_seconds:
            return False
        self._handed_on.append((connection, out_since))
        return True

    def orphans(self) -> list[AsyncConnection]:
        """Connections handed on to waiters that gave up (timed out, cancelled): with nobody
        waiting, nobody will take them; the caller gives them back to the pool."""
        if self._waiting:
            return []
        orphans = [connection for connection, _ in self._handed_on]
        self._handed_on.clear()
        return orphans

    def leave(self) -> None:
        self._slots.release()


class _Lease:
    """One connection checked out of the pool on first use, and how to give it back."""

    def __init__(self, engine: AsyncEngine, admission: FairAdmission | None) -> None:
        self._engine = engine
        self._admission = admission
        self._admitted = False
        self._connection: AsyncConnection | None = None
        self._out_since = 0.0
        self._reader: Reader | None = None
        self._pooled: PoolProxiedConnection | None = None
        self._broken = False

    async def connection(self) -> AsyncConnection:
        if self._connection is None:
            if self._admission is not None and not self._admitted:
                handed_on = await self._admission.enter()
                self._admitted = True
                if handed_on is not None:
                    self._connection, self._out_since = handed_on
                    return self._connection
            try:
                self._connection = await self._engine.connect()
            except BaseException:
                self._leave()
                raise
            self._out_since = time.monotonic()
        return self._connection

    def _leave(self) -> None:
        if self._admitted and self._admission is not None:
            self._admitted = False
            self._admission.leave()

    @property
    def on_driver(self) -> bool:
        """PostgreSQL: reads and transactions run on the asyncpg connection itself."""
        return self._engine.dialect.driver == "asyncpg"

    async def pooled(self) -> PoolProxiedConnection:
        """The pool's connection under the ``AsyncConnection``: its DBAPI adapter and driver."""
        if self._pooled is None:
            self._pooled = await (await self.connection()).get_raw_connection()
        return self._pooled

    async def reader(self) -> Reader:
        if self._reader is None:
            if self.on_driver:
                pooled = await self.pooled()
                self._reader = AsyncpgReader(
                    pooled.driver_connection, self._engine.dialect, self._mark_broken
                )
            else:
                self._reader = ConnectionReader(await self.connection())
        return self._reader

    def driver_in_transaction(self) -> bool:
        driver = None if self._pooled is None else self._pooled.driver_connection
        return driver is not None and bool(driver.is_in_transaction())

    def _mark_broken(self) -> None:
        self._broken = True

    @property
    def broken(self) -> bool:
        return self._broken

    @contextmanager
    def guarded(self) -> Iterator[None]:
        """Around the driver's BEGIN, COMMIT and ROLLBACK: a failure of the connection itself
        (or a cancellation half-way) leaves it in an unknown state, so it must not be reused."""
        try:
            yield
        except CONNECTION_FAILURES as error:
            self._broken = True
            raise StorageUnavailable from error
        except asyncpg.PostgresError:
            raise
        except BaseException:
            self._broken = True
            raise

    async def end_transaction(self, error: BaseException | None) -> None:
        """Roll back what was not committed; the connection stays checked out."""
        connection = self._connection
        if connection is None or not connection.in_transaction():
            return
        if self._broken or isinstance(error, CONNECTION_FAILURES):
            return  # release() invalidates it; a rollback would only fail
        try:
            await connection.rollback()
        except Exception:
            self._broken = True
            if error is None:
                raise

    async def release(self, error: BaseException | None) -> None:
        """Give the connection back: to the next task in line when it is known to be idle and
        whole (no error but the application's own, not invalidated, no open transaction), else
        to the pool, invalidated when it may be broken."""
        # A driver transaction still open (its unit of work was cancelled before it could end
        # it): SQLAlchemy's return to the pool would not know of it, so the connection goes.
        broken = self._broken or self.driver_in_transaction()
        connection, self._connection, self._reader = self._connection, None, None
        self._pooled = None
        if connection is None:
            return
        try:
            if broken or isinstance(error, CONNECTION_FAILURES):
                await connection.invalidate(error if isinstance(error, Exception) else None)
            elif (
                self._admission is not None
                and (error is None or _is_the_applications_own(error))
                and not connection.invalidated
                and not connection.in_transaction()
                and self._admission.hand_on(connection, self._out_since)
            ):
                return
            await connection.close()  # rolls back an open transaction first
        except Exception:
            # With an error already in flight, that one is the one to report; the pool drops
            # a connection that failed to close on its own.
            if error is None:
                raise
        finally:
            self._leave()
            if self._admission is not None:
                await _close_all(self._admission.orphans())


def _is_the_applications_own(error: BaseException) -> bool:
    """A 404, a 409...: the request ended on its own terms, its connection is as good as before.
    Not a ``StorageUnavailable``: that one says the database failed under this request."""
    return isinstance(error, ApplicationError) and not isinstance(error, StorageUnavailable)


async def _close_all(connections: list[AsyncConnection]) -> None:
    for connection in connections:
        try:
            await connection.close()
        except Exception:  # noqa: S112 - the pool drops a connection that failed to close
            continue


class SqlTransaction:
    """What a unit of work's repositories run their statements on, all in one transaction:
    ``connection`` (SQLAlchemy, any statement) and ``statements`` (their hot prebuilt ones). On
    SQLite both are SQLAlchemy's, and so is the transaction (its autobegin)."""

    def __init__(self, connection: AsyncConnection, statements: Reader, lease: _Lease) -> None:
        self.connection = connection
        self.statements = statements
        self._lease = lease

    async def commit(self) -> None:
        await self.connection.commit()

    async def end(self, error: BaseException | None) -> None:
        """Roll back what was not committed (``error``: what ends the block, if anything)."""
        await self._lease.end_transaction(error)


class DriverTransaction(SqlTransaction, Reader):
    """PostgreSQL's (decision 0053): ``statements`` run on the asyncpg connection itself, as reads
    do, without SQLAlchemy's execution path (about 150 us of CPU per write transaction).

    Whichever statement comes first begins the transaction: through SQLAlchemy, SQLAlchemy's
    own (its DBAPI adapter sends BEGIN), which a prebuilt statement then joins; a prebuilt
    statement, a transaction on the driver, which SQLAlchemy's statements then join, its adapter
    held in autocommit meanwhile so that it sends no BEGIN of its own. A commit ends whichever
    is open; after it, the next statement begins the next transaction the same way.
    """

    def __init__(
        self,
        connection: AsyncConnection,
        on_driver: Reader,
        driver: asyncpg.Connection,
        adapter: Any,  # SQLAlchemy's AsyncAdapt_asyncpg_connection: PEP 249 ``autocommit``
        lease: _Lease,
    ) -> None:
        super().__init__(connection, self, lease)
        self._on_driver = on_driver
        self._driver = driver
        self._adapter = adapter
        self._ours: asyncpg.transaction.Transaction | None = None

    async def one(
        self, statement: Statement, parameters: Mapping[str, Any]
    ) -> Sequence[Any] | None:
        await self._begin()
        return await self._on_driver.one(statement, parameters)

    async def all(
        self, statement: Statement, parameters: Mapping[str, Any]
    ) -> Sequence[Sequence[Any]]:
        await self._begin()
        return await self._on_driver.all(statement, parameters)

    async def _begin(self) -> None:
        if self._ours is not None or self._driver.is_in_transaction():
            return  # ours, or SQLAlchemy's: either way this statement joins it
        with self._lease.guarded():
            ours = self._driver.transaction()
            await ours.start()
        self._ours = ours
        self._adapter.autocommit = True

    async def commit(self) -> None:
        ours = self._ours
        if ours is None:
            await self.connection.commit()
            return
        self._hand_back()
        with self._lease.guarded():
            await ours.commit()
        # SQLAlchemy began a transaction of its own at its first statement in ours, one that
        # exists only in its bookkeeping (its adapter was in autocommit): ending it sends nothing.
        await self._lease.end_transaction(None)

    async def end(self, error: BaseException | None) -> None:
        ours = self._ours
        if ours is not None:
            self._hand_back()
            if self._driver.is_in_transaction() and not self._lease.broken:
                try:
                    with self._lease.guarded():
                        await ours.rollback()
                except Exception:
                    if error is None:  # with an error in flight, that one is the one to report
                        raise
        await super().end(error)

    def _hand_back(self) -> None:
        self._ours = None
        self._adapter.autocommit = False


_shared: ContextVar[tuple[SqlAlchemyDatabase, _Lease] | None] = ContextVar(
    "users_items_shared_connection", default=None
)


class SqlAlchemyDatabase:
    """The engine, and the connections the unit of work and the queries run on. Whatever says
    the database is not there, from a checkout, a statement or a return, leaves as
    ``StorageUnavailable`` (a 503)."""

    raises: ClassVar[tuple[type[ApplicationError], ...]] = (StorageUnavailable,)

    def __init__(self, engine: AsyncEngine, admission: FairAdmission | None = None) -> None:
        self.engine = engine
        self._admission = admission

    @asynccontextmanager
    async def shared_connection(self) -> AsyncIterator[None]:
        """Everything this task does against this database inside the block shares one
        connection, checked out at its first use (if any) and given back at the end."""
        lease = _Lease(self.engine, self._admission)
        token = _shared.set((self, lease))
        try:
            with self._unavailable_as_503():
                try:
                    yield
                except BaseException as error:
                    await lease.release(error)
                    raise
                await lease.release(None)
        finally:
            _shared.reset(token)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlTransaction]:
        """One transaction, for a unit of work: the shared connection inside a scope, else its
        own; rolled back unless committed.

        On PostgreSQL the repositories' prebuilt statements run on the driver connection
        (``DriverTransaction``).
        """
        async with self._lease() as lease:
            connection = await lease.connection()
            transaction: SqlTransaction
            if lease.on_driver:
                pooled = await lease.pooled()
                adapter, driver = pooled.dbapi_connection, pooled.driver_connection
                if adapter is None or driver is None:  # a closed pooled connection: never here
                    raise StorageUnavailable
                reader = await lease.reader()
                transaction = DriverTransaction(connection, reader, driver, adapter, lease)
            else:
                statements = ConnectionReader(connection, in_transaction=True)
                transaction = SqlTransaction(connection, statements, lease)
            try:
                yield transaction
            except BaseException as error:
                await transaction.end(error)
                raise
            await transaction.end(None)

    def reader(self) -> AbstractAsyncContextManager[Reader]:
        """Where a query runs its statements: the shared connection inside a scope, else one
        of its own for the block."""
        shared = _shared.get()
        if shared is not None and shared[0] is self:
            # Every query of a request comes here: a plain class, not a generator-based
            # context manager per query (decision 0053).
            return _SharedReader(shared[1])
        return self._own_reader()

    @asynccontextmanager
    async def _own_reader(self) -> AsyncIterator[Reader]:
        async with self._lease() as lease:
            yield await lease.reader()

    @asynccontextmanager
    async def _lease(self) -> AsyncIterator[_Lease]:
        shared = _shared.get()
        if shared is not None and shared[0] is self:
            with self._unavailable_as_503():
                yield shared[1]
            return
        lease = _Lease(self.engine, self._admission)
        with self._unavailable_as_503():
            try:
                yield lease
            except BaseException as error:
                await lease.release(error)
                raise
            await lease.release(None)

    @staticmethod
    @contextmanager
    def _unavailable_as_503() -> Iterator[None]:
        try:
            yield
        except StorageUnavailable:
            raise
        except Exception as error:
            if is_unavailable(error):
                raise StorageUnavailable from error
            raise


class _SharedReader:
    """The scope's reader for one query; what says the database is not there leaves as
    ``StorageUnavailable``, as from ``SqlAlchemyDatabase._lease``."""

    __slots__ = ("_lease",)

    def __init__(self, lease: _Lease) -> None:
        self._lease = lease

    async def __aenter__(self) -> Reader:
        with SqlAlchemyDatabase._unavailable_as_503():
            return await self._lease.reader()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if (
            isinstance(error, Exception)
            and not isinstance(error, StorageUnavailable)
            and is_unavailable(error)
        ):
            raise StorageUnavailable from error


def fair_admission(engine: AsyncEngine, pool: PoolOptions) -> FairAdmission | None:
    """First come, first served admission to a PostgreSQL pool of ``pool``'s size and overflow;
    none for SQLite, whose pool keeps SQLAlchemy's defaults."""
    if engine.dialect.name == "sqlite":
        return None
    return FairAdmission(pool.size + pool.max_overflow, pool.timeout_seconds)

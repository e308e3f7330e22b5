"""SQLAlchemy 2 async adapters: Core tables, repositories, the unit of work, migrations.

Repositories use Core statements on the unit of work's ``SqlTransaction`` (SQLAlchemy's
``AsyncConnection``, and the driver's connection for hot prebuilt statements on PostgreSQL) and
map rows straight to the domain dataclasses; no ORM session, no identity map (see
docs/decisions/0003-core-not-orm.md and 0053).
"""

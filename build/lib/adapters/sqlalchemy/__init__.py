"""SQLAlchemy 2 async adapters: Core tables, repositories, the unit of work, migrations.

Repositories use Core statements on an ``AsyncConnection`` and map rows straight to the domain
dataclasses; no ORM session, no identity map (see docs/decisions/0003-core-not-orm.md).
"""

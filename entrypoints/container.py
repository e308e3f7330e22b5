"""The composition root: the one place that decides which adapter serves which port.

Tests swap adapters with ``container.<provider>.override(...)``.

The engine is a ``Singleton`` disposed by the app's lifespan (and the CLI), not a ``Resource``:
an async ``Resource`` turns every provider that depends on it into an awaitable, so each request
would build its use case through a future (see docs/decisions/0004-dependency-injection.md).
"""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.argon2_hasher import Argon2PasswordHasher
from adapters.jwt_tokens import JwtTokenService
from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.health import SqlAlchemyDatabaseProbe
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.add_item_to_user import AddItemToUser
from application.authenticate_user import AuthenticateUser
from application.check_readiness import CheckReadiness
from application.create_user import CreateUser
from application.delete_item import DeleteItem
from application.get_current_user import GetCurrentUser
from application.get_item import GetItem
from application.get_user import GetUser
from application.list_items import ListItems
from application.list_user_items import ListUserItems
from application.list_users import ListUsers
from application.update_item import UpdateItem
from entrypoints.http.cursors import CursorCodec
from entrypoints.settings import Settings


class Container(containers.DeclarativeContainer):
    settings = providers.Singleton(Settings)

    # Adapters
    engine = providers.Singleton(
        create_engine,
        url=settings.provided.database_url,
        pool=settings.provided.pool,
        echo=settings.provided.db_echo,
    )
    uow = providers.Factory(SqlAlchemyUnitOfWork, engine=engine)
    # For use cases that only read: no BEGIN/ROLLBACK round trips on PostgreSQL (decision 0025).
    read_only_uow = providers.Factory(SqlAlchemyUnitOfWork, engine=engine, read_only=True)
    password_hasher = providers.Singleton(Argon2PasswordHasher)
    token_service = providers.Singleton(
        JwtTokenService,
        secret=settings.provided.jwt_secret,
        issuer=settings.provided.jwt_issuer,
        audience=settings.provided.jwt_audience,
        ttl_seconds=settings.provided.access_token_ttl_seconds,
    )
    database_probe = providers.Singleton(SqlAlchemyDatabaseProbe, engine=engine)
    cursor_codec = providers.Singleton(CursorCodec, secret=settings.provided.jwt_secret)

    # Use cases
    create_user = providers.Factory(CreateUser, uow=uow, hasher=password_hasher)
    authenticate_user = providers.Factory(
        AuthenticateUser, uow=uow, hasher=password_hasher, tokens=token_service
    )
    get_user = providers.Factory(GetUser, uow=read_only_uow)
    get_current_user = providers.Factory(GetCurrentUser, uow=read_only_uow, tokens=token_service)
    list_users = providers.Factory(ListUsers, uow=read_only_uow)
    add_item_to_user = providers.Factory(AddItemToUser, uow=uow)
    list_user_items = providers.Factory(ListUserItems, uow=read_only_uow)
    list_items = providers.Factory(ListItems, uow=read_only_uow)
    get_item = providers.Factory(GetItem, uow=read_only_uow)
    update_item = providers.Factory(UpdateItem, uow=uow)
    delete_item = providers.Factory(DeleteItem, uow=uow)
    check_readiness = providers.Factory(
        CheckReadiness, probes=providers.Dict(database=database_probe)
    )

"""``users-items create-user`` and ``deactivate-user`` against a real database (SQLite and
PostgreSQL), through typer's CliRunner."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner, Result

from adapters.argon2_hasher import Argon2PasswordHasher
from adapters.sqlalchemy.database import SqlAlchemyDatabase
from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.ports import UserRepository
from application.ports.second_factor import MfaRepository
from domain.user import User
from entrypoints.cli import app

runner = CliRunner()
PASSWORD = "correct horse battery"


@pytest.fixture
def cli_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The CLI pointed at the test database (SQLite file or PostgreSQL), in development mode."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("ENVIRONMENT", "development")
    return database_url


def _name() -> str:
    return f"cli_{uuid.uuid4().hex[:12]}"


def _stored(url: str, username: str) -> User | None:
    async def read() -> User | None:
        engine = create_engine(url)
        try:
            async with SqlAlchemyUnitOfWork(SqlAlchemyDatabase(engine)) as uow:
                return await uow.repository(UserRepository).get_by_username(username)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _create(username: str, password_input: str = f"{PASSWORD}\n{PASSWORD}\n") -> Result:
    return runner.invoke(
        app,
        ["create-user", "--email", f"{username}@example.com", "--username", username],
        input=password_input,
    )


def _one_line_error(result: Result) -> str:
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_create_user_prompts_twice_without_echo_and_stores_a_hash(cli_database: str) -> None:
    username = _name()

    result = _create(username)

    assert result.exit_code == 0, result.output
    assert f"created user {username}" in result.stdout
    assert PASSWORD not in result.output  # hidden input is not echoed
    user = _stored(cli_database, username)
    assert user is not None
    assert user.is_active
    assert user.email == f"{username}@example.com"
    hasher = Argon2PasswordHasher()
    try:
        assert asyncio.run(hasher.verify(user.hashed_password, PASSWORD))
    finally:
        hasher.close()


def test_create_user_refuses_a_confirmation_that_differs(cli_database: str) -> None:
    username = _name()

    result = _create(username, password_input=f"{PASSWORD}\nsomething else\n")

    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert _stored(cli_database, username) is None


@pytest.mark.parametrize(
    ("email", "username", "password", "names"),
    [
        ("not-an-email", "ada_ok", PASSWORD, "email"),
        ("ok@example.com", "a b", PASSWORD, "username"),
        ("ok@example.com", "ada_ok", "short", "password"),
    ],
)
def test_create_user_refuses_bad_input_in_one_line(
    cli_database: str, email: str, username: str, password: str, names: str
) -> None:
    result = runner.invoke(
        app,
        ["create-user", "--email", email, "--username", username],
        input=f"{password}\n{password}\n",
    )

    assert result.exit_code == 2
    line = _one_line_error(result)
    assert line.startswith("users-items: invalid input:")
    assert names in line
    assert password not in line


def test_create_user_refuses_a_taken_username(cli_database: str) -> None:
    username = _name()
    assert _create(username).exit_code == 0

    result = runner.invoke(
        app,
        ["create-user", "--email", "other@example.com", "--username", username.upper()],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )

    assert result.exit_code == 1
    assert _one_line_error(result) == "users-items: username already taken"


@pytest.mark.parametrize("by", ["username", "id"])
def test_deactivate_user_by_username_or_id(cli_database: str, by: str) -> None:
    username = _name()
    other = _name()
    assert _create(username).exit_code == 0
    assert _create(other).exit_code == 0
    user = _stored(cli_database, username)
    assert user is not None
    arguments = [username.upper()] if by == "username" else ["--id", str(user.id)]

    first = runner.invoke(app, ["deactivate-user", *arguments])
    again = runner.invoke(app, ["deactivate-user", *arguments])

    assert first.exit_code == 0, first.output
    assert f"user {username} (id {user.id}) deactivated" in first.stdout
    assert again.exit_code == 0
    assert "was already inactive" in again.stdout
    stored = _stored(cli_database, username)
    untouched = _stored(cli_database, other)
    assert stored is not None
    assert not stored.is_active
    assert untouched is not None
    assert untouched.is_active


@pytest.mark.parametrize(
    ("arguments", "code", "message"),
    [
        (["nobody_here"], 1, "users-items: no user is called 'nobody_here'"),
        (["--id", "987654321"], 1, "users-items: user 987654321 does not exist"),
        (["--id", "ada"], 2, "users-items: invalid input: --id needs a positive whole number"),
        (["--id", "0"], 2, "users-items: invalid input: --id needs a positive whole number"),
    ],
)
def test_deactivate_user_refuses_an_unknown_user_in_one_line(
    cli_database: str, arguments: list[str], code: int, message: str
) -> None:
    result = runner.invoke(app, ["deactivate-user", *arguments])

    assert result.exit_code == code
    assert _one_line_error(result).startswith(message)


def test_an_unreachable_database_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/nothing")
    monkeypatch.setenv("DB_POOL_TIMEOUT", "2")

    result = runner.invoke(app, ["deactivate-user", "ada"])

    assert result.exit_code == 1
    assert _one_line_error(result) == (
        "users-items: the database is unavailable; check DATABASE_URL and try again"
    )


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ([], "create-user"),
        (["serve"], "Serve the HTTP API"),
        (["migrate"], "Apply every pending database migration"),
        (["create-user"], "Create an active user"),
        (["deactivate-user"], "Deactivate a user"),
        (["grant-admin"], "Make a user an administrator"),
        (["revoke-admin"], "refused for the last active administrator"),
        (["mfa-reset"], "Turn a user's second factor off"),
    ],
)
def test_every_command_has_help(command: list[str], says: str) -> None:
    result = runner.invoke(app, [*command, "--help"])

    assert result.exit_code == 0
    assert says in result.output


def test_a_missing_option_is_an_error_without_a_traceback() -> None:
    result = runner.invoke(app, ["create-user", "--email", "a@example.com"])

    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "--username" in result.output


def test_create_user_refuses_a_common_password_saying_why(cli_database: str) -> None:
    username = _name()

    result = _create(username, "password123\npassword123\n")

    assert result.exit_code == 2
    assert "most common passwords" in _one_line_error(result)
    assert _stored(cli_database, username) is None


def test_admins_are_created_granted_and_revoked_but_never_the_last(cli_database: str) -> None:
    root, other = _name(), _name()
    created = runner.invoke(
        app,
        ["create-user", "--admin", "--email", f"{root}@example.com", "--username", root],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert created.exit_code == 0, created.output
    assert f"created administrator {root}" in created.stdout
    assert _create(other).exit_code == 0
    stored_root = _stored(cli_database, root)
    assert stored_root is not None
    assert stored_root.is_admin

    granted = runner.invoke(app, ["grant-admin", other.upper()])
    assert granted.exit_code == 0, granted.output
    assert "is now an administrator" in granted.stdout
    revoked = runner.invoke(app, ["revoke-admin", root])
    assert revoked.exit_code == 0, revoked.output
    assert "is no longer an administrator" in revoked.stdout

    last = runner.invoke(app, ["revoke-admin", other])
    assert last.exit_code == 1
    assert "active admin" in _one_line_error(last)
    assert [_stored(cli_database, n).is_admin for n in (root, other)] == [False, True]  # type: ignore[union-attr]
    unknown = runner.invoke(app, ["grant-admin", _name()])
    assert unknown.exit_code == 1
    assert "no user is called" in _one_line_error(unknown)


def _turn_mfa_on(url: str, user_id: int) -> None:
    async def turn_on() -> None:
        engine = create_engine(url)
        try:
            async with SqlAlchemyUnitOfWork(SqlAlchemyDatabase(engine)) as uow:
                mfa = uow.repository(MfaRepository)
                await mfa.start_enrolment(user_id, "sealed", datetime.now(UTC))
                assert await mfa.enable(user_id, 1, datetime.now(UTC))
                await uow.commit()
        finally:
            await engine.dispose()

    asyncio.run(turn_on())


def test_mfa_reset_turns_the_second_factor_off(cli_database: str) -> None:
    username = _name()
    assert _create(username).exit_code == 0
    user = _stored(cli_database, username)
    assert user is not None
    _turn_mfa_on(cli_database, user.id)
    on = _stored(cli_database, username)
    assert on is not None
    assert on.mfa_enabled

    reset = runner.invoke(app, ["mfa-reset", username.upper()])
    again = runner.invoke(app, ["mfa-reset", username])
    unknown = runner.invoke(app, ["mfa-reset", "nobody_here"])

    assert reset.exit_code == 0, reset.output
    assert f"user {username} (id {user.id}): second factor turned off" in reset.stdout
    off = _stored(cli_database, username)
    assert off is not None
    assert not off.mfa_enabled
    assert again.exit_code == 1
    assert _one_line_error(again) == "users-items: the second factor is not on"
    assert unknown.exit_code == 1
    assert _one_line_error(unknown) == "users-items: no user is called 'nobody_here'"

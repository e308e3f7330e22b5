"""LOG_LEVEL reaches every library logger, and warnings too, in a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# SQLAlchemy reclaiming a connection nobody returned: it logs an error on its pool logger (whose
# "sqlalchemy" parent it set to WARNING itself) and emits an SAWarning; then other libraries log.
_SCRIPT = """
import asyncio, gc, logging, sys
from adapters.sqlalchemy.engine import create_engine
from entrypoints.logs import configure_logging
from entrypoints.settings import Settings

configure_logging(Settings(_env_file=None))

async def main():
    engine = create_engine(sys.argv[1])
    connection = await engine.connect()
    await connection.exec_driver_sql("SELECT 1")
    del connection
    gc.collect()
    await asyncio.sleep(0.1)
    for name in ("asyncpg", "uvicorn.error", "alembic.runtime.migration", "limits"):
        logging.getLogger(name).error("%s failed", name)
    await engine.dispose()

asyncio.run(main())
"""


def _run(level: str, tmp_path: Path) -> str:
    env = {**os.environ, "LOG_LEVEL": level, "LOG_FORMAT": "json"}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", _SCRIPT, f"sqlite+aiosqlite:///{tmp_path / 'log-level.db'}"],
        env=env,
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout + result.stderr


def test_at_error_the_library_errors_are_logged(tmp_path: Path) -> None:
    output = _run("ERROR", tmp_path)

    assert "garbage collector is trying to clean up" in output
    for name in ("asyncpg", "uvicorn.error", "alembic.runtime.migration", "limits"):
        assert f"{name} failed" in output


@pytest.mark.parametrize("level", ["CRITICAL", "critical"])
def test_critical_silences_every_library_logger_and_warning(tmp_path: Path, level: str) -> None:
    assert _run(level, tmp_path) == ""

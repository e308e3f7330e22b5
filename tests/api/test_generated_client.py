"""A client generated from the app's schema type-checks and runs a whole session.

openapi-python-client generates ``users_items_client`` from ``/openapi.json`` into a temporary
directory (never into the tree the project's mypy checks); ``mypy --strict`` checks it together
with tools/client/scenario.py, which then runs against a real ``users-items serve``: signup,
login, refresh and reuse detection, items, cursor pages, patch, delete, 403 on someone else's
item, typed 409/413/422 answers, logout. The client raises on any undocumented status.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from entrypoints.container import Container
from entrypoints.http.app import create_app
from tests.support.service import running_service

BIN = Path(sys.executable).parent
SCENARIO = Path(__file__).resolve().parents[2] / "tools" / "client" / "scenario.py"
PACKAGE = "users_items_client"
SERVICE_ENV = {"ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST_KIB": "1024", "ARGON2_PARALLELISM": "1"}


def _schema_for_the_generator() -> dict[str, Any]:
    """The served schema, less the login's ``multipart/form-data`` body: openapi-python-client
    0.29 turns an operation with two body media types into code that does not type-check (no
    ``Unset`` import) and sends a fixed ``boundary=+++`` that its multipart body does not use.
    The form body, the one OAuth2 clients send, stays (tests/api/test_openapi.py logs in with
    multipart directly)."""
    schema = create_app(Container()).openapi()
    schema = copy.deepcopy(schema)  # the app caches its own
    content = schema["paths"]["/auth/token"]["post"]["requestBody"]["content"]
    assert content.pop("multipart/form-data")
    return schema


def _run(*command: str, cwd: Path) -> None:
    completed = subprocess.run(  # noqa: S603 - our own tools
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"},
    )
    assert completed.returncode == 0, f"{command[:3]}:\n{completed.stdout}\n{completed.stderr}"


def test_a_generated_client_type_checks_and_runs_a_whole_session(tmp_path: Path) -> None:
    (tmp_path / "openapi.json").write_text(json.dumps(_schema_for_the_generator()))
    # No post hooks: the generator's default `ruff check --fix` rewrites `*args: Any` into
    # `*args: object` in client.py, which then fails mypy --strict.
    (tmp_path / "config.json").write_text(
        json.dumps({"package_name_override": PACKAGE, "post_hooks": []})
    )
    _run(
        str(BIN / "openapi-python-client"),
        "generate",
        "--path=openapi.json",
        f"--output-path={PACKAGE}",
        "--meta=none",
        "--config=config.json",
        cwd=tmp_path,
    )
    shutil.copy(SCENARIO, tmp_path / "scenario.py")
    # Its own config, not the project's pyproject.toml: strict and nothing else.
    (tmp_path / "mypy.ini").write_text("[mypy]\nstrict = True\npython_version = 3.11\n")
    _run(
        str(BIN / "mypy"),
        "--config-file=mypy.ini",
        "--no-incremental",
        f"--cache-dir={tmp_path / '.mypy_cache'}",
        "scenario.py",
        PACKAGE,
        cwd=tmp_path,
    )

    with running_service(tmp_path, SERVICE_ENV) as service:
        completed = subprocess.run(  # noqa: S603 - the scenario we just type-checked
            [sys.executable, "scenario.py", service.base_url],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.strip().endswith("scenario passed")

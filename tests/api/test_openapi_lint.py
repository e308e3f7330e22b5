"""Spectral (``spectral:oas`` + the OWASP API Security ruleset) on the schema the app serves.

The tools are npm packages pinned in tools/spectral/package-lock.json; the first run installs
them there with ``npm ci``. The rules are tools/spectral/.spectral.yaml, where every rule turned
off names its reason. Without node and npm the test skips naming the reason, unless
``REQUIRE_NODE=1`` (CI), which turns the skip into a failure.
"""

from __future__ import annotations

import collections
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from entrypoints.container import Container
from entrypoints.http.app import create_app
from tests.support.node import installed

TOOLS = Path(__file__).resolve().parents[2] / "tools" / "spectral"
RULESET = TOOLS / ".spectral.yaml"
SEVERITIES = {0: "error", 1: "warning", 2: "info", 3: "hint"}


@pytest.fixture(scope="module")
def spectral() -> Path:
    return installed(TOOLS, "spectral")


def _lint(spectral: Path, document: Path) -> list[dict[str, Any]]:
    completed = subprocess.run(  # noqa: S603 - our own pinned tool
        [str(spectral), "lint", "--ruleset", str(RULESET), "--format", "json", str(document)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # 0: nothing at error severity; 1: some; anything else: Spectral itself failed.
    assert completed.returncode in (0, 1), completed.stderr
    results: list[dict[str, Any]] = json.loads(completed.stdout)
    return results


def _counts(results: list[dict[str, Any]]) -> collections.Counter[tuple[str, str]]:
    return collections.Counter((SEVERITIES[r["severity"]], r["code"]) for r in results)


def test_the_schema_has_no_spectral_errors(spectral: Path, tmp_path: Path) -> None:
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(create_app(Container()).openapi()))

    results = _lint(spectral, document)

    counts = _counts(results)
    print("spectral:", dict(sorted(counts.items())))  # shown with -rP: what remains, by rule
    errors = [
        f"{r['code']} at {'.'.join(map(str, r['path']))}: {r['message']}"
        for r in results
        if r["severity"] == 0
    ]
    assert errors == []


def test_the_ruleset_reports_what_it_should(spectral: Path, tmp_path: Path) -> None:
    """The rules are live: a schema with an unbounded string and integer and an unprotected
    write gets the OWASP errors (a broken ruleset that reports nothing would pass the test
    above)."""
    document = tmp_path / "bad.json"
    bad_operation = {
        "operationId": "write",
        "requestBody": {
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {"a": {"type": "string"}, "n": {"type": "integer"}},
                    }
                }
            }
        },
        "responses": {"204": {"description": "done"}},
    }
    document.write_text(
        json.dumps(
            {
                "openapi": "3.1.0",
                "info": {"title": "bad", "version": "1"},
                "paths": {"/things": {"post": bad_operation}},
            }
        )
    )

    codes = {code for severity, code in _counts(_lint(spectral, document)) if severity == "error"}

    assert {
        "owasp:api4:2023-string-limit",
        "owasp:api4:2023-integer-format",
        "owasp:api2:2023-write-restricted",
    } <= codes

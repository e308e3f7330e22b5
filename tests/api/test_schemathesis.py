"""Schemathesis against a real ``users-items serve`` process, with every check and every phase
(examples, coverage, fuzzing, and stateful: sequences that follow the schema's OpenAPI links).

The service runs on its own SQLite file; every request carries a valid access token
(tests/api/schemathesis_hooks.py logs in again, or signs a new account up, after an operation
under test ended the run's own session or account; requests without a token are what the
``ignored_auth`` check sends). The run is reproducible
and bounded: a fixed seed, no example database, at most ``MAX_EXAMPLES`` cases per operation and
phase, one worker, no time-based repetition. tests/api/schemathesis.toml holds the one
exception (forged cursors).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.api.schemathesis_hooks import TARGET_ENV
from tests.support.service import running_service

SEED = 20261202
MAX_EXAMPLES = 30
CONFIG = Path(__file__).with_name("schemathesis.toml")
ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
# Cheap argon2: the run signs users up hundreds of times.
SERVICE_ENV = {
    "ARGON2_TIME_COST": "1",
    "ARGON2_MEMORY_COST_KIB": "1024",
    "ARGON2_PARALLELISM": "1",
    "LOG_LEVEL": "WARNING",
}


def test_schemathesis_finds_no_failure_in_any_phase(tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    with running_service(tmp_path, SERVICE_ENV) as service:
        completed = subprocess.run(  # noqa: S603 - our own tool, our own arguments
            [
                SCHEMATHESIS,
                "--config-file",
                str(CONFIG),
                "run",
                f"{service.base_url}/openapi.json",
                "--checks",
                "all",
                "--phases",
                "examples,coverage,fuzzing,stateful",
                "--seed",
                str(SEED),
                "--generation-database",
                "none",  # no examples carried over from an earlier run
                "--max-examples",
                str(MAX_EXAMPLES),
                "--workers",
                "1",
                "--request-timeout",
                "10",
                "--report",
                "json",
                "--report-json-path",
                str(report_path),
                "--no-color",
            ],
            # Its crash cache (.schemathesis/) goes there too: no run replays an earlier one's.
            cwd=tmp_path,
            env={
                **os.environ,
                "PYTHONPATH": str(ROOT),
                "SCHEMATHESIS_HOOKS": "tests.api.schemathesis_hooks",
                TARGET_ENV: service.base_url,
            },
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    output = completed.stdout + completed.stderr
    print(output[-3000:])  # shown with -rP: the summary with its counts
    assert completed.returncode == 0, output[-20000:]
    report: dict[str, Any] = json.loads(report_path.read_text())
    assert report["seed"] == SEED
    assert report["operations"]["tested"] == report["operations"]["total"] >= 16
    assert {name: phase["status"] for name, phase in report["phases"].items()} == {
        "examples": "success",
        "coverage": "success",
        "fuzzing": "success",
        "stateful": "success",
    }
    cases = report["test_cases"]
    assert cases["generated"] >= 500, cases  # the run did test something
    assert (cases["with_failures"], cases["errored"], report["failures"]) == (0, 0, []), cases

"""npm tools pinned in tools/<name> (package.json + package-lock.json), installed there with
``npm ci`` on first use. Without node and npm a test that needs one skips naming the reason,
unless ``REQUIRE_NODE=1`` (CI), which turns the skip into a failure."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import NoReturn

import pytest


def unavailable(reason: str) -> NoReturn:
    if os.environ.get("REQUIRE_NODE") == "1":
        pytest.fail(f"REQUIRE_NODE=1 but {reason}")
    pytest.skip(reason)


def installed(tools: Path, binary: str, timeout_seconds: float = 600) -> Path:
    """``tools/<...>/node_modules/.bin/<binary>``, after ``npm ci`` there if it is missing."""
    path = tools / "node_modules" / ".bin" / binary
    if not path.exists():
        npm = shutil.which("npm")
        if npm is None or shutil.which("node") is None:
            unavailable(f"node and npm are needed to install {binary} ({tools.name})")
        # --ignore-scripts: nothing from the registry runs at install time.
        subprocess.run(  # noqa: S603 - our own pinned lock
            [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
            cwd=tools,
            check=True,
            timeout=timeout_seconds,
        )
    return path

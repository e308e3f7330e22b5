"""/docs in a real browser (Debian's headless chromium) with no network beyond the service:
Swagger UI loads its assets from the service and renders every operation of the contract."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.api.contract import HTTP_METHODS, declared_operations
from tests.support.service import running_service

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Each rendered operation: <span class="opblock-summary-method">GET</span> ... data-path="/x"
RENDERED_OPERATION = re.compile(
    r'opblock-summary-method">([A-Z]+)</span>.*?data-path="([^"]+)"', re.DOTALL
)


@pytest.fixture
def chromium() -> str:
    if CHROMIUM is None:
        reason = "chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    return CHROMIUM


def _render(chromium: str, url: str, profile: Path) -> str:
    """The DOM after the page's scripts ran, as chromium headless dumps it."""
    completed = subprocess.run(  # noqa: S603 - a fixed command line
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            # Every host name fails to resolve except the service's own address.
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
            "--virtual-time-budget=30000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout


def test_swagger_ui_renders_every_contract_operation_offline(chromium: str, tmp_path: Path) -> None:
    with running_service(tmp_path) as service:
        schema = httpx.get(f"{service.base_url}/openapi.json").json()
        dom = _render(chromium, f"{service.base_url}/docs", tmp_path / "profile")
        log = service.log()

    rendered = {
        (method.lower(), html.unescape(path)) for method, path in RENDERED_OPERATION.findall(dom)
    }
    in_schema = {
        (method, path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in HTTP_METHODS
    }
    declared = set(declared_operations())
    assert declared <= rendered, sorted(declared - rendered)
    assert rendered == in_schema
    # The browser fetched Swagger UI's files and the schema from the service itself.
    assert "route=/docs/assets/{path} status=200" in log
    assert "route=/openapi.json status=200" in log

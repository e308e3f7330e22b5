"""``docs/asyncapi.yaml``: what the code publishes, and valid for the AsyncAPI CLI.

The document is generated from ``application.events.EVENT_TYPES`` (``python -m
entrypoints.asyncapi``), the same table the recorder checks every event against; the first test
fails when the committed file and the code differ. The CLI is the npm package pinned in
tools/asyncapi/package-lock.json, installed there with ``npm ci`` on first use. Without node and
npm those tests skip naming the reason, unless ``REQUIRE_NODE=1`` (CI) makes that a failure.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]

from application.events import EVENT_TYPES
from entrypoints.asyncapi import document
from tests.support.node import installed

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "asyncapi.yaml"
TOOLS = ROOT / "tools" / "asyncapi"

# The contract's table (../shared/docs/api-contract.md, "Events").
CONTRACT_TYPES = {
    "user.registered": {"username", "email", "email_verified", "is_admin", "created_at"},
    "user.email_verified": {"email"},
    "user.profile_changed": {"username", "email", "email_verified", "changed"},
    "user.password_changed": set(),
    "user.deactivated": set(),
    "user.reactivated": set(),
    "user.admin_granted": set(),
    "user.admin_revoked": set(),
    "user.mfa_enabled": set(),
    "user.mfa_disabled": set(),
    "user.deleted": set(),
    "item.created": {"item_id", "title", "description"},
    "item.updated": {"item_id", "title", "description"},
    "item.deleted": {"item_id"},
}


def test_the_event_types_are_the_contracts() -> None:
    assert {name: set(t.fields) for name, t in EVENT_TYPES.items()} == CONTRACT_TYPES
    for event_type in EVENT_TYPES.values():
        assert event_type.data_schema()["required"][0] == "user_id"


def test_the_committed_document_is_the_one_the_code_generates() -> None:
    committed = yaml.safe_load(DOCUMENT.read_text())

    assert committed == document(), (
        "docs/asyncapi.yaml is stale: run `.venv/bin/python -m entrypoints.asyncapi > "
        "docs/asyncapi.yaml`"
    )
    addresses = {c["address"] for c in committed["channels"].values()}
    assert addresses == {f"users-items.{name}" for name in EVENT_TYPES}
    schemas = committed["components"]["schemas"]
    assert schemas["ItemDeletedData"]["properties"].keys() == {"user_id", "item_id"}
    assert schemas["UserDeletedData"]["required"] == ["user_id"]


@pytest.fixture(scope="module")
def asyncapi() -> Path:
    return installed(TOOLS, "asyncapi")


def _validate(asyncapi: Path, path: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HOME": str(home),  # its config (analytics off) stays in the test's directory
        "ASYNCAPI_METRICS": "false",
        "SUPPRESS_NO_CONFIG_WARNING": "1",
    }
    return subprocess.run(  # noqa: S603 - our own pinned tool
        [str(asyncapi), "validate", str(path), "--fail-severity", "warn"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env=env,
    )


def test_the_asyncapi_cli_finds_the_document_valid(asyncapi: Path, tmp_path: Path) -> None:
    completed = _validate(asyncapi, DOCUMENT, tmp_path)

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "is valid" in completed.stdout


def test_the_asyncapi_cli_refuses_a_broken_document(asyncapi: Path, tmp_path: Path) -> None:
    """The check is live: a document with a channel of a wrong address type is refused."""
    broken = document()
    broken["channels"]["userDeleted"]["address"] = 42
    del broken["info"]["version"]
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(broken))

    completed = _validate(asyncapi, path, tmp_path)

    assert completed.returncode != 0
    assert "version" in completed.stdout + completed.stderr

"""`hubsync jira check` as an operator runs it on the sandbox, for every kind of tenant: an API-token Jira
administrator and a Forge app (which read workflows: every item answered), a Connect app and Data Center (whose
workflow items are left to a person, "?"), and a project whose create screen requires a field hubsync does not fill
(named, exit status 1)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from hubsync.bootstrap import bootstrap
from hubsync.cli import main
from hubsync.domain.tenant import APP_KEY, AuthMode, JiraFlavour
from hubsync_sandbox.jira import seed as jira_seed
from hubsync_sandbox.jira.world import InstalledApp
from hubsync_sandbox.runner import Sandbox
from tests.fixtures.sandbox import SandboxContracts
from tests.unit.sandbox.forge.forge_remote import StandInRemote, manifest

ADMIN_TOKEN = "sandbox-api-token-sofia"
SEC = {"project_key": "SEC", "rules": [{"name": "critical", "min_severity": "CRITICAL"}]}
OPS = {"project_key": "OPS", "status_dispositions": {"Done": "FIXED"}, "risk_request_status": "In Progress"}
CONNECT_SECRET = "shared-secret-of-the-check-test-" + "x" * 32
WORKFLOW_ITEMS = ("Path to a fixed status", "Path to the risk-request status", "Reopen from a fixed status")


@pytest.fixture(scope="module")
def sandbox(sandbox_contracts: SandboxContracts) -> Iterator[Sandbox]:
    with Sandbox(wrap=sandbox_contracts.wrap) as running:
        sofia = running.jira_cloud.user_by_email(jira_seed.SANDBOX_JIRA_ADMIN_EMAIL)
        assert sofia is not None and sofia.site_admin
        sofia.api_token = ADMIN_TOKEN
        yield running


@pytest.fixture
def shell(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name, value in sandbox.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HUBSYNC_DATABASE_URL", f"sqlite:///{tmp_path / 'hubsync.sqlite3'}")
    monkeypatch.setenv("HUBSYNC_SECRET_KEY", "an operator's secret key of 32+ characters")
    yield tmp_path
    sandbox.jira_cloud.required_fields.clear()


def add_tenant(sandbox: Sandbox, shell: Path, monkeypatch: pytest.MonkeyPatch, policy: dict[str, Any], *,
               name: str = "acme", flavour: str = "cloud") -> None:
    env = sandbox.environment()
    path = shell / f"{name}.json"
    path.write_text(json.dumps(policy))
    if flavour == "cloud":
        monkeypatch.setenv("HUBSYNC_JIRA_SECRET", ADMIN_TOKEN)
        where = ["--jira-url", env["HUBSYNC_JIRA_URL"], "--jira-user", jira_seed.SANDBOX_JIRA_ADMIN_EMAIL]
    else:
        monkeypatch.setenv("HUBSYNC_JIRA_SECRET", jira_seed.SANDBOX_JIRA_PAT)
        where = ["--jira-url", env["HUBSYNC_SANDBOX_JIRA_DC_URL"]]
    assert main(["tenant", "add", "--name", name, "--flavour", flavour, *where,
                 "--role-arn", env["HUBSYNC_SANDBOX_SECURITYHUB_ROLE_ARN"], "--region", "us-east-1",
                 "--policy", str(path)]) == 0


def store_tenant(**fields: Any) -> None:
    """A tenant an app install made (Connect's install callback, Forge's installed event), stored as they store it."""
    runtime = bootstrap()  # the database migrated, as `hubsync serve` has it
    try:
        with runtime.store.transaction() as uow:
            uow.tenants.create(jira_flavour=JiraFlavour.CLOUD, aws_role_arn="arn:aws:iam::111122223333:role/x",
                               aggregation_region="us-east-1", policy=SEC, **fields)
    finally:
        runtime.close()


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, str], str]:
    """Exit status, each item's mark and text by name, and stderr."""
    capsys.readouterr()
    status = main(["jira", "check", *args])
    captured = capsys.readouterr()
    items = {}
    for line in captured.out.splitlines():
        mark, _, rest = line.strip().partition(" ")
        name, _, text = rest.partition(": ")
        if mark in ("✓", "✗", "?"):
            items[name] = f"{mark} {text}"
    return status, items, captured.err


def test_an_api_token_administrator_gets_every_item_answered(
    sandbox: Sandbox, shell: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    add_tenant(sandbox, shell, monkeypatch, SEC)

    status, items, _ = check(capsys, "--tenant", "acme")

    assert status == 0
    assert all(text.startswith("✓") for text in items.values()), items
    assert items["Path to a fixed status"] == (
        "✓ Open: Allocate for fix → Mark for testing → Mark as resolved reaches Resolved")


def test_a_required_field_hubsync_does_not_fill_is_named_and_fails_the_check(
    sandbox: Sandbox, shell: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    add_tenant(sandbox, shell, monkeypatch, OPS)
    assert check(capsys)[0] == 0
    sandbox.jira_cloud.require_field("OPS", "customfield_10050", "Cost centre")

    status, items, _ = check(capsys)

    assert status == 1
    assert items["Create screen"].startswith("✗ Cost centre (customfield_10050) is required on OPS's create screen")
    assert [name for name, text in items.items() if text.startswith("✗")] == ["Create screen"]


def test_data_center_leaves_the_workflow_to_a_person(
    sandbox: Sandbox, shell: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    add_tenant(sandbox, shell, monkeypatch, {**SEC, "default_assignee": "ssecurity"}, flavour="datacenter")

    status, items, _ = check(capsys)

    assert status == 0
    assert {name for name, text in items.items() if text.startswith("?")} == set(WORKFLOW_ITEMS)
    assert "Data Center has no REST API for a workflow's transitions" in items["Path to a fixed status"]
    assert items["Default assignee"] == "✓ ssecurity can be assigned issues in SEC"


def test_a_connect_app_is_checked_with_what_its_scopes_let_it_read(
    sandbox: Sandbox, shell: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client_key = "jira:check-test-connect"
    sandbox.jira_cloud.connect_apps[APP_KEY] = InstalledApp(APP_KEY, "https://hubsync.example.com", client_key,
                                                            CONNECT_SECRET, {"name": "hubsync", "scopes": ["READ"]})
    store_tenant(name="connect-site", jira_base_url=sandbox.environment()["HUBSYNC_JIRA_URL"],
                 auth_mode=AuthMode.CONNECT, jira_secret=CONNECT_SECRET, connect_client_key=client_key)

    status, items, _ = check(capsys, "--tenant", "connect-site")

    assert status == 0
    assert items["Project and issue type"] == "✓ hubsync can create Task issues in SEC"
    assert {name for name, text in items.items() if text.startswith("?")} == set(WORKFLOW_ITEMS)


def test_a_forge_app_reads_the_workflow_with_its_app_token(
    sandbox: Sandbox, shell: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    remote = StandInRemote().start()
    remote.jwks_url = sandbox.forge.jwks_url
    try:
        installation = sandbox.forge.install(manifest(), remote_base_url=remote.url)
        assert sandbox.forge.wait_idle(10)
        store_tenant(name="forge-site", jira_base_url=sandbox.forge.api_base_url, auth_mode=AuthMode.FORGE,
                     jira_secret=sandbox.forge.system_token(), jira_secret_expires_at=datetime.now(UTC)
                     + timedelta(minutes=10), forge_installation_id=installation.installation_id,
                     forge_cloud_id=sandbox.forge.cloud_id)

        status, items, _ = check(capsys, "--tenant", "forge-site")
    finally:
        sandbox.forge.uninstall()
        sandbox.forge.wait_idle(10)
        remote.stop()

    assert status == 0
    assert all(text.startswith("✓") for text in items.values()), items


def test_no_tenant_and_a_jira_that_does_not_answer_are_one_line_each(
    sandbox: Sandbox, shell: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status, items, err = check(capsys, "--tenant", "nobody")
    assert (status, items, err) == (2, {}, "no tenant 'nobody'\n")

    add_tenant(sandbox, shell, monkeypatch, SEC)
    knobs = f"{sandbox.environment()['HUBSYNC_JIRA_URL']}/_sandbox/faults"
    requests.post(knobs, json={"status": 500, "path_prefix": "/rest/api/3/priority"}, timeout=5).raise_for_status()
    try:
        status, items, err = check(capsys)
    finally:
        requests.delete(knobs, timeout=5)
    assert (status, items) == (2, {})
    assert err.startswith("tenant acme: Jira could not be asked about project SEC") and err.count("\n") == 1

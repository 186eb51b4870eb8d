"""`hubsync jira setup-workflow` as an operator runs it on the sandbox: the stock OPS project set up with the risk
workflow as a Jira administrator's API-token tenant (a dry run, the setup, a second run that finds it done), a
developer's account refused with one line saying why, and several tenants asking for --tenant."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubsync.cli import main
from hubsync.domain import risk_workflow as risk
from hubsync_sandbox.jira import seed as jira_seed
from hubsync_sandbox.runner import Sandbox
from tests.fixtures.sandbox import SandboxContracts


@pytest.fixture(scope="module")
def sandbox(sandbox_contracts: SandboxContracts) -> Iterator[Sandbox]:
    with Sandbox(wrap=sandbox_contracts.wrap) as running:
        yield running


@pytest.fixture
def shell(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, value in sandbox.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HUBSYNC_DATABASE_URL", f"sqlite:///{tmp_path / 'hubsync.sqlite3'}")
    monkeypatch.setenv("HUBSYNC_SECRET_KEY", "an operator's secret key of 32+ characters")
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"project_key": "OPS"}))
    return policy


def add_tenant(sandbox: Sandbox, policy: Path, name: str, monkeypatch: pytest.MonkeyPatch,
               email: str = jira_seed.SANDBOX_JIRA_ADMIN_EMAIL, token: str = jira_seed.SANDBOX_JIRA_ADMIN_API_TOKEN,
               ) -> None:
    env = sandbox.environment()
    monkeypatch.setenv("HUBSYNC_JIRA_SECRET", token)
    assert main([
        "tenant", "add", "--name", name, "--flavour", "cloud", "--jira-url", env["HUBSYNC_JIRA_URL"],
        "--jira-user", email, "--role-arn", env["HUBSYNC_SANDBOX_SECURITYHUB_ROLE_ARN"], "--region", "us-east-1",
        "--policy", str(policy),
    ]) == 0


def test_dry_run_then_setup_then_nothing_to_do(sandbox: Sandbox, shell: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    add_tenant(sandbox, shell, "acme", monkeypatch)
    before = sandbox.jira_cloud.project("OPS").workflow.name
    capsys.readouterr()

    assert main(["jira", "setup-workflow", "--dry-run"]) == 0
    plan = capsys.readouterr().out
    assert "OPS: dry run, nothing changed" in plan
    assert f"create workflow {risk.NAME!r}" in plan and "switch project OPS" in plan
    assert sandbox.jira_cloud.project("OPS").workflow.name == before

    assert main(["jira", "setup-workflow"]) == 0
    done = capsys.readouterr()
    assert f"ok: created workflow {risk.NAME!r}" in done.out and "OPS: the risk workflow is set up" in done.out
    assert done.err == ""
    assert sandbox.jira_cloud.project("OPS").workflow.name == risk.NAME

    assert main(["jira", "setup-workflow", "--project", "OPS"]) == 0
    assert capsys.readouterr().out.startswith("OPS: already set up")


def test_a_developer_account_and_several_tenants_are_one_clear_line(
    sandbox: Sandbox, shell: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    add_tenant(sandbox, shell, "bot", monkeypatch, jira_seed.SANDBOX_JIRA_USER, jira_seed.SANDBOX_JIRA_API_TOKEN)
    capsys.readouterr()

    assert main(["jira", "setup-workflow", "--project", "SEC"]) == 1
    refused = capsys.readouterr().err.strip().splitlines()
    assert len(refused) == 1 and "needs a Jira administrator" in refused[0]
    assert jira_seed.SANDBOX_JIRA_USER in refused[0]

    add_tenant(sandbox, shell, "other", monkeypatch)
    capsys.readouterr()
    assert main(["jira", "setup-workflow", "--dry-run"]) == 1
    several = capsys.readouterr().err.strip()
    assert "--tenant" in several and "bot" in several and "other" in several

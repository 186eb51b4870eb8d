"""The operator's commands on the sandbox: add a tenant from a policy file, preview a reconcile, run it."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubsync.bootstrap import open_store
from hubsync.cli import main
from hubsync.config import Settings
from hubsync.domain.audit import TENANT_EVENTS
from hubsync_sandbox.jira import seed as jira_seed
from hubsync_sandbox.runner import Sandbox
from tests.fixtures.sandbox import SandboxContracts

POLICY = {"project_key": "SEC", "rules": [{"name": "critical", "min_severity": "CRITICAL"}]}


@pytest.fixture(scope="module")
def sandbox(sandbox_contracts: SandboxContracts) -> Iterator[Sandbox]:
    with Sandbox(wrap=sandbox_contracts.wrap) as running:
        yield running


@pytest.fixture
def operator_shell(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The environment an operator exports: the sandbox's endpoints, a database, a secret key."""
    for name, value in sandbox.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HUBSYNC_DATABASE_URL", f"sqlite:///{tmp_path / 'hubsync.sqlite3'}")
    monkeypatch.setenv("HUBSYNC_SECRET_KEY", "an operator's secret key of 32+ characters")
    monkeypatch.setenv("HUBSYNC_JIRA_SECRET", jira_seed.SANDBOX_JIRA_API_TOKEN)
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(POLICY))
    return policy


def add_tenant(sandbox: Sandbox, policy: Path) -> int:
    env = sandbox.environment()
    return main([
        "tenant", "add", "--name", "acme", "--flavour", "cloud", "--jira-url", env["HUBSYNC_JIRA_URL"],
        "--jira-user", env["HUBSYNC_JIRA_USER"], "--role-arn", env["HUBSYNC_SANDBOX_SECURITYHUB_ROLE_ARN"],
        "--organizations-role-arn", env["HUBSYNC_SANDBOX_ORGANIZATIONS_ROLE_ARN"], "--region", "us-east-1",
        "--policy", str(policy), "--external-id", env["HUBSYNC_SANDBOX_EXTERNAL_ID"],
    ])


def test_a_bad_policy_is_refused_with_what_is_wrong(sandbox: Sandbox, operator_shell: Path, capsys) -> None:
    operator_shell.write_text(json.dumps({"project_key": "SEC", "rules": [{"min_severity": "SEVERE"}]}))
    assert add_tenant(sandbox, operator_shell) == 2
    assert "rules[0].min_severity" in capsys.readouterr().out
    assert main(["tenant", "list"]) == 0
    assert "no tenants" in capsys.readouterr().out


def test_dry_run_changes_nothing_then_reconcile_converges(sandbox: Sandbox, operator_shell: Path, capsys) -> None:
    assert add_tenant(sandbox, operator_shell) == 0
    added = capsys.readouterr().out
    assert "sts:ExternalId" in added
    key = re.search(r"X-Hubsync-Api-Key: (\S+)", added)
    assert key is not None  # the EventBridge key, shown once: stored only as a hash
    store = open_store(Settings.from_environment())
    with store.read() as uow:
        [tenant] = uow.tenants.list()
        assert tenant.events_api_key is None
        assert uow.tenants.verify_events_api_key(tenant.id, key.group(1))
    store.dispose()
    issues_before = len(sandbox.jira_cloud.search_keys("project = SEC"))

    assert main(["reconcile", "--dry-run"]) == 0
    preview = capsys.readouterr().out
    assert "would change" in preview and "CreateTicket" in preview
    assert len(sandbox.jira_cloud.search_keys("project = SEC")) == issues_before

    assert main(["reconcile", "--tenant", "acme"]) == 0
    created = len(sandbox.jira_cloud.search_keys("project = SEC")) - issues_before
    assert created > 0
    capsys.readouterr()

    assert main(["reconcile"]) == 0
    assert "changed 0, 0 failed" in capsys.readouterr().out
    assert len(sandbox.jira_cloud.search_keys("project = SEC")) - issues_before == created


def test_update_checks_a_new_project_in_jira_refuses_a_missing_one_and_saves_one_that_works(
    sandbox: Sandbox, operator_shell: Path, capsys
) -> None:
    assert add_tenant(sandbox, operator_shell) == 0
    operator_shell.write_text(json.dumps({**POLICY, "project_key": "NOPE"}))
    capsys.readouterr()

    assert main(["tenant", "update", "--tenant", "acme", "--policy", str(operator_shell)]) == 2
    refused = capsys.readouterr()
    assert "✗" in refused.out and "NOPE" in refused.out
    [line] = refused.err.splitlines()
    assert line.startswith("hubsync: not saved: the project check failed (project and issue type")

    operator_shell.write_text(json.dumps({**POLICY, "issue_type": "Bug"}))
    assert main(["tenant", "update", "--tenant", "acme", "--policy", str(operator_shell)]) == 0
    assert "policy.issue_type: Task -> Bug" in capsys.readouterr().out
    store = open_store(Settings.from_environment())
    with store.read() as uow:
        [tenant] = uow.tenants.list()
        [entry] = uow.audit.for_finding(tenant.id, TENANT_EVENTS)
    store.dispose()
    assert tenant.policy["issue_type"] == "Bug" and tenant.policy["project_key"] == "SEC"
    assert entry.action == "update_settings" and entry.after == {"policy.issue_type": "Bug"}


def test_tenant_add_registers_the_jira_webhook_or_says_what_an_administrator_must_do(
    sandbox: Sandbox, operator_shell: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    env = sandbox.environment()
    monkeypatch.setenv("HUBSYNC_BASE_URL", "https://hubsync.example.com")
    monkeypatch.setenv("HUBSYNC_JIRA_SECRET", jira_seed.SANDBOX_JIRA_PAT)  # hubsync's bot: no Jira admin rights

    def add(name: str) -> str:
        assert main(["tenant", "add", "--name", name, "--flavour", "datacenter", "--jira-url",
                     env["HUBSYNC_SANDBOX_JIRA_DC_URL"], "--role-arn", env["HUBSYNC_SANDBOX_SECURITYHUB_ROLE_ARN"],
                     "--region", "us-east-1", "--policy", str(operator_shell)]) == 0
        return capsys.readouterr().out

    def webhook(*flags: str, admin: bool = True) -> tuple[int, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(jira_seed.SANDBOX_JIRA_ADMIN_PAT + "\n"))
        status = main(["tenant", "webhook", "--tenant", "bot", *flags, *(["--admin-secret-stdin"] if admin else [])])
        printed = capsys.readouterr()
        return status, printed.out + printed.err

    added = add("bot")
    assert "Jira webhook not registered: Jira answered 403" in added
    assert "`hubsync tenant webhook --tenant bot --register --admin-secret-stdin`), or create it by hand:" in added
    assert "In Jira: Administration > System > WebHooks > Create a WebHook" in added
    assert "  Secret    " in added and 'JQL       labels in ("security-hub")' in added
    status, said = webhook("--manual", admin=False)  # again: a new secret, the one Jira must now be given
    assert status == 0 and said.startswith("tenant bot: Jira webhook: ready for a Jira administrator")
    assert said.split("Secret    ")[1].split()[0] not in added
    status, said = webhook("--check", admin=False)
    assert status == 1 and said.startswith("hubsync: Jira answered 403") and len(said.splitlines()) == 1

    status, said = webhook("--register")
    assert status == 0 and "tenant bot: Jira webhook" in said and " created (" in said
    assert webhook("--register") [1].count("already registered as wanted") == 1
    assert webhook() == (0, said.replace(" created ", " registered as wanted ").split("\n")[0] + "\n")
    status, said = webhook("--rotate-token")  # the sandbox's Data Center is 10: signed, no URL token
    assert status == 2 and said == ("hubsync: tenant bot: its site signs deliveries (Data Center 10 or later); there "
                                    "is no URL token to rotate\n")
    status, said = webhook("--remove")
    assert status == 0 and "removed; deliveries are refused from now on" in said
    status, said = webhook("--check")
    assert status == 1 and "missing: register it" in said

    monkeypatch.setenv("HUBSYNC_JIRA_SECRET", jira_seed.SANDBOX_JIRA_ADMIN_PAT)  # an administrator's own tenant
    added = add("admin")
    assert "tenant admin: Jira webhook" in added and " created (" in added
    assert "delivery URL: https://hubsync.example.com/webhooks/jira/" in added
    assert "POST https://hubsync.example.com/events/securityhub/" in added
    assert main(["tenant", "show", "--tenant", "admin"]) == 0
    assert "signed deliveries); `hubsync tenant webhook` checks it on the site" in capsys.readouterr().out

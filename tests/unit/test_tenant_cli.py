"""`hubsync tenant add | list | show | update | rotate-events-key | disable | enable | remove` on an operator's
SQLite database: what each prints, stores and audits; secrets never printed; nothing stored when a change is
refused."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hubsync.bootstrap import bootstrap, open_store
from hubsync.cli import main
from hubsync.config import Settings
from hubsync.domain.audit import TENANT_EVENTS, AuditEntry
from hubsync.domain.link import Link, LinkState
from hubsync.domain.tenant import Tenant
from hubsync.service.settings import InvalidSettings, parse_aws_settings
from hubsync.web import create_app
from hubsync.web.events import API_KEY_HEADER
from hubsync_sandbox.securityhub.events import imported_event
from tests.fixtures.securityhub import make_finding

ADD = ["tenant", "add", "--name", "acme", "--flavour", "datacenter", "--jira-url", "https://jira.acme.example",
       "--role-arn", "arn:aws:iam::111122223333:role/hubsync-securityhub", "--region", "eu-west-1"]
PAT = "the-first-pat-0123456789"
BASE_URL = "https://hubsync.example.com"


@pytest.fixture
def policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HUBSYNC_DATABASE_URL", f"sqlite:///{tmp_path / 'hubsync.sqlite3'}")
    monkeypatch.setenv("HUBSYNC_SECRET_KEY", "tenant-cli-test-secret-key-0123456789")
    monkeypatch.setenv("HUBSYNC_JIRA_SECRET", PAT)
    monkeypatch.delenv("HUBSYNC_BASE_URL", raising=False)
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"project_key": "OPS", "rules": [{"name": "critical", "min_severity": "CRITICAL"}]}))
    return path


@pytest.fixture
def added(policy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    """A Data Center tenant `acme` (added without a base URL: no webhook), then HUBSYNC_BASE_URL set; the output of
    `tenant add` (its events key shown once)."""
    assert main([*ADD, "--policy", str(policy)]) == 0
    monkeypatch.setenv("HUBSYNC_BASE_URL", BASE_URL)
    return capsys.readouterr().out


def stored() -> Tenant:
    store = open_store(Settings.from_environment())
    try:
        with store.read() as uow:
            [tenant] = uow.tenants.list()
        return tenant
    finally:
        store.dispose()


def tenant_events(tenant: Tenant) -> list[AuditEntry]:
    store = open_store(Settings.from_environment())
    try:
        with store.read() as uow:
            return uow.audit.for_finding(tenant.id, TENANT_EVENTS)
    finally:
        store.dispose()


def events_key(output: str) -> str:
    return output.split(f"{API_KEY_HEADER}: ", 1)[1].split()[0]


def test_a_tenant_syncs_with_security_hub_cspm_unless_told_and_the_list_says_so(
    policy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*ADD, "--policy", str(policy)]) == 0
    assert main([*ADD[:3], "other", *ADD[4:], "--policy", str(policy), "--securityhub", "cspm"]) == 0
    capsys.readouterr()

    assert main(["tenant", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert all("  securityhub:cspm  " in line for line in lines)


def test_a_tenant_on_the_new_security_hub_is_stored_so(policy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*ADD, "--policy", str(policy), "--securityhub", "v2"]) == 0
    capsys.readouterr()

    assert main(["tenant", "list"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert "  securityhub:v2  " in line


def test_an_unknown_generation_is_refused_by_the_parser(policy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*ADD, "--policy", str(policy), "--securityhub", "asff"])
    assert exited.value.code == 2
    assert "invalid choice: 'asff'" in capsys.readouterr().err


def test_add_points_a_data_center_admin_at_the_command_that_rotates_the_key(added: str) -> None:
    assert "`hubsync tenant rotate-events-key`" in added
    assert "configure page" not in added


def test_add_without_a_base_url_says_the_webhook_waits_for_one(added: str) -> None:
    assert ("Jira webhook not registered: HUBSYNC_BASE_URL (where Jira reaches hubsync) is not set; set it and run "
            "`hubsync tenant webhook --tenant acme --register`") in added


def test_a_second_tenant_of_the_same_name_is_refused(added: str, policy: Path, capsys) -> None:
    assert main([*ADD, "--policy", str(policy)]) == 2
    assert "a tenant named 'acme' exists" in capsys.readouterr().out
    assert main(["tenant", "list"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1


def test_show_prints_the_settings_and_never_a_secret(added: str, capsys: pytest.CaptureFixture[str]) -> None:
    tenant = stored()
    assert main(["tenant", "show"]) == 0  # the only tenant: --tenant may be left out
    shown = capsys.readouterr().out
    assert main(["tenant", "show", "--tenant", tenant.id]) == 0
    assert capsys.readouterr().out == shown

    assert f"tenant acme  id {tenant.id}  enabled" in shown
    assert "Jira secret         set" in shown
    assert "arn:aws:iam::111122223333:role/hubsync-securityhub" in shown and "eu-west-1" in shown
    assert f"ExternalId          {tenant.external_id}" in shown
    assert f"Events URL          {BASE_URL}/events/securityhub/{tenant.id}" in shown
    assert "Events key          set (kept as a hash only, never shown)" in shown
    assert "project OPS, issue type Task" in shown and "rule 1 critical: severity CRITICAL and above" in shown
    assert PAT not in shown and events_key(added) not in shown


def test_update_changes_the_jira_secret_from_the_environment_or_stdin_and_audits_it(
    added: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HUBSYNC_JIRA_SECRET", "the-second-pat-0123456789")
    assert main(["tenant", "update", "--jira-secret-from-env"]) == 0
    assert stored().jira_secret == "the-second-pat-0123456789"
    monkeypatch.setattr("sys.stdin", io.StringIO("the-third-pat-0123456789\n"))
    assert main(["tenant", "update", "--tenant", "acme", "--jira-secret-stdin"]) == 0
    printed = capsys.readouterr().out

    tenant = stored()
    assert tenant.jira_secret == "the-third-pat-0123456789"
    assert printed.count("jira_secret: set -> replaced") == 2
    entries = tenant_events(tenant)
    assert [entry.action for entry in entries] == ["update_settings", "update_settings"]
    assert entries[0].before == {"jira_secret": "set"} and entries[0].after == {"jira_secret": "replaced"}
    assert "pat" not in json.dumps([entry.reason for entry in entries])
    assert tenant.policy == {"project_key": "OPS", "rules": [{"name": "critical", "min_severity": "CRITICAL"}]}


@pytest.mark.parametrize(("flags", "field", "value"), [
    (["--role-arn", "arn:aws:iam::1:role/short"], "roleArn", "arn:aws:iam::1:role/short"),
    (["--region", "mars-1"], "aggregationRegion", "mars-1"),
    (["--organizations-role-arn", "not-an-arn"], "organizationsRoleArn", "not-an-arn"),
])
def test_an_invalid_update_is_refused_with_the_configure_pages_message_and_nothing_stored(
    added: str, capsys: pytest.CaptureFixture[str], flags: list[str], field: str, value: str
) -> None:
    before = stored()
    with pytest.raises(InvalidSettings) as page:  # what the configure page answers for the same value
        parse_aws_settings({"roleArn": "arn:aws:iam::111122223333:role/x", "aggregationRegion": "eu-west-1",
                            field: value})
    [message] = page.value.fields[f"aws.{field}"]

    assert main(["tenant", "update", *flags]) == 2
    output = capsys.readouterr()
    assert output.err == f"hubsync: not saved: {flags[0]}: {message}\n"
    after = stored()
    assert after == before and after.updated_at == before.updated_at
    assert tenant_events(after) == []


def test_an_invalid_policy_file_is_refused_at_its_field(added: str, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"project_key": "OPS", "rules": [{"min_severity": "SEVERE"}]}))
    assert main(["tenant", "update", "--policy", str(bad)]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("hubsync: not saved: policy.rules[0].")
    bad.write_text("{not json")
    assert main(["tenant", "update", "--policy", str(bad)]) == 2
    assert f"--policy: {bad} is not JSON" in capsys.readouterr().err
    assert stored().policy["rules"] == [{"name": "critical", "min_severity": "CRITICAL"}]


def test_an_update_that_changes_nothing_says_so_and_audits_nothing(added: str, capsys) -> None:
    assert main(["tenant", "update", "--region", "eu-west-1"]) == 0
    assert "tenant acme: nothing to change" in capsys.readouterr().out
    assert tenant_events(stored()) == []


@pytest.fixture
def intake(added: str) -> Iterator[Any]:
    """The events intake of `hubsync serve` on the same database."""
    runtime = bootstrap(Settings.from_environment())
    try:
        yield create_app(runtime).test_client()
    finally:
        runtime.close()


def post_event(client: Any, tenant: Tenant, key: str) -> int:
    event = imported_event(make_finding(), "111122223333", "eu-west-1", tenant.created_at)
    response = client.post(f"/events/securityhub/{tenant.id}", json=event, headers={API_KEY_HEADER: key})
    return int(response.status_code)


def test_rotate_events_key_prints_the_new_key_once_and_the_old_one_works_during_the_grace_period(
    added: str, intake: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    old_key, tenant = events_key(added), stored()
    assert main(["tenant", "rotate-events-key", "--tenant", "acme"]) == 0
    printed = capsys.readouterr().out
    new_key = printed.split("(shown only now): ", 1)[1].split()[0]

    assert new_key != old_key
    assert "the previous key stays valid for 24 hours" in printed
    assert f"{BASE_URL}/events/securityhub/{tenant.id} (header {API_KEY_HEADER})" in printed
    assert post_event(intake, tenant, old_key) == 202
    assert post_event(intake, tenant, new_key) == 202
    assert post_event(intake, tenant, "not-the-key") == 401
    [entry] = tenant_events(stored())
    assert entry.action == "rotate_events_key" and new_key not in entry.reason


def test_disable_stops_the_tenant_and_enable_resumes_it_both_audited(added: str, intake: Any, capsys) -> None:
    key = events_key(added)
    assert main(["tenant", "disable"]) == 0
    assert stored().enabled is False
    assert post_event(intake, stored(), key) == 403
    assert main(["tenant", "disable"]) == 0  # the only tenant, disabled: still found without --tenant
    assert main(["tenant", "enable"]) == 0
    printed = capsys.readouterr().out

    assert stored().enabled is True
    assert post_event(intake, stored(), key) == 202
    assert "tenant acme disabled" in printed and "already disabled" in printed and "tenant acme enabled" in printed
    assert [(entry.action, entry.after) for entry in tenant_events(stored())] == [
        ("disable_tenant", {"state": "DISABLED"}), ("enable_tenant", {"state": "ENABLED"})]


def test_remove_asks_first_and_without_an_answer_removes_nothing(
    added: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # no terminal: end of input
    assert main(["tenant", "remove"]) == 1
    output = capsys.readouterr()
    assert "deletes its settings and Jira secret, its 0 links" in output.out
    assert "its audit timeline" in output.out and "left as they are" in output.out
    assert "not removed" in output.err
    monkeypatch.setattr("sys.stdin", io.StringIO("acne\n"))  # not its name
    assert main(["tenant", "remove"]) == 1
    assert stored().name == "acme"


def test_remove_with_the_name_typed_or_yes_deletes_the_tenant_with_its_links(
    added: str, policy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = stored()
    store = open_store(Settings.from_environment())
    with store.transaction() as uow:
        uow.links.save(tenant.id, Link("k1", "finding-1", "arn:aws:securityhub:eu-west-1::product/aws/securityhub",
                                       LinkState.LINKED, ticket_key="OPS-1"))
    monkeypatch.setattr("sys.stdin", io.StringIO("acme\n"))
    assert main(["tenant", "remove"]) == 0
    assert "its 1 link between findings and tickets" in capsys.readouterr().out
    assert main(["tenant", "list"]) == 0
    assert "no tenants" in capsys.readouterr().out
    with store.read() as uow:
        assert uow.links.get(tenant.id, "k1") is None
    store.dispose()

    assert main([*ADD, "--policy", str(policy)]) == 0
    assert main(["tenant", "remove", "--tenant", "acme", "--yes"]) == 0
    assert "tenant acme removed" in capsys.readouterr().out
    assert main(["tenant", "list"]) == 0
    assert "no tenants" in capsys.readouterr().out

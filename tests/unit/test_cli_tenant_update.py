"""`hubsync tenant update` as a use case, on fakes of Jira and Security Hub: it checks a save as the configure page
does (the project check when the project changes, the tickets new rules would create) and stores nothing it
refuses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hubsync.domain.audit import TENANT_EVENTS
from hubsync.domain.finding import Severity
from hubsync.domain.ports import JiraUnavailable, PriorityChoice, ProjectNotFound, SecurityHubUnavailable
from hubsync.domain.tenant import AuthMode, JiraFlavour, Tenant
from hubsync.service.project_check import CannotCheckProject
from hubsync.service.tenant_admin import Remote, TenantAdminRefused, TenantUpdate, update_tenant
from tests.fakes import FakeClock, FakeSecurityHub, FakeStore
from tests.unit.domain.domain_values import a_finding

ROLE = "arn:aws:iam::111122223333:role/hubsync"
OTHER_ROLE = "arn:aws:iam::444455556666:role/hubsync"
POLICY = {"project_key": "OPS", "rules": []}


class NoProjectJira:
    """A Jira site without the policy's project, or (`down`) one that does not answer."""

    def __init__(self, *, down: bool = False) -> None:
        self.down = down
        self.asked: list[Tenant] = []

    def priorities(self) -> list[PriorityChoice]:
        if self.down:
            raise JiraUnavailable("Jira did not answer GET /priority: ConnectionError")
        return [PriorityChoice("1", "High")]

    def issue_types(self, project_key: str) -> list[Any]:
        raise ProjectNotFound(project_key)

    def find_user(self, query: str, project_key: str | None = None) -> str | None:
        return None


def never(what: str) -> Any:
    def refuse(tenant: Tenant) -> Any:
        raise AssertionError(f"{what} was asked, and should not have been")
    return refuse


@pytest.fixture
def store() -> FakeStore:
    return FakeStore(FakeClock())


@pytest.fixture
def tenant(store: FakeStore) -> Tenant:
    with store.transaction() as uow:
        return uow.tenants.create(name="acme", jira_base_url="https://jira.acme.example",
                                  jira_flavour=JiraFlavour.DATA_CENTER, auth_mode=AuthMode.PAT, jira_secret="pat",
                                  aws_role_arn=ROLE, aggregation_region="eu-west-1", policy=POLICY)


def policy_file(tmp_path: Path, policy: dict[str, Any]) -> Path:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(policy))
    return path


def saved(store: FakeStore, tenant: Tenant) -> Tenant:
    with store.read() as uow:
        found = uow.tenants.get(tenant.id)
    assert found is not None
    return found


CRITICAL_RULE = {"project_key": "OPS", "rules": [{"name": "critical", "min_severity": "CRITICAL"}]}


def test_rules_that_would_open_more_tickets_than_the_threshold_wait_for_confirmation(
    store: FakeStore, tenant: Tenant, tmp_path: Path
) -> None:
    securityhub = FakeSecurityHub(*[a_finding(id=f"f-{n}", severity=Severity.CRITICAL) for n in range(3)])
    remote = Remote(never("the project check"), never("the project check"), lambda _: securityhub, 2)
    change = TenantUpdate(policy_file=policy_file(tmp_path, CRITICAL_RULE))
    printed: list[str] = []

    with pytest.raises(TenantAdminRefused, match=r"would create 3 tickets \(more than 2\).*--confirm-large-onb"):
        update_tenant(store, remote, "acme", change, printed.append)
    assert saved(store, tenant).policy == POLICY
    assert store.audit_of(tenant.id, TENANT_EVENTS) == []

    confirmed = TenantUpdate(policy_file=change.policy_file, confirm_large_onboarding=True)
    assert update_tenant(store, remote, "acme", confirmed, printed.append) == 0
    assert saved(store, tenant).policy["rules"] == [
        {"name": "critical", "min_severity": "CRITICAL", "security_control_ids": [], "generator_ids": [],
         "products": [], "account_ids": [], "regions": []}]
    assert "these settings would create 3 tickets" in printed
    [entry] = store.audit_of(tenant.id, TENANT_EVENTS)
    assert entry.action == "update_settings" and list(entry.after or {}) == ["policy.rules"]
    assert entry.before == {"policy.rules": []}


def test_a_new_project_is_checked_in_jira_first_and_a_failed_check_stores_nothing(
    store: FakeStore, tenant: Tenant, tmp_path: Path
) -> None:
    jira = NoProjectJira()
    remote = Remote(lambda _: jira, lambda _: jira, never("Security Hub"), 200)
    printed: list[str] = []

    with pytest.raises(TenantAdminRefused, match=r"not saved: the project check failed \(project and issue type"):
        update_tenant(store, remote, "acme", TenantUpdate(policy_file=policy_file(tmp_path, {"project_key": "NEW"})),
                      printed.append)
    assert "no project NEW" in printed[0]
    assert saved(store, tenant).policy == POLICY
    assert store.audit_of(tenant.id, TENANT_EVENTS) == []


def test_jira_that_cannot_be_asked_about_a_new_project_stores_nothing(
    store: FakeStore, tenant: Tenant, tmp_path: Path
) -> None:
    jira = NoProjectJira(down=True)
    remote = Remote(lambda _: jira, lambda _: jira, never("Security Hub"), 200)

    with pytest.raises(CannotCheckProject, match="Jira could not be asked about project NEW"):
        update_tenant(store, remote, "acme", TenantUpdate(policy_file=policy_file(tmp_path, {"project_key": "NEW"})),
                      print)
    assert saved(store, tenant).policy == POLICY


def test_a_new_role_is_counted_through_that_role_and_saved_when_security_hub_cannot_tell(
    store: FakeStore, tenant: Tenant
) -> None:
    asked: list[str | None] = []

    def unreadable(through: Tenant) -> Any:
        asked.append(through.aws_role_arn)
        raise SecurityHubUnavailable("AccessDenied: not authorized to perform sts:AssumeRole")

    printed: list[str] = []
    remote = Remote(never("the project check"), never("the project check"), unreadable, 200)
    assert update_tenant(store, remote, "acme", TenantUpdate(role_arn=OTHER_ROLE, region="us-east-1"),
                         printed.append) == 0

    assert asked == [OTHER_ROLE]
    assert printed[0].startswith("could not count the tickets these settings would create (AccessDenied")
    after = saved(store, tenant)
    assert (after.aws_role_arn, after.aggregation_region) == (OTHER_ROLE, "us-east-1")
    [entry] = store.audit_of(tenant.id, TENANT_EVENTS)
    assert entry.before == {"aws_role_arn": ROLE, "aggregation_region": "eu-west-1"}
    assert entry.after == {"aws_role_arn": OTHER_ROLE, "aggregation_region": "us-east-1"}
    assert f"  aws_role_arn: {ROLE} -> {OTHER_ROLE}" in printed

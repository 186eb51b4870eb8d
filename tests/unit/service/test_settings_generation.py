"""A tenant's Security Hub generation in its settings: read back with the generations that can be chosen, refused
when unknown, kept when a form does not name one, and the one Test connection probes."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from hubsync.domain.ports import AwsRoles, ConnectionReport, ProbeStep
from hubsync.domain.tenant import AuthMode, JiraFlavour, SecurityHubGeneration, Tenant
from hubsync.service.settings import (
    AwsSettings,
    InvalidSettings,
    check_connection,
    parse_aws_settings,
    parse_settings,
    read_settings,
    save_settings,
)
from tests.fakes.clock import FakeClock
from tests.fakes.store import FakeStore

AWS = {"roleArn": "arn:aws:iam::111122223333:role/hubsync-securityhub", "aggregationRegion": "eu-west-1"}
POLICY = {"project_key": "SEC"}


def _tenant(**values: Any) -> Tenant:
    return Tenant(id="t1", name="acme", jira_base_url="https://acme.atlassian.net", jira_flavour=JiraFlavour.CLOUD,
                  auth_mode=AuthMode.API_TOKEN, external_id="external-id", aws_role_arn=AWS["roleArn"],
                  aggregation_region="eu-west-1", **values)


def test_a_new_tenant_syncs_with_security_hub_cspm() -> None:
    assert _tenant().securityhub_generation is SecurityHubGeneration.CSPM


def test_the_settings_report_the_generation_and_both_that_can_be_chosen() -> None:
    body = read_settings(_tenant(), "https://hubsync.example.com")
    assert body["securityhub"] == {"generation": "cspm", "generations": ["cspm", "v2"]}


def test_the_settings_report_a_stored_v2() -> None:
    body = read_settings(_tenant(securityhub_generation=SecurityHubGeneration.V2), "https://hubsync.example.com")
    assert body["securityhub"] == {"generation": "v2", "generations": ["cspm", "v2"]}


def test_a_form_may_name_cspm() -> None:
    parsed = parse_settings({"aws": {**AWS, "securityhubGeneration": "cspm"}, "policy": POLICY})
    assert parsed.aws.securityhub_generation is SecurityHubGeneration.CSPM


def test_a_form_that_names_no_generation_leaves_it_unset() -> None:
    assert parse_settings({"aws": AWS, "policy": POLICY}).aws.securityhub_generation is None


@pytest.mark.parametrize(("value", "message"), [
    ("V2", "'V2' is not a Security Hub generation (one of: cspm, v2)"),
    ("asff", "'asff' is not a Security Hub generation (one of: cspm, v2)"),
    (2, "must be text"),
])
def test_an_unknown_generation_is_refused_at_its_field(value: Any, message: str) -> None:
    with pytest.raises(InvalidSettings) as refused:
        parse_settings({"aws": {**AWS, "securityhubGeneration": value}, "policy": POLICY})
    assert refused.value.fields == {"aws.securityhubGeneration": [message]}


def test_v2_is_accepted() -> None:
    parsed = parse_aws_settings({**AWS, "securityhubGeneration": "v2"})
    assert parsed.securityhub_generation is SecurityHubGeneration.V2


def _saved(store: FakeStore, tenant_id: str) -> Tenant:
    with store.read() as uow:
        tenant = uow.tenants.get(tenant_id)
    assert tenant is not None
    return tenant


def test_saving_stores_a_named_generation_and_keeps_the_tenants_when_none_is_named() -> None:
    store = FakeStore(FakeClock())
    with store.transaction() as uow:
        tenant = uow.tenants.create(name="acme", jira_base_url="https://acme.atlassian.net",
                                    jira_flavour=JiraFlavour.CLOUD, auth_mode=AuthMode.API_TOKEN)

    save_settings(store, tenant.id, parse_settings({"aws": {**AWS, "securityhubGeneration": "v2"}, "policy": POLICY}))
    assert _saved(store, tenant.id).securityhub_generation is SecurityHubGeneration.V2

    save_settings(store, tenant.id, parse_settings({"aws": AWS, "policy": POLICY}))
    assert _saved(store, tenant.id).securityhub_generation is SecurityHubGeneration.V2


class RecordingAws:
    """An AwsSetupPort that records which generation it was asked to probe."""

    def __init__(self) -> None:
        self.generations: list[SecurityHubGeneration] = []

    def check_connection(self, tenant: Tenant, roles: AwsRoles, owner_tag: str,
                         generation: SecurityHubGeneration = SecurityHubGeneration.CSPM) -> ConnectionReport:
        self.generations.append(generation)
        return ConnectionReport([ProbeStep("probe", True, "")])

    def ensure_action_target(self, tenant: Tenant, region: str) -> tuple[str, bool]:
        raise AssertionError("not part of Test connection")


def test_test_connection_probes_the_forms_generation_or_else_the_tenants() -> None:
    aws = RecordingAws()
    v2_tenant = _tenant(securityhub_generation=SecurityHubGeneration.V2)
    form = AwsSettings(AWS["roleArn"], None, "eu-west-1")

    check_connection(v2_tenant, aws)
    check_connection(v2_tenant, aws, form)
    check_connection(v2_tenant, aws, dataclasses.replace(form, securityhub_generation=SecurityHubGeneration.CSPM))
    check_connection(_tenant(), aws, form)

    assert aws.generations == [SecurityHubGeneration.V2, SecurityHubGeneration.V2, SecurityHubGeneration.CSPM,
                               SecurityHubGeneration.CSPM]

"""The "Send to Jira" custom action set up through a tenant's assumed role, against the sandbox (moto's STS, the
Security Hub simulator, responses checked against botocore's model): created once and found after, the printed
EventBridge pattern selecting the events the action really emits, the configure page's route and the CLI."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from hubsync.adapters import aws_setup
from hubsync.adapters.aws_setup import AwsSetup
from hubsync.adapters.store.crypto import SANDBOX_SECRET_KEY
from hubsync.bootstrap import bootstrap
from hubsync.cli import main
from hubsync.config import Settings
from hubsync.domain.ports import ACTION_ID, ACTION_NAME, CustomActionFailed
from hubsync.domain.tenant import APP_KEY, AuthMode, JiraFlavour, SecurityHubGeneration, Tenant, TenantNotReady
from hubsync.service.custom_action import setup_custom_action
from hubsync.service.intake import API_KEY_HEADER, parse_events
from hubsync.web import create_app
from hubsync_sandbox.demo import Demo, running_demo
from hubsync_sandbox.jira import seed
from hubsync_sandbox.jira.world import InstalledApp
from tests.fixtures.sandbox import SandboxContracts
from tests.unit.web.jira_requests import CLIENT_KEY, SHARED_SECRET, RecordingQueue, context_token, jwt_header

BASE_URL = "https://hubsync.example.com"


@pytest.fixture(scope="module")
def demo(sandbox_contracts: SandboxContracts) -> Iterator[Demo]:
    with running_demo(say=lambda _: None, wrap=sandbox_contracts.wrap) as running:
        yield running


@pytest.fixture(autouse=True)
def no_action_targets(demo: Demo) -> Iterator[None]:
    """Each test starts without custom actions in the administrator account."""
    yield
    client = demo.sandbox.securityhub_client()
    for target in client.describe_action_targets()["ActionTargets"]:
        client.delete_action_target(ActionTargetArn=target["ActionTargetArn"])


def demo_tenant(demo: Demo) -> Tenant:
    with demo.store.read() as uow:
        return uow.tenants.get(demo.ctx.tenant_id)


def action_targets(demo: Demo) -> list[dict[str, Any]]:
    return demo.sandbox.securityhub_client().describe_action_targets()["ActionTargets"]


def test_the_action_is_created_once_and_found_afterwards(demo: Demo) -> None:
    tenant = demo_tenant(demo)

    first = setup_custom_action(tenant, BASE_URL, AwsSetup())
    again = setup_custom_action(tenant, BASE_URL, AwsSetup())

    assert (first.created, again.created) == (True, False)
    assert first.action_target_arn == again.action_target_arn
    account = demo.sandbox.aws_world.security_account.id
    region = tenant.aggregation_region
    assert first.action_target_arn == f"arn:aws:securityhub:{region}:{account}:action/custom/{ACTION_ID}"
    assert [t["Name"] for t in action_targets(demo)] == [ACTION_NAME]
    assert first.events_url == f"{BASE_URL}/events/securityhub/{tenant.id}"


def test_an_action_with_hubsyncs_id_made_elsewhere_is_reused(demo: Demo) -> None:
    arn = demo.sandbox.securityhub_client().create_action_target(
        Name="Send to Jira", Id=ACTION_ID, Description="made by hand")["ActionTargetArn"]
    setup = setup_custom_action(demo_tenant(demo), BASE_URL, AwsSetup())
    assert (setup.action_target_arn, setup.created) == (arn, False)


def test_a_setup_that_loses_the_race_to_another_finds_the_winners_action(demo: Demo) -> None:
    """Another setup creates the action between our look and our create: Security Hub's conflict is no error."""
    real = demo.sandbox.securityhub_client()

    class AnotherSetupInBetween:
        def __init__(self) -> None:
            self.looks = 0

        def describe_action_targets(self, **request: Any) -> dict[str, Any]:
            response = real.describe_action_targets(**request)
            self.looks += 1
            if self.looks == 1:
                real.create_action_target(Name=ACTION_NAME, Id=ACTION_ID, Description="the other setup")
            return response

        def create_action_target(self, **request: Any) -> dict[str, Any]:
            return real.create_action_target(**request)

    arn, created = aws_setup._ensure_action_target(AnotherSetupInBetween())
    assert created is False and arn.endswith(f":action/custom/{ACTION_ID}")
    assert len(action_targets(demo)) == 1


def test_the_printed_pattern_selects_the_events_the_action_emits(demo: Demo) -> None:
    setup = setup_custom_action(demo_tenant(demo), BASE_URL, AwsSetup())
    finding = demo._unmatched_live_finding(demo.sandbox.aws_world.workload_accounts[1].id)

    [event] = demo.sandbox.securityhub.trigger_custom_action(
        setup.action_target_arn, [{"Id": finding.id, "ProductArn": finding.product_arn}])

    pattern = setup.event_pattern
    assert event["source"] in pattern["source"]
    assert event["detail-type"] in pattern["detail-type"]
    assert set(event["resources"]) <= set(pattern["resources"])
    [parsed] = parse_events(event)  # and the intake takes it, as a by-hand escalation
    assert parsed.source.value == "securityhub.custom-action"
    assert parsed.findings[0].identifier == finding.identifier
    instructions = setup.instructions()
    assert setup.action_target_arn in instructions and API_KEY_HEADER in instructions
    assert f"POST {setup.events_url}" in instructions


def test_a_tenant_without_aws_settings_or_with_a_region_security_hub_does_not_serve(demo: Demo) -> None:
    tenant = demo_tenant(demo)
    with pytest.raises(TenantNotReady, match="save the Security Hub role ARN"):
        setup_custom_action(dataclasses.replace(tenant, aws_role_arn=None), BASE_URL, AwsSetup())
    elsewhere = dataclasses.replace(tenant, aggregation_region="ap-southeast-2")
    with pytest.raises(CustomActionFailed, match="Security Hub"):
        setup_custom_action(elsewhere, BASE_URL, AwsSetup())
    assert action_targets(demo) == []


def test_a_tenant_on_the_new_security_hub_is_told_to_use_the_escalation_tag(demo: Demo) -> None:
    v2 = dataclasses.replace(demo_tenant(demo), securityhub_generation=SecurityHubGeneration.V2)
    with pytest.raises(TenantNotReady, match=r"new Security Hub, which has no custom actions.*#jira"):
        setup_custom_action(v2, BASE_URL, AwsSetup())
    assert action_targets(demo) == []


# -- the configure page's button -------------------------------------------------------------------------------


@pytest.fixture
def web(demo: Demo) -> Iterator[tuple[FlaskClient, Tenant]]:
    """hubsync's app on the demo's store, installed as a Connect app on the simulated Jira Cloud site, with a tenant
    that uses the demo's AWS roles."""
    aws = demo_tenant(demo)
    site = demo.sandbox.jira_cloud
    site.connect_apps[APP_KEY] = InstalledApp(APP_KEY, BASE_URL, CLIENT_KEY, SHARED_SECRET, {"name": "hubsync"})
    with demo.store.transaction() as uow:
        tenant = uow.tenants.create(
            name="sandbox site", jira_base_url=site.base_url, jira_flavour=JiraFlavour.CLOUD,
            auth_mode=AuthMode.CONNECT, jira_secret=SHARED_SECRET, connect_client_key=CLIENT_KEY,
            aws_role_arn=aws.aws_role_arn, aggregation_region=aws.aggregation_region, external_id=aws.external_id,
        )
    settings = Settings.from_environment({"HUBSYNC_BASE_URL": BASE_URL, "HUBSYNC_SECRET_KEY": SANDBOX_SECRET_KEY})
    app = create_app(bootstrap(settings, store=demo.store, queue=RecordingQueue()))
    try:
        yield app.test_client(), tenant
    finally:
        site.connect_apps.pop(APP_KEY, None)
        with demo.store.transaction() as uow:
            uow.tenants.delete(tenant.id)


def as_user(demo: Demo, email: str) -> dict[str, str]:
    user = demo.sandbox.jira_cloud.user_by_email(email)
    assert user is not None
    return jwt_header(context_token(sub=user.account_id))


def test_the_configure_pages_button_creates_then_shows_the_action(demo: Demo, web) -> None:
    client, tenant = web
    headers = as_user(demo, seed.SANDBOX_JIRA_ADMIN_EMAIL)

    created = client.post("/api/v1/settings/custom-action", headers=headers)
    shown = client.post("/api/v1/settings/custom-action", headers=headers)

    assert (created.status_code, shown.status_code) == (201, 200)
    assert created.json["created"] is True and shown.json["created"] is False
    assert created.json["actionTargetArn"] == shown.json["actionTargetArn"]
    assert created.json["eventPattern"]["resources"] == [created.json["actionTargetArn"]]
    assert created.json["target"] == {"endpoint": f"{BASE_URL}/events/securityhub/{tenant.id}",
                                      "httpMethod": "POST", "apiKeyHeader": API_KEY_HEADER}
    assert client.post("/api/v1/settings/custom-action").status_code == 401  # the iframe's token is required
    developer = client.post("/api/v1/settings/custom-action", headers=as_user(demo, "alice@example.com"))
    assert developer.status_code == 403  # a Jira administrator's button only


# -- `hubsync aws setup-action` ------------------------------------------------------------------------------------


def test_the_cli_creates_the_action_and_prints_the_rule(demo: Demo, monkeypatch, capsys) -> None:
    monkeypatch.setenv("HUBSYNC_DATABASE_URL", demo.store.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("HUBSYNC_SECRET_KEY", SANDBOX_SECRET_KEY)
    monkeypatch.setenv("HUBSYNC_BASE_URL", BASE_URL)
    tenant = demo_tenant(demo)

    assert main(["aws", "setup-action", "--tenant", tenant.name]) == 0
    printed = capsys.readouterr().out
    assert main(["aws", "setup-action", "--tenant", "no such tenant"]) == 2

    [target] = action_targets(demo)
    assert f"(created): {target['ActionTargetArn']}" in printed
    assert '"Security Hub Findings - Custom Action"' in printed
    assert f"POST {BASE_URL}/events/securityhub/{tenant.id}" in printed

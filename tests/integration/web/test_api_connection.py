"""The configure page's "Test connection" and the panel's live read, against the sandbox's AWS (moto's STS and
Organizations, the Security Hub simulator) with the demo's tenant."""

from __future__ import annotations

from hubsync.adapters.aws_setup import AwsSetup
from hubsync.bootstrap import TenantClients
from hubsync.domain.tenant import SecurityHubGeneration
from hubsync.service.panel import panel_view
from hubsync.service.settings import AwsSettings, check_connection
from hubsync.service.sync import sync_findings
from hubsync_sandbox.demo import Demo


def _tenant(demo: Demo):
    with demo.store.read() as uow:
        [tenant] = uow.tenants.list()
    return tenant


def test_a_working_connection_passes_every_step(demo: Demo) -> None:
    report = check_connection(_tenant(demo), AwsSetup())

    assert report.ok
    assert [step.to_json()["status"] for step in report.steps] == ["ok", "ok", "ok"]
    assume, finding, tag = report.steps
    assert ":assumed-role/" in assume.detail
    assert finding.detail.startswith("read ")
    assert "SecurityContactID" in tag.detail or "has no SecurityContactID tag" in tag.detail


def test_a_region_security_hub_does_not_serve_fails_at_its_step(demo: Demo) -> None:
    tenant = _tenant(demo)
    settings = AwsSettings(tenant.aws_role_arn or "", None, "ap-southeast-2")

    report = check_connection(tenant, AwsSetup(), settings).to_json()

    assert report["ok"] is False
    assert [step["status"] for step in report["steps"]] == ["ok", "failed", "skipped"]
    assert report["steps"][1]["detail"]  # Security Hub's own reason
    assert report["steps"][2]["detail"].startswith("skipped: no Organizations role saved")


def test_with_no_finding_to_name_an_account_the_tag_step_reads_the_administrator_accounts_own(demo: Demo) -> None:
    """A new Security Hub has no findings yet; the Organizations role may read tags but not list accounts."""
    tenant = _tenant(demo)
    settings = AwsSettings(tenant.aws_role_arn or "", tenant.organizations_role_arn, "ap-southeast-2")

    report = check_connection(tenant, AwsSetup(), settings).to_json()

    administrator = (tenant.aws_role_arn or "").split(":")[4]
    assert [step["status"] for step in report["steps"]] == ["ok", "failed", "ok"]
    assert report["steps"][2]["detail"].startswith(f"account {administrator}")


def _v2_settings(demo: Demo) -> AwsSettings:
    tenant = _tenant(demo)
    return AwsSettings(tenant.aws_role_arn or "", tenant.organizations_role_arn, tenant.aggregation_region or "",
                       SecurityHubGeneration.V2)


def test_the_new_security_hub_passes_every_step(demo: Demo) -> None:
    report = check_connection(_tenant(demo), AwsSetup(), _v2_settings(demo))

    assert [(step.name, step.to_json()["status"]) for step in report.steps] == [
        ("Assume the Security Hub role", "ok"), ("See that the new Security Hub is enabled", "ok"),
        ("Read one finding (OCSF)", "ok"), ("Read one account tag", "ok")]
    assert report.ok
    _, enabled, finding, tag = report.steps
    assert ":hubv2/" in enabled.detail
    assert finding.detail.startswith("read ")
    account = finding.detail.rsplit("(", 1)[1].split(",")[0]
    assert tag.detail.startswith(f"account {account}")  # the account of the OCSF finding read


def test_the_new_security_hub_not_enabled_is_named(demo: Demo) -> None:
    settings = _v2_settings(demo)
    demo.sandbox.securityhub.set_v2_enabled(False, region=settings.aggregation_region)

    report = check_connection(_tenant(demo), AwsSetup(), settings).to_json()

    assert report["ok"] is False
    assert [step["status"] for step in report["steps"]] == ["ok", "failed", "skipped", "ok"]
    assert report["steps"][1]["detail"].startswith(
        f"the new Security Hub is not enabled in {settings.aggregation_region}")


def test_the_panel_reads_the_linked_finding_through_the_tenants_role(demo: Demo, new_critical_finding) -> None:
    [outcome] = sync_findings(demo.ctx, [new_critical_finding])
    assert outcome.ticket_key
    tenant = _tenant(demo)

    view = panel_view(tenant, demo.store, outcome.ticket_key, TenantClients(demo.store).sync_context)

    assert view["state"] == "linked"
    assert view["finding"]["id"] == new_critical_finding.id
    assert view["finding"]["workflowStatus"] == "NOTIFIED"
    assert view["finding"]["accountName"]  # from AWS Organizations, through the tenant's second role
    assert view["timeline"][-1]["ticketKey"] == outcome.ticket_key

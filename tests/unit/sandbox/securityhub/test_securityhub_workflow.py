"""Security Hub's automatic workflow changes when a provider re-imports a finding."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.securityhub import SecurityHubSandbox, control_finding, identifier, make_finding


def workflow_after(
    sandbox: SecurityHubSandbox, finding: dict[str, Any], set_status: str | None, reimport: dict[str, Any]
) -> str:
    """Import `finding`, let the customer set `set_status`, re-import with `reimport` changes; the new status."""
    client = sandbox.client()
    client.batch_import_findings(Findings=[finding])
    if set_status:
        client.batch_update_findings(FindingIdentifiers=[identifier(finding)], Workflow={"Status": set_status})
    client.batch_import_findings(Findings=[{**finding, "UpdatedAt": "2025-05-02T00:00:00Z", **reimport}])
    [stored] = client.get_findings(Filters={"Id": [{"Value": finding["Id"], "Comparison": "EQUALS"}]})["Findings"]
    return stored["Workflow"]["Status"]


@pytest.mark.parametrize(("before", "after"), [("NOTIFIED", "NEW"), ("RESOLVED", "NEW"), ("SUPPRESSED", "SUPPRESSED"),
                                                ("NEW", "NEW")])
def test_archived_finding_made_active_again(securityhub: SecurityHubSandbox, before: str, after: str) -> None:
    finding = make_finding(RecordState="ARCHIVED")
    assert workflow_after(securityhub, finding, before, {"RecordState": "ACTIVE"}) == after


@pytest.mark.parametrize("new_compliance", ["FAILED", "WARNING", "NOT_AVAILABLE"])
@pytest.mark.parametrize(("before", "after"), [("NOTIFIED", "NEW"), ("RESOLVED", "NEW"), ("SUPPRESSED", "SUPPRESSED")])
def test_passed_control_failing_again(
    securityhub: SecurityHubSandbox, new_compliance: str, before: str, after: str
) -> None:
    finding = control_finding(status="PASSED")
    compliance = {**finding["Compliance"], "Status": new_compliance}
    assert workflow_after(securityhub, finding, before, {"Compliance": compliance}) == after


@pytest.mark.parametrize(("before", "after"), [("NEW", "RESOLVED"), ("NOTIFIED", "RESOLVED"),
                                                ("SUPPRESSED", "SUPPRESSED")])
def test_control_turning_passed_is_resolved(securityhub: SecurityHubSandbox, before: str, after: str) -> None:
    finding = control_finding(status="FAILED")
    compliance = {**finding["Compliance"], "Status": "PASSED"}
    assert workflow_after(securityhub, finding, before, {"Compliance": compliance}) == after


def test_a_control_finding_created_passed_starts_resolved(securityhub: SecurityHubSandbox) -> None:
    client = securityhub.client()
    passed, failed = control_finding(status="PASSED"), control_finding(status="FAILED")
    client.batch_import_findings(Findings=[passed, failed])
    statuses = {f["Compliance"]["Status"]: f["Workflow"]["Status"] for f in client.get_findings()["Findings"]}
    assert statuses == {"PASSED": "RESOLVED", "FAILED": "NEW"}


def test_plain_reimports_keep_the_customer_workflow(securityhub: SecurityHubSandbox) -> None:
    finding = control_finding(status="FAILED")
    assert workflow_after(securityhub, finding, "NOTIFIED", {"Title": "retitled"}) == "NOTIFIED"
    still_passed = control_finding(status="PASSED")
    assert workflow_after(securityhub, still_passed, "NOTIFIED", {}) == "NOTIFIED"


def test_a_finding_archived_by_its_provider_keeps_its_workflow(securityhub: SecurityHubSandbox) -> None:
    finding = make_finding()
    assert workflow_after(securityhub, finding, "NOTIFIED", {"RecordState": "ARCHIVED"}) == "NOTIFIED"

"""An account switches to consolidated control findings: Security Hub re-issues each control finding with a new
Id and archives the old one. The ticket follows the new finding; no second ticket, no wrong close."""

from __future__ import annotations

import uuid

from hubsync.domain.finding import FindingIdentifier, WorkflowStatus
from hubsync.domain.ticket import Disposition
from hubsync.service.reconcile import reconcile
from hubsync.service.sync import sync_hints
from hubsync_sandbox.demo import Demo


def per_standard_critical(demo: Demo) -> dict:
    """A seeded per-standard control finding the demo's policy escalates (the seed issues them in one Region)."""
    return next(
        f for f in demo.sandbox.findings_seeded
        if ":subscription/" in f["Id"] and f["Severity"]["Label"] == "CRITICAL"
        and f["RecordState"] == "ACTIVE" and f["Compliance"]["Status"] == "FAILED"
    )


def test_the_ticket_follows_the_reissued_finding(demo: Demo) -> None:
    old = per_standard_critical(demo)
    region, account = old["Resources"][0]["Region"], old["AwsAccountId"]
    control = old["Compliance"]["SecurityControlId"]
    client = demo.sandbox.securityhub_client(region)
    [created] = sync_hints(demo.ctx, [_identifier(old)])
    ticket_key = created.ticket_key
    assert ticket_key

    new = {
        **old,
        "Id": f"arn:aws:securityhub:{region}:{account}:security-control/{control}/finding/{uuid.uuid4()}",
        "GeneratorId": f"security-control/{control}",
        "Compliance": {**old["Compliance"], "AssociatedStandards": [{"StandardsId": "standards/cis"}]},
    }
    archived = {
        **old,
        "RecordState": "ARCHIVED",
        "ProductFields": {**old["ProductFields"],
                          "ArchivalReasons:0/ReasonCode": "CONSOLIDATED_CONTROL_FINDINGS_UPDATE"},
    }
    assert client.batch_import_findings(Findings=[new])["FailedCount"] == 0
    [adopted] = sync_hints(demo.ctx, [_identifier(new)])
    assert client.batch_import_findings(Findings=[archived])["FailedCount"] == 0
    sync_hints(demo.ctx, [_identifier(old)])

    assert adopted.ticket_key == ticket_key and "CreateTicket" not in adopted.actions
    current = demo.ctx.securityhub.get([_identifier(new)])[_identifier(new).key]
    assert current.workflow_status is WorkflowStatus.NOTIFIED
    assert current.user_defined_fields["jiraIssue"] == ticket_key
    ticket = demo.ctx.jira.get_tickets([ticket_key])[ticket_key]
    assert demo.ctx.policy.disposition_of(ticket) is Disposition.OPEN  # the old finding's archive closed nothing
    assert demo.world.get_property(ticket_key, "hubsync.finding")["id"] == new["Id"]
    reconcile(demo.ctx)  # onboard the rest of the sandbox: neither finding gets another ticket
    assert reconcile(demo.ctx).changed == []
    with demo.store.read() as uow:
        assert uow.links.get(demo.ctx.tenant_id, _identifier(new).key).ticket_key == ticket_key
        assert uow.links.get_by_ticket(demo.ctx.tenant_id, ticket_key).finding_id == new["Id"]


def _identifier(data: dict) -> FindingIdentifier:
    return FindingIdentifier(data["Id"], data["ProductArn"])

"""The ticket's key reaches Security Hub where the plan names the ticket, and nowhere else: a finding whose title
reads "{ticket}" keeps it in the ticket's summary and comment, while its note and `jiraIssue` name the ticket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hubsync.domain.finding import Finding
from hubsync.service.sync import sync_findings, sync_hints
from hubsync_sandbox.demo import Demo
from hubsync_sandbox.jira.adf import plain_text

HOSTILE_TITLE = "Bucket {ticket} should block {ticket}lic access"


def test_a_title_reading_ticket_reaches_jira_as_it_is(demo: Demo, new_critical_finding: Finding) -> None:
    finding = new_critical_finding
    [created] = sync_findings(demo.ctx, [finding])
    key = created.ticket_key
    assert created.error is None and key

    original = next(data for data in demo.sandbox.findings_seeded if data["Id"] == finding.id)
    later = max(finding.updated_at, datetime.now(UTC)) + timedelta(seconds=1)
    retitled = {**original, "Title": HOSTILE_TITLE, "UpdatedAt": later.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"}
    imported = demo.sandbox.securityhub_client(original["Resources"][0]["Region"]).batch_import_findings(
        Findings=[retitled]
    )
    assert imported["FailedCount"] == 0, imported["FailedFindings"]

    [updated] = sync_hints(demo.ctx, [finding.identifier])

    assert updated.error is None and updated.rule == 12
    issue = demo.world.get_issue(key)
    assert issue.summary.endswith(f":: {HOSTILE_TITLE}")
    assert f"\u201c{HOSTILE_TITLE}\u201d" in plain_text(issue.comments[-1].body)
    current = demo.ctx.securityhub.get([finding.identifier])[finding.key]
    assert current.title == HOSTILE_TITLE
    assert current.user_defined_fields["jiraIssue"] == key and key in (current.note_text or "")

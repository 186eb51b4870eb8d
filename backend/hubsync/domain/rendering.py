"""The ticket hubsync writes for a finding (`render_ticket`), as a `document.Document` both Jira flavours show, and
the finding's status as the issue glance draws it (`workflow_lozenge`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from hubsync.domain.document import Document, Paragraph, SpanLike, bold, bullets, code, heading, link, paragraph
from hubsync.domain.finding import Finding, WorkflowStatus, marker_label
from hubsync.domain.policy import Policy
from hubsync.domain.ticket import Disposition
from hubsync.domain.urls import safe_link

SUMMARY_LIMIT = 255  # Jira refuses longer summaries
REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$")
CONSOLE_HOSTS = {"aws-us-gov": "console.amazonaws-us-gov.com", "aws-cn": "console.amazonaws.cn"}
STANDARD_NAMES = {
    "aws-foundational-security-best-practices": "AWS Foundational Security Best Practices",
    "cis-aws-foundations-benchmark": "CIS AWS Foundations Benchmark",
    "nist-800-53": "NIST SP 800-53",
    "pci-dss": "PCI DSS",
    "aws-resource-tagging-standard": "AWS Resource Tagging Standard",
    "service-managed-aws-control-tower": "AWS Control Tower",
}


@dataclass(frozen=True)
class RenderedTicket:
    summary: str
    description: Document
    priority: str | None
    labels: tuple[str, ...]


def render_ticket(finding: Finding, policy: Policy) -> RenderedTicket:
    """The ticket as created for a finding: one template for both Jira flavours."""
    labels = tuple(dict.fromkeys((*policy.labels, marker_label(finding.key))))
    return RenderedTicket(
        summary=ticket_summary(finding),
        description=ticket_description(finding, policy),
        priority=policy.priorities.get(finding.severity),
        labels=labels,
    )


def ticket_summary(finding: Finding) -> str:
    """`AWS Security Issue :: <account> :: <region> :: <title>`, on one line and within Jira's 255 characters."""
    summary = " ".join(f"AWS Security Issue :: {finding.account_id} :: {finding.region} :: {finding.title}".split())
    return summary if len(summary) <= SUMMARY_LIMIT else summary[: SUMMARY_LIMIT - 1].rstrip() + "\u2026"


def console_url(finding: Finding) -> str:
    """The finding in the Security Hub console of its partition. The search value is percent-encoded twice, as
    the console expects (its search string is itself URL-encoded in the fragment). The host names the region only
    when it looks like one: the finding's `Region` must not decide where the link goes."""
    regional = f"{finding.region}.console.aws.amazon.com" if REGION.match(finding.region) else "console.aws.amazon.com"
    host = CONSOLE_HOSTS.get(finding.partition, regional)
    region = quote(finding.region, safe="")
    if finding.comment_only:  # the new Security Hub's console, whose link to one finding AWS does not document
        return f"https://{host}/securityhub/v2/home?region={region}"
    search_value = quote(quote(finding.id, safe=""), safe="")
    return (
        f"https://{host}/securityhub/home?region={region}"
        f"#/findings?search=Id%3D%255Coperator%255C%253AEQUALS%255C%253A{search_value}"
    )


def standard_name(standards_id: str) -> str:
    """`standards/aws-foundational-security-best-practices/v/1.0.0` → `AWS Foundational Security Best Practices
    v1.0.0`; an unknown id is shown as it is."""
    match = re.match(r"^(?:standards|ruleset)/([^/]+)/v/([^/]+)$", standards_id)
    if not match or match[1] not in STANDARD_NAMES:
        return standards_id
    return f"{STANDARD_NAMES[match[1]]} v{match[2]}"


def ticket_description(finding: Finding, policy: Policy) -> Document:
    account = finding.account_id + (f" ({finding.account_name})" if finding.account_name else "")
    facts: list[list[SpanLike]] = [
        [bold("Severity: "), finding.severity.value],
        [bold("AWS account: "), code(finding.account_id),
         *([f" ({finding.account_name})"] if finding.account_name else [])],
        [bold("Region: "), code(finding.region)],
        [bold("Reported by: "), finding.product_name or finding.product_arn],
    ]
    if finding.security_control_id:
        facts.append([bold("Control: "), code(finding.security_control_id)])
    if finding.standards:
        facts.append([bold("Standards: "), ", ".join(standard_name(s) for s in finding.standards)])
    resources: list[list[SpanLike]] = [[code(resource.id), f" ({resource.type})"] for resource in finding.resources]
    remediation = [
        paragraph(finding.remediation_text) if finding.remediation_text else None,
        paragraph(link("Remediation guide", url)) if (url := safe_link(finding.remediation_url)) else None,
    ]
    return Document.of(
        heading("What is the problem?"),
        paragraph(
            f"Security Hub reports a {finding.severity.value.lower()} severity finding, ",
            bold(finding.title), f", in AWS account {account}, Region {finding.region}. This ticket tracks it.",
        ),
        bullets(*facts),
        heading("Resources", 3),
        bullets(*resources),
        heading("Details", 3),
        paragraph(finding.description),
        heading("How to fix it", 3) if any(remediation) else None,
        *remediation,
        _console_link(finding),
        heading("What do I need to do with this ticket?"),
        bullets(*_workflow_guidance(policy)),
        paragraph(
            "The label ", code(marker_label(finding.key)), " ties this ticket to its finding: please keep it.",
        ),
    )


def _console_link(finding: Finding) -> Paragraph:
    if finding.comment_only:
        return paragraph(link("Open the new Security Hub console", console_url(finding)),
                         ": under Inventory, Findings, look for the finding ", code(finding.id), ".")
    return paragraph(link("Open the finding in Security Hub", console_url(finding)))


def _workflow_guidance(policy: Policy) -> list[list[SpanLike]]:
    fixed = _statuses(policy, Disposition.FIXED) or "a done status"
    accepted = _statuses(policy, Disposition.ACCEPTED)
    false_positive = _statuses(policy, Disposition.FALSE_POSITIVE)
    steps: list[list[SpanLike]] = [
        ["Check the resources above and fix the configuration. Move the ticket along the workflow while you work."],
        [f"When it is fixed, move the ticket to {fixed}. hubsync marks the finding resolved; if Security Hub "
         "still reports it at its next check, the ticket reopens."],
    ]
    if accepted:
        steps.append([f"To accept the risk instead, move the ticket to {_quoted(policy.risk_request_status)}: "
                      f"a security engineer reviews it and approves ({accepted}), and hubsync suppresses the "
                      "finding in Security Hub."])
    if false_positive:
        steps.append([f"If the finding is a false positive, say why in a comment; once a security engineer confirms "
                      f"it ({false_positive}), hubsync suppresses the finding as a false positive."])
    return steps


def _statuses(policy: Policy, disposition: Disposition) -> str:
    names = [_quoted(name) for name, mapped in policy.status_dispositions.items() if mapped is disposition]
    return " or ".join(names)


def _quoted(status: str) -> str:
    return f"\u201c{status[:1].upper()}{status[1:]}\u201d"


@dataclass(frozen=True)
class Lozenge:
    """A status lozenge as Atlassian draws it: `appearance` is one of default, inprogress, moved, new, removed,
    success."""

    label: str
    appearance: str


_WORKFLOW_APPEARANCE = {
    WorkflowStatus.NEW: "new",
    WorkflowStatus.NOTIFIED: "inprogress",
    WorkflowStatus.SUPPRESSED: "moved",
    WorkflowStatus.RESOLVED: "success",
}


def workflow_lozenge(workflow: WorkflowStatus) -> Lozenge:
    """What the issue glance shows of the finding: its workflow status in Security Hub."""
    return Lozenge(workflow.value, _WORKFLOW_APPEARANCE[workflow])

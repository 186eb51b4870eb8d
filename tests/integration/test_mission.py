"""The mission end to end, on both Jira flavours, on SQLite and PostgreSQL, with Security Hub CSPM and with the new
Security Hub (V2, OCSF): every scenario of `hubsync demo` converges, and what each side shows afterwards is what a
security team expects to read there. On Data Center hubsync runs as there in production, told by its admin webhook
and Security Hub's events alone; the new Security Hub runs on Data Center here, and on Jira Cloud through the
installed Forge app in test_mission_forge.py."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from hubsync.bootstrap import GLANCE_STATUS_PROPERTY
from hubsync.domain.finding import WorkflowStatus
from hubsync.service.reconcile import reconcile
from hubsync_sandbox.demo import Demo, ScenarioResult, running_demo, scenario_table
from hubsync_sandbox.jira import seed as jira_seed
from tests.fixtures.postgres import fresh_schema
from tests.fixtures.sandbox import SandboxContracts


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema on the test PostgreSQL server, dropped afterwards."""
    with fresh_schema("hubsync_mission", "the PostgreSQL run of the mission needs a server") as url:
        yield url


def play(demo: Demo) -> list[ScenarioResult]:
    demo.onboard()
    results = demo.run_scenarios()
    failed = [r.scenario for r in results if not r.ok]
    assert not failed, f"scenarios that did not converge: {failed}\n{scenario_table(results)}"
    return results


# The new Security Hub on Jira Cloud runs through the installed Forge app (test_mission_forge.py), which proves its
# events path too; a directly configured Cloud tenant on it would add a run and prove nothing more.
def test_every_scenario_converges(sandbox_contracts: SandboxContracts) -> None:
    with running_demo(flavour="cloud", say=lambda _: None, wrap=sandbox_contracts.wrap) as demo:
        play(demo)
        _decisions_are_explained_on_both_sides(demo)
        the_other_generation_is_untouched(demo)


# Both generations, and both of Data Center's webhook dialects at no extra run: 10.x signs its deliveries, 9.x
# carries hubsync's token in the URL.
@pytest.mark.parametrize(("securityhub", "jira_version"), [("cspm", None), ("v2", "9.12.0")])
def test_every_scenario_converges_on_data_center_through_its_admin_webhook(
    securityhub: str, jira_version: str | None, sandbox_contracts: SandboxContracts
) -> None:
    """hubsync as a Data Center customer runs it: its web app and worker, the tenant syncing with its own PAT, the
    webhook registered once by the site's Jira administrator. Every scenario is reached by the webhook's deliveries
    (each answered 204 at once) and Security Hub's events: the worker's periodic reconcile never ran."""
    with running_demo(flavour="datacenter", say=lambda _: None, wrap=sandbox_contracts.wrap, platform="webhook",
                      securityhub=securityhub, jira_version=jira_version) as demo:
        results = play(demo)
        _decisions_are_explained_on_both_sides(demo)
        the_other_generation_is_untouched(demo)

        assert demo.hubsync is not None and demo.hubsync.periodic_reconciles == []
        deliveries = demo.hubsync.admin_webhook_deliveries()
        assert deliveries and all(d["statuses"] == [204] for d in deliveries), deliveries[:3]
        assert {d["signed"] for d in deliveries} == {jira_version is None}
        moved_by_people = [r.ticket for r in results if r.scenario.startswith(("ticket ", "Accepted false"))]
        assert len(moved_by_people) == 3 and set(moved_by_people) <= {d["issueKey"] for d in deliveries}
        with demo.store.read() as uow:
            tenant = uow.tenants.get(demo.ctx.tenant_id)
        assert tenant is not None and tenant.jira_webhook.webhook_id is not None
        assert tenant.jira_secret == jira_seed.SANDBOX_JIRA_PAT  # the administrator's PAT registered, never kept


def test_every_scenario_converges_through_the_installed_app(sandbox_contracts: SandboxContracts) -> None:
    """hubsync as in production: installed from its descriptor URL, told by Jira's webhooks and Security Hub's
    events, its worker syncing what they name; the glance shows each finding's status."""
    with running_demo(flavour="cloud", say=lambda _: None, wrap=sandbox_contracts.wrap, platform="connect") as demo:
        assert demo.hubsync is not None and demo.ctx.tenant_id == demo.hubsync.tenant.id
        play(demo)
        _decisions_are_explained_on_both_sides(demo)
        assert demo.sandbox.forge.installed() == [] and demo.sandbox.forge.deliveries() == []  # Connect only

        jira = demo.sandbox.jira_cloud_server.url
        deliveries = requests.get(f"{jira}/_sandbox/connect/deliveries", timeout=10).json()["deliveries"]
        webhooks = [d for d in deliveries if "/connect/webhooks/" in d.get("url", "")]
        assert webhooks and all(d.get("status") == 204 for d in webhooks), webhooks[:3]
        suppressed = next(iter(demo.ctx.securityhub.findings(
            {"WorkflowStatus": [{"Value": "SUPPRESSED", "Comparison": "EQUALS"}]})))
        issue = demo.world.issues[demo.ticket_key_of(suppressed) or ""]
        assert issue.properties[GLANCE_STATUS_PROPERTY] == {"type": "lozenge",
                                                            "value": {"label": "SUPPRESSED", "type": "moved"}}


@pytest.mark.postgres
def test_every_scenario_converges_on_postgresql(postgres_url: str, sandbox_contracts: SandboxContracts) -> None:
    with running_demo(flavour="cloud", database_url=postgres_url, say=lambda _: None,
                      wrap=sandbox_contracts.wrap) as demo:
        play(demo)


def test_onboarding_is_bulk_and_a_second_reconcile_only_reads(sandbox_contracts: SandboxContracts) -> None:
    with running_demo(flavour="cloud", say=lambda _: None, wrap=sandbox_contracts.wrap) as demo:
        jira = demo.ctx.jira
        report = demo.onboard()
        created = sum(1 for o in report.outcomes if "CreateTicket" in o.actions)
        assert created > 50  # more than one bulk request's worth
        counts = jira.request_counts
        assert counts.get("create_tickets", 0) == -(-created // 50)  # ceil: 50 tickets a request
        assert counts.get("get_tickets", 0) == 0  # the pairs it just made are not read back in the same reconcile

        before = dict(jira.request_counts)
        second = reconcile(demo.ctx)
        assert second.changed == [] and second.failed == []
        after = jira.request_counts
        used = {op for op in after if after[op] != before.get(op, 0)}
        assert used <= {"get_tickets", "linked_tickets"}, f"a converged reconcile did more than read Jira: {used}"


def test_a_default_assignment_says_why_in_the_ticket(sandbox_contracts: SandboxContracts) -> None:
    with running_demo(flavour="cloud", say=lambda _: None, wrap=sandbox_contracts.wrap) as demo:
        demo.onboard()
        untagged = next(a for a in demo.sandbox.aws_world.workload_accounts if a.name == "legacy-sandbox")
        keys = demo.world.search_keys("labels = hubsync-unassigned")
        assert keys
        texts = [json.dumps(demo.world.get_issue(key).description) for key in keys]  # ADF on Cloud
        assert any(f"AWS account {untagged.id} has no SecurityContactID tag" in text for text in texts)
        assert "comment" not in demo.ctx.jira.request_counts  # said in the create call, at no extra request


def _decisions_are_explained_on_both_sides(demo: Demo) -> None:
    """Who accepted the risk, in which ticket, is on the finding; every decision is in the audit timeline; every
    notified finding names its ticket (CSPM: `jiraIssue`; the new Security Hub: its comment)."""
    suppressed = [
        f for f in demo.ctx.securityhub.findings({"WorkflowStatus": [{"Value": "SUPPRESSED", "Comparison": "EQUALS"}]})
    ]
    assert suppressed, "the risk scenarios suppressed nothing"
    for finding in suppressed:
        ticket = demo.ticket_key_of(finding)
        assert ticket and demo.names_ticket(finding, ticket), (ticket, finding.note_text)
        assert ticket in (finding.note_text or "")
        assert "Sofia Security" in (finding.note_text or ""), finding.note_text
        assert finding.note_updated_by == (None if demo.v2 else "hubsync")  # V2 findings carry no note author
    with demo.store.read() as uow:
        link = next(iter(uow.links.iter_links(demo.ctx.tenant_id)))
        timeline = uow.audit.for_finding(demo.ctx.tenant_id, link.finding_key)
    assert timeline and timeline[0].rule == 1
    notified = list(demo.ctx.securityhub.findings(
        {"WorkflowStatus": [{"Value": "NOTIFIED", "Comparison": "EQUALS"}]}))
    assert notified
    unnamed = [f.id for f in notified if f.workflow_status is not WorkflowStatus.NOTIFIED
               or not demo.names_ticket(f, demo.ticket_key_of(f) or "(no link)")]
    assert not unnamed, unnamed


def the_other_generation_is_untouched(demo: Demo) -> None:
    """A tenant reads and writes only the findings of the Security Hub it syncs with: the records of the same
    problems in the other generation, running beside it (ASFF in Security Hub CSPM, OCSF in the new Security Hub),
    carry no note or comment of hubsync's."""
    if demo.v2:
        written = [f["Id"] for f in demo.sandbox.securityhub.findings.snapshot() if "Note" in f]
    else:
        pages = demo.sandbox.securityhub_client().get_paginator("get_findings_v2").paginate()
        written = [f["metadata"]["uid"] for page in pages for f in page["Findings"] if "comment" in f]
    assert not written, written[:3]

"""A tenant moves from Security Hub CSPM to the new Security Hub: each ticket follows its finding's OCSF twin.
No ticket is closed because the CSPM finding is no longer read, none is opened twice, and a finding the new
Security Hub has no twin of leaves its ticket alone and says why."""

from __future__ import annotations

from dataclasses import replace

from hubsync.adapters.securityhub.common import NO_TWIN
from hubsync.bootstrap import build_sync_context
from hubsync.domain.finding import Finding, WorkflowStatus, names_ticket
from hubsync.domain.tenant import SecurityHubGeneration
from hubsync.domain.ticket import Disposition
from hubsync.service.reconcile import reconcile
from hubsync.service.sync import SyncContext
from hubsync_sandbox.demo import Demo


def moved_to_v2(demo: Demo) -> SyncContext:
    """The admin picks the new Security Hub on the configure page: the tenant is saved so, its context rebuilt."""
    with demo.store.transaction() as uow:
        tenant = uow.tenants.get(demo.ctx.tenant_id)
        assert tenant is not None
        moved = uow.tenants.update(replace(tenant, securityhub_generation=SecurityHubGeneration.V2))
    return build_sync_context(moved, demo.store)


def test_every_ticket_follows_its_findings_twin_without_a_second_ticket_or_a_close(demo: Demo) -> None:
    onboarded = reconcile(demo.ctx)
    assert not onboarded.failed
    with demo.store.read() as uow:
        before = {link.ticket_key: link for link in uow.links.iter_links(demo.ctx.tenant_id) if link.ticket_key}
    assert before and all("::product/" in link.product_arn for link in before.values())
    issues_before = len(demo.world.search_keys("project = SEC"))

    v2 = moved_to_v2(demo)
    first = reconcile(v2)

    assert not first.failed, [o.error for o in first.failed][:3]
    assert len(demo.world.search_keys("project = SEC")) == issues_before  # no second ticket
    with demo.store.read() as uow:
        after = {link.ticket_key: link for link in uow.links.iter_links(v2.tenant_id) if link.ticket_key}
    assert set(after) == set(before)  # every ticket still linked, now to the twin
    assert all("::productv2/" in link.product_arn for link in after.values())
    twins = v2.securityhub.get([link.identifier for link in after.values()])
    for key, link in after.items():
        twin: Finding = twins[link.finding_key]
        ticket = v2.jira.get_tickets([key])[key]
        assert v2.policy.disposition_of(ticket) is Disposition.OPEN, key  # nothing closed by the move
        assert twin.workflow_status is WorkflowStatus.NOTIFIED and names_ticket(twin.note_text, key)
        assert demo.world.get_property(key, "hubsync.finding")["id"] == twin.id
    assert reconcile(v2).changed == []


def test_a_finding_without_a_twin_keeps_its_ticket_and_says_why(demo: Demo) -> None:
    reconcile(demo.ctx)
    with demo.store.read() as uow:
        link = next(link for link in uow.links.iter_links(demo.ctx.tenant_id) if link.ticket_key)
    cspm = demo.ctx.securityhub.get([link.identifier])[link.finding_key]
    twins = demo.sandbox.securityhub.ocsf_findings
    twin = twins.find(cspm.account_id, cspm.id, cspm.product_arn.replace("::product/", "::productv2/"))
    assert twin is not None
    twins.remove(twin["metadata"]["uid"])  # the new Security Hub never ingested this one

    v2 = moved_to_v2(demo)
    report = reconcile(v2)

    [failed] = report.failed
    assert failed.ticket_key == link.ticket_key and failed.error == NO_TWIN
    ticket = v2.jira.get_tickets([link.ticket_key])[link.ticket_key]
    assert v2.policy.disposition_of(ticket) is Disposition.OPEN

"""The mission through Forge: hubsync installed on the Jira Cloud simulator as a Forge app (Forge Remote) from the
project's manifest, every Jira change reaching it only as Forge's product events, its Jira calls made with the app
system token Forge hands it, at the site's API gateway; no Connect install and no Connect webhook in the run. And
an app token too short-lived to use makes the tenant's hints wait, until the hourly trigger brings a fresh one."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests
import sqlalchemy as sa
from prometheus_client import REGISTRY

from hubsync.adapters.store.models import LinkRow
from hubsync.domain.finding import Finding, WorkflowStatus
from hubsync.domain.link import Link
from hubsync.domain.tenant import AuthMode, Tenant
from hubsync.service.reconcile import reconcile
from hubsync_sandbox.demo import SECURITY_ENGINEER, Demo, running_demo
from hubsync_sandbox.forge import SANDBOX_APP_ID
from hubsync_sandbox.forge.tokens import MAX_LIFETIME_S
from tests.fixtures.postgres import fresh_schema
from tests.fixtures.sandbox import SandboxContracts
from tests.integration.test_mission import (
    _decisions_are_explained_on_both_sides,
    play,
    the_other_generation_is_untouched,
)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with fresh_schema("hubsync_mission_forge", "the PostgreSQL run of the Forge mission needs a server") as url:
        yield url


@pytest.mark.parametrize("securityhub", ["cspm", "v2"])
def test_every_scenario_converges_through_forge(securityhub: str, sandbox_contracts: SandboxContracts) -> None:
    """On the new Security Hub too: its Findings Imported V2 events tell hubsync of the provider's changes and of
    the "#jira" comment a security engineer sets in the console."""
    with running_demo(flavour="cloud", say=lambda _: None, wrap=sandbox_contracts.wrap, platform="forge",
                      securityhub=securityhub) as demo:
        play(demo)
        _decisions_are_explained_on_both_sides(demo)
        _only_forge_told_hubsync(demo)
        _securityhub_told_hubsync(demo)
        the_other_generation_is_untouched(demo)

        suppressed = next(iter(demo.ctx.securityhub.findings(
            {"WorkflowStatus": [{"Value": "SUPPRESSED", "Comparison": "EQUALS"}]})))
        key = demo.ticket_key_of(suppressed) or ""
        panel = demo.sandbox.forge.invoke("hubsync-panel", f"/api/v1/panel?issueKey={key}", user=SECURITY_ENGINEER,
                                          issue_key=key)  # what the Forge panel's invokeRemote gets
        assert panel["status"] == 200, panel
        assert panel["body"]["state"] == "linked"
        assert panel["body"]["finding"]["workflowStatus"] == "SUPPRESSED"


@pytest.mark.postgres
def test_every_scenario_converges_through_forge_on_postgresql(postgres_url: str,
                                                              sandbox_contracts: SandboxContracts) -> None:
    with running_demo(flavour="cloud", database_url=postgres_url, say=lambda _: None, wrap=sandbox_contracts.wrap,
                      platform="forge") as demo:
        play(demo)
        _only_forge_told_hubsync(demo)


def test_a_lost_link_is_rebuilt_from_the_indexed_marker_even_without_labels(
    sandbox_contracts: SandboxContracts,
) -> None:
    """The Forge manifest indexes `hubsync.finding` for JQL, so hubsync finds its tickets by that property, as
    under Connect, not by labels a person may remove: a ticket whose labels were cleared and whose link the
    database lost is found and linked again by the next reconcile."""
    with running_demo(flavour="cloud", say=lambda _: None, wrap=sandbox_contracts.wrap, platform="forge") as demo:
        demo.onboard()
        assert demo.hubsync is not None
        link = next(link for link in _links(demo) if link.ticket_key)
        person = demo.world.user_by_email(SECURITY_ENGINEER)
        assert person is not None
        demo.world.edit_issue(link.ticket_key, {"labels": []}, person)
        demo.hubsync.settle()
        assert demo.world.get_issue(link.ticket_key).labels == []
        with demo.store.engine.begin() as connection:  # a database restored from before the link was written
            connection.execute(sa.delete(LinkRow).where(LinkRow.finding_key == link.finding_key))

        report = reconcile(demo.ctx)

        assert not report.failed
        assert any("RebuildLink" in o.actions and o.ticket_key == link.ticket_key for o in report.outcomes)
        with demo.store.read() as uow:
            rebuilt = uow.links.get(demo.ctx.tenant_id, link.finding_key)
        assert rebuilt is not None and rebuilt.ticket_key == link.ticket_key


def test_an_expired_app_token_makes_hints_wait_until_the_hourly_trigger(sandbox_contracts: SandboxContracts) -> None:
    """Forge hands hubsync only tokens too close to their end (the knob: 2 minutes, under hubsync's 5-minute
    margin), and the one it held has expired: a ticket's change reaches hubsync (2xx) but its hint waits, neither
    synced nor dropped. The hourly trigger then brings a token with hours left, and the hint syncs."""
    with running_demo(flavour="cloud", say=lambda _: None, wrap=sandbox_contracts.wrap, platform="forge") as demo:
        demo.onboard()
        hubsync, forge = demo.hubsync, demo.sandbox.forge
        assert hubsync is not None
        finding = next(f for f in demo.ctx.securityhub.findings(
            {"WorkflowStatus": [{"Value": "NOTIFIED", "Comparison": "EQUALS"}]}) if f.is_live)
        key = finding.user_defined_fields["jiraIssue"]
        waiting_before = _hints_waiting()

        forge.configure(app_token_lifetime_s=120)
        forge.expire_tokens()
        forge.forget_deliveries()
        _click(demo, key, "Request risk acceptance", "Approve risk")
        assert forge.wait_idle(10)
        events = forge.deliveries()
        assert events and all(d.kind == "product-event" and d.outcome == "delivered" for d in events), events
        deadline = time.monotonic() + 10
        while _hints_waiting() == waiting_before and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _hints_waiting() > waiting_before, "the worker did not report the tenant's hints waiting"
        tenant = _tenant(demo)
        assert tenant.jira_secret_expires_at is not None
        assert tenant.jira_secret_expires_at.timestamp() < time.time() + 180  # hubsync holds the short token
        assert hubsync.queue.depth() > 0  # the hint is kept, not dropped
        assert _workflow_status(demo, finding) is WorkflowStatus.NOTIFIED

        forge.configure(app_token_lifetime_s=MAX_LIFETIME_S)
        forge.forget_deliveries()
        forge.fire_scheduled()
        assert forge.wait_idle(10)
        [hourly] = forge.deliveries()
        assert (hourly.kind, hourly.module_key, hourly.outcome, hourly.status) == (
            "scheduled", "hubsync-hourly", "delivered", 204)
        fresh = _tenant(demo).jira_secret_expires_at
        assert fresh is not None and fresh.timestamp() > time.time() + 3600
        hubsync.settle(timeout=60)  # the hint's next try (the outage backoff) finds a usable token
        assert _workflow_status(demo, finding) is WorkflowStatus.SUPPRESSED


def _only_forge_told_hubsync(demo: Demo) -> None:
    """The tenant is the Forge installation's; Forge's calls were made and answered 2xx at the first attempt;
    hubsync's own writes (as the app's user, through the API gateway) came back as no event (ignoreSelf); and
    Connect played no part: no app installed, no webhook or lifecycle call delivered."""
    assert demo.hubsync is not None and demo.hubsync.platform == "forge"
    forge = demo.sandbox.forge
    installation = demo.hubsync.forge_installation
    assert installation is not None and installation.app_id == SANDBOX_APP_ID
    tenant = _tenant(demo)
    assert tenant.id == demo.ctx.tenant_id == demo.hubsync.tenant.id
    assert tenant.auth_mode is AuthMode.FORGE
    assert tenant.forge_installation_id == installation.installation_id
    assert tenant.forge_cloud_id == forge.cloud_id
    assert tenant.jira_base_url == forge.api_base_url

    assert forge.wait_idle(10)
    deliveries = forge.deliveries()
    assert all(d.installation_id == installation.installation_id for d in deliveries)
    not_2xx = [d.to_json() for d in deliveries
               if d.outcome != "delivered" or any(not 200 <= (a.status or 0) < 300 for a in d.attempts)]
    assert not not_2xx, not_2xx[:3]
    kinds = {(d.kind, d.event_type) for d in deliveries}
    assert ("lifecycle", "avi:forge:installed:app") in kinds
    assert ("product-event", "avi:jira:updated:issue") in kinds  # the people's transitions
    assert ("product-event", "avi:jira:created:issue") not in kinds  # every ticket is hubsync's own: no news to it
    app_user = installation.app_user.account_id
    linked = [link.ticket_key for link in _links(demo) if link.ticket_key]
    assert linked and all(demo.world.issues[key].creator.account_id == app_user for key in linked)

    assert demo.world.connect_apps == {}
    jira = demo.sandbox.jira_cloud_server.url
    assert requests.get(f"{jira}/_sandbox/connect/deliveries", timeout=10).json()["deliveries"] == []


def _securityhub_told_hubsync(demo: Demo) -> None:
    """Security Hub's events reached hubsync's endpoint, each delivered: only those of the generation the tenant
    syncs with (CSPM's Imported and Custom Action, or the new Security Hub's Findings Imported V2)."""
    delivered = {record["event"]["detail-type"] for record in demo.sandbox.securityhub.events.events()
                 if any(d["status"] == "delivered" for target, d in record["deliveries"].items()
                        if target.startswith("http"))}
    expected = {"Findings Imported V2"} if demo.v2 else {"Security Hub Findings - Imported",
                                                         "Security Hub Findings - Custom Action"}
    assert delivered == expected
    assert demo.sandbox.securityhub.events.dead_letter() == []


def _click(demo: Demo, key: str, *transitions: str) -> None:
    actor = demo.world.user_by_email(SECURITY_ENGINEER)
    assert actor is not None
    for name in transitions:
        transition = next(t for t in demo.world.transitions(key) if t.name == name)
        demo.world.transition_issue(key, transition.id, actor)


def _tenant(demo: Demo) -> Tenant:
    with demo.store.read() as uow:
        tenant = uow.tenants.get(demo.ctx.tenant_id)
    assert tenant is not None
    return tenant


def _links(demo: Demo) -> list[Link]:
    with demo.store.read() as uow:
        return list(uow.links.iter_links(demo.ctx.tenant_id))


def _workflow_status(demo: Demo, finding: Finding) -> WorkflowStatus:
    """Read from Security Hub directly: the demo's Jira client holds the app token that has expired."""
    return demo.ctx.securityhub.get([finding.identifier])[finding.key].workflow_status


def _hints_waiting() -> float:
    return REGISTRY.get_sample_value("hubsync_hints_waiting_total", {"reason": "forge_token"}) or 0.0

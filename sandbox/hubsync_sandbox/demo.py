"""`hubsync demo`: the whole mission on one machine — the sandbox, a tenant, a reconcile, and the scenarios a
security team lives through, each checked against what both sides show afterwards.

The demo plays the people: a security engineer approving risk in Jira, a developer resolving a ticket, a
provider archiving or re-raising a finding, someone sending a finding to Jira by hand in the Security Hub console
(the custom action in Security Hub CSPM; on the new Security Hub, which has none, a comment starting "#jira").

`securityhub` picks the generation the tenant syncs with: "cspm" (ASFF findings, GetFindings/BatchUpdateFindings)
or "v2" (the OCSF twins of the same findings, GetFindingsV2/BatchUpdateFindingsV2). The scenarios are the same; what
differs is how a person or a provider acts on a finding and where the finding names its ticket (CSPM: the
`jiraIssue` user-defined field; V2, which has none: its comment), in a few small helpers.

hubsync runs as in production (see `connected.py`), its web app and worker: on Jira Cloud installed as a Forge
app from its manifest (`platform="forge"`: told of each change by Forge's product events) or as a Connect app from
its descriptor URL (`platform="connect"`: by Jira's webhooks); on Data Center (no apps) with the tenant's PAT and
the admin webhook a Jira administrator registered (`platform="webhook"`: by its deliveries). Security Hub's events
tell it of the findings' side. The worker's periodic reconcile is set far beyond the demo's length there, so every
scenario is reached through those events alone. Without a platform, the tenant is configured directly and told
the way such an event would tell it, by a hint naming the finding or ticket. Either way a final reconcile must find
nothing left to do.
"""

from __future__ import annotations

import json
import re
import shlex
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from hubsync.adapters.aws_setup import AwsSetup
from hubsync.adapters.securityhub.asff import parse_finding
from hubsync.adapters.store import Store, upgrade
from hubsync.bootstrap import build_sync_context, jira_workflow_admin, open_store
from hubsync.config import Settings
from hubsync.domain import risk_workflow as risk
from hubsync.domain.finding import Finding, WorkflowStatus
from hubsync.domain.tenant import APP_KEY, AuthMode, JiraFlavour, SecurityHubGeneration
from hubsync.domain.ticket import Disposition, Ticket
from hubsync.service.custom_action import setup_custom_action
from hubsync.service.reconcile import ReconcileReport, reconcile
from hubsync.service.settings import generation_name
from hubsync.service.sync import SyncContext, sync_hints, sync_tickets
from hubsync.service.workflow_setup import CLI_WAIT_S, SetupOutcome, SetupPlan, setup_risk_workflow
from hubsync_sandbox.connected import PLATFORMS, InstalledHubsync, datacenter_hubsync, installed_hubsync
from hubsync_sandbox.forge.host import configure_page_path
from hubsync_sandbox.jira import seed as jira_seed
from hubsync_sandbox.jira.world import JiraWorld
from hubsync_sandbox.runner import AGGREGATION_REGION, Sandbox, WsgiWrapper

PROJECT = "SEC"
OPS_PROJECT = "OPS"  # the seeded stock To Do / In Progress / Done project
SECURITY_ENGINEER = "sofia.security@example.com"
DEVELOPER = "alice@example.com"
ESCALATION_COMMENT = "#jira please fix"  # what a security engineer types on the new Security Hub's finding
GENERATIONS = {generation_name(generation): generation for generation in SecurityHubGeneration}
DemoPlatform = Literal["forge", "connect", "webhook"]  # Cloud's apps; Data Center's admin webhook
# The worker's periodic reconcile on Data Center: far beyond any demo, so that every scenario it passes is one the
# webhook's deliveries and Security Hub's events reached; it stays the safety net of a long-running demo.
DEMO_RECONCILE_INTERVAL = timedelta(days=1)


@dataclass(frozen=True)
class ScenarioResult:
    scenario: str
    finding: str
    ticket: str
    finding_state: str
    ticket_status: str
    expected: str
    ok: bool


@dataclass(frozen=True)
class WebhookReport:
    """How the Data Center demo's hubsync learned of Jira's changes."""

    version: str  # the Data Center site's
    deliveries: int  # what the site posted to hubsync's admin webhook
    accepted: int  # answered 204 at the first attempt
    signed: int  # with X-Hub-Signature (Data Center 10+); the others carried hubsync's token in the URL
    periodic_reconciles: int  # the worker's periodic turns

    @property
    def through_webhooks(self) -> bool:
        return self.deliveries > 0 and self.accepted == self.deliveries and self.periodic_reconciles == 0

    @property
    def line(self) -> str:
        answers = "all 204" if self.accepted == self.deliveries else f"{self.accepted} answered 204 at once"
        periodic = ("no periodic reconcile ran" if not self.periodic_reconciles
                    else f"{self.periodic_reconciles} periodic reconciles ran")
        how = ("signed" if self.signed == self.deliveries else "with the URL token" if not self.signed
               else f"{self.signed} signed")
        return f"Data Center {self.version}: {self.deliveries} webhook deliveries ({how}), {answers}; {periodic}."


@dataclass
class Demo:
    """A running demo: the sandbox, the store, the tenant's context; `run_scenarios()` plays the mission."""

    sandbox: Sandbox
    flavour: str
    ctx: SyncContext
    store: Store
    say: Callable[[str], None]
    hubsync: InstalledHubsync | None = None  # hubsync's web app and worker, and how Jira tells it
    generation: SecurityHubGeneration = SecurityHubGeneration.CSPM

    @property
    def world(self) -> JiraWorld:
        return self.sandbox.jira_cloud if self.flavour == "cloud" else self.sandbox.jira_dc

    @property
    def v2(self) -> bool:
        return self.generation is SecurityHubGeneration.V2

    def ticket_key_of(self, finding: Finding) -> str | None:
        """The ticket hubsync linked the finding to (its link row), on either generation."""
        with self.store.read() as uow:
            link = uow.links.get(self.ctx.tenant_id, finding.key)
        return link.ticket_key if link is not None else None

    def names_ticket(self, finding: Finding, key: str) -> bool:
        """The finding says which ticket tracks it: in Security Hub CSPM its `jiraIssue` user-defined field; the new
        Security Hub has no such field, so its comment names the ticket."""
        if self.v2:
            return re.search(rf"(?<![\w-]){re.escape(key)}(?!\d)", finding.note_text or "") is not None
        return finding.user_defined_fields.get("jiraIssue") == key

    def onboard(self) -> ReconcileReport:
        report = reconcile(self.ctx, progress=None)
        self._tell(lambda: None)  # our own updates come back as Imported events: let them settle
        created = sum(1 for o in report.outcomes if "CreateTicket" in o.actions and not o.error)
        self.say(f"Reconcile: {report.findings_seen} new findings matched the rules, {created} tickets created, "
                 f"{len(report.failed)} failed.")
        return report

    def run_scenarios(self) -> list[ScenarioResult]:
        results = [
            self._new_finding_goes_to_the_account_owner(),
            self._untagged_account_goes_to_the_default_assignee(),
            self._risk_approved_suppresses_the_finding(),
            self._false_positive_suppresses_and_marks_it(),
            self._archived_finding_closes_the_ticket(),
            self._recurrence_reopens_the_ticket(),
            self._resolved_ticket_resolves_the_finding(),
            self._escalated_by_hand(),
        ]
        if self.flavour == "cloud":  # Data Center's REST API cannot create workflows (`hubsync jira workflow-xml`)
            results.append(self._risk_workflow_set_up_on_a_stock_project())
        self._tell(lambda: None)
        told = self.webhook_report()
        if told is not None:  # before the final reconcile, which is the demo's own, not the worker's
            self.say(told.line)
            results.append(ScenarioResult(
                "every change reached hubsync by webhook or event", "-", "-",
                f"{told.deliveries} deliveries, {told.accepted} 204", f"{told.periodic_reconciles} periodic reconciles",
                "all 204, no periodic reconcile", told.through_webhooks))
        final = reconcile(self.ctx)
        results.append(
            ScenarioResult(
                "final reconcile changes nothing", "-", "-", f"{len(final.changed)} changes",
                f"{len(final.failed)} failures", "0 changes, 0 failures",
                not final.changed and not final.failed,
            )
        )
        return results

    def where_to_look(self) -> str:
        """What a person can do next while the demo keeps running (hubsync's web app and worker react to it)."""
        if self.hubsync is None:
            raise RuntimeError("nothing reacts to what people change in a demo without hubsync running (a platform)")
        with self.store.read() as uow:
            keys = sorted({link.ticket_key for link in uow.links.iter_links(self.ctx.tenant_id) if link.ticket_key})
        jira = self.world.base_url
        example = keys[0] if keys else f"{PROJECT}-1"
        if self.hubsync.platform == "forge":
            panel = {"moduleKey": "hubsync-panel", "path": f"/api/v1/panel?issueKey={example}", "issueKey": example,
                     "user": SECURITY_ENGINEER}
            installation = self.hubsync.forge_installation
            shown = installation is not None and bool(installation.resource_dirs)
            how = [
                f"hubsync is installed in the simulated Jira as a Forge app (Forge Remote), serving on "
                f"{self.hubsync.app_url}.",
                f"{len(keys)} tickets are linked to findings. Open one in a browser"
                + (" and see its Security Hub panel, the Forge Custom UI" if shown else ":"),
                *(["(the built resource; its @forge/bridge is answered by the simulator's Forge host page):"]
                  if shown else []),
                f"  {jira}/browse/{example}?as={SECURITY_ENGINEER}",
                "Move it there (Request risk acceptance, then Approve risk): Forge's issue event tells hubsync, and",
                "the finding in Security Hub is SUPPRESSED within a second"
                + (" (reload: the panel shows it)." if shown else "."),
            ]
            if installation is not None and shown:
                how += ["The app's configure page (as a Jira admin), also through Forge:",
                        f"  {jira}{configure_page_path(installation)}?as={SECURITY_ENGINEER}"]
            else:
                how += ["The Custom UI resources are not built (`make forge-ui`), so the issue page shows no panel."]
            how += [
                "What the panel's invokeRemote call gets through Forge:",
                f"  curl -s -X POST {jira}/_sandbox/forge/invoke -H 'Content-Type: application/json' \\",
                f"    -d {shlex.quote(json.dumps(panel))}",
                "Every call Forge made to hubsync (events, lifecycle, hourly trigger), attempt by attempt:",
                f"  curl -s {jira}/_sandbox/forge/deliveries",
            ]
        elif self.hubsync.platform == "datacenter":
            how = [
                f"hubsync serves on {self.hubsync.app_url}; its admin webhook on the Data Center site tells it of "
                "every change to its tickets.",
                f"{len(keys)} tickets are linked to findings. Open one in a browser:",
                f"  {jira}/browse/{example}?as={SECURITY_ENGINEER}",
                "Move it there (Request risk acceptance, then Approve risk): the webhook's delivery tells hubsync,",
                "and the finding in Security Hub is SUPPRESSED within a second. Every delivery, attempt by attempt:",
                f"  curl -s {jira}/_sandbox/admin-webhooks/deliveries",
            ]
        else:
            how = [
                f"hubsync is installed in the simulated Jira as an app, serving on {self.hubsync.app_url}.",
                f"{len(keys)} tickets are linked to findings. Open one in a browser and see its Security Hub panel:",
                f"  {jira}/browse/{example}?as={SECURITY_ENGINEER}",
                "Move it there (Request risk acceptance, then Approve risk) and reload: Jira's webhook has told",
                "hubsync, and the panel shows the finding SUPPRESSED. The app's configure page (as a Jira admin):",
                f"  {jira}/plugins/servlet/ac/{APP_KEY}/hubsync-configure?as={SECURITY_ENGINEER}",
            ]
        lines = [
            "",
            *how,
            "Security Hub and the rest of the sandbox:",
            "",
            *(f"  export {name}={value}" for name, value in self.sandbox.environment().items()),
            "",
            "Press Ctrl-C to stop.",
        ]
        return "\n".join(lines)

    def webhook_report(self) -> WebhookReport | None:
        """On Data Center with hubsync running: the admin webhook's deliveries, and the periodic reconciles the
        worker ran (none, when every scenario was reached by events)."""
        if self.hubsync is None or self.hubsync.platform != "datacenter":
            return None
        deliveries = self.hubsync.admin_webhook_deliveries()
        return WebhookReport(version=self.world.version, deliveries=len(deliveries),
                             accepted=sum(1 for d in deliveries if d["statuses"] == [204]),
                             signed=sum(1 for d in deliveries if d["signed"]),
                             periodic_reconciles=len(self.hubsync.periodic_reconciles))

    # -- the scenarios -----------------------------------------------------------------------------
    def _new_finding_goes_to_the_account_owner(self) -> ScenarioResult:
        account = self._account("payments-prod")
        finding, ticket = self._ticketed(account.id)
        owner = self._jira_id(account.owner)
        ok = (ticket.assignee == owner and finding.workflow_status is WorkflowStatus.NOTIFIED
              and self.names_ticket(finding, ticket.key))
        return self._row("new finding → ticket for the account owner", finding, ticket,
                         f"assigned to {account.owner}, finding NOTIFIED", ok)

    def _untagged_account_goes_to_the_default_assignee(self) -> ScenarioResult:
        finding, ticket = self._ticketed(self._account("legacy-sandbox").id)
        ok = ticket.assignee == self._jira_id(jira_seed.SANDBOX_JIRA_DEFAULT_ASSIGNEE_EMAIL) and (
            "hubsync-unassigned" in ticket.labels
        )
        return self._row("untagged account → default assignee", finding, ticket,
                         "default assignee, label hubsync-unassigned", ok)

    def _risk_approved_suppresses_the_finding(self) -> ScenarioResult:
        finding, ticket = self._ticketed(self._account("payments-dev").id)
        self._click(ticket.key, SECURITY_ENGINEER, "Request risk acceptance", "Approve risk")
        self._tell(lambda: sync_tickets(self.ctx, [ticket.key]))
        finding, ticket = self._current(finding), self._ticket(ticket.key)
        ok = finding.workflow_status is WorkflowStatus.SUPPRESSED and "Risk accepted" in (finding.note_text or "")
        return self._row("ticket Risk approved → finding SUPPRESSED", finding, ticket, "SUPPRESSED, note", ok)

    def _false_positive_suppresses_and_marks_it(self) -> ScenarioResult:
        finding, ticket = self._ticketed(self._account("data-platform").id)
        self._click(ticket.key, SECURITY_ENGINEER, "Mark as false positive", "Accept false positive")
        self._tell(lambda: sync_tickets(self.ctx, [ticket.key]))
        finding, ticket = self._current(finding), self._ticket(ticket.key)
        if self.v2:  # no verification state in the new Security Hub: the comment says it
            marked = "false positive" in (finding.note_text or "").casefold()
            scenario, expected = "Accepted false positive → SUPPRESSED, said in the comment", "SUPPRESSED, comment"
        else:
            marked = finding.verification_state == "FALSE_POSITIVE"
            scenario, expected = "Accepted false positive → SUPPRESSED + FALSE_POSITIVE", "SUPPRESSED, FALSE_POSITIVE"
        ok = finding.workflow_status is WorkflowStatus.SUPPRESSED and marked
        return self._row(scenario, finding, ticket, expected, ok)

    def _archived_finding_closes_the_ticket(self) -> ScenarioResult:
        finding, ticket = self._ticketed(self._account("payments-prod").id, skip=1)
        self._archived_key = finding.key
        self._provider_reports(finding, archived=True)
        self._tell(lambda: sync_hints(self.ctx, [finding.identifier]))  # the Imported event names the finding
        finding, ticket = self._current(finding), self._ticket(ticket.key)
        ok = self._disposition(ticket) is Disposition.FIXED
        return self._row("finding archived → ticket closed", finding, ticket, "ticket in a done status", ok)

    def _recurrence_reopens_the_ticket(self) -> ScenarioResult:
        finding = self._finding_by_key(self._archived_key)
        self._provider_reports(finding, archived=False)
        self._tell(lambda: sync_hints(self.ctx, [finding.identifier]))
        finding = self._current(finding)
        ticket = self._ticket(self.ticket_key_of(finding) or "")
        ok = self._disposition(ticket) is Disposition.OPEN and finding.workflow_status is WorkflowStatus.NOTIFIED
        return self._row("finding recurs → ticket reopened", finding, ticket, "ticket open, finding NOTIFIED", ok)

    def _resolved_ticket_resolves_the_finding(self) -> ScenarioResult:
        finding, ticket = self._ticketed(self._account("payments-dev").id, skip=1)
        self._click(ticket.key, DEVELOPER, "Allocate for fix", "Mark for testing", "Mark as resolved")
        self._tell(lambda: sync_tickets(self.ctx, [ticket.key]))
        finding, ticket = self._current(finding), self._ticket(ticket.key)
        ok = finding.workflow_status is WorkflowStatus.RESOLVED
        return self._row("ticket Resolved → finding RESOLVED", finding, ticket, "RESOLVED", ok)

    def _escalated_by_hand(self) -> ScenarioResult:
        """A finding no rule escalates, sent to Jira by a person in the Security Hub console: CSPM's custom action
        (its event names the finding, and asks by hand), or on the new Security Hub a comment starting "#jira"
        (Findings Imported V2 tells hubsync of the update; the comment itself asks)."""
        finding = self._unmatched_live_finding(self._account("payments-dev").id)
        if self.v2:
            self._comment_in_console(finding, ESCALATION_COMMENT)
            self._tell(lambda: sync_hints(self.ctx, [finding.identifier]))
            scenario = f"comment {ESCALATION_COMMENT.split()[0]!r} on an unmatched finding → ticket"
        else:
            escalated = self._press_custom_action(finding)
            self._tell(lambda: sync_hints(self.ctx, [f.identifier for f in escalated],
                                          by_hand=frozenset(f.key for f in escalated)))
            scenario = "custom action on an unmatched finding → ticket"
        finding = self._current(finding)
        key = self.ticket_key_of(finding)
        ticket = self._ticket(key) if key else None
        ok = ticket is not None and finding.workflow_status is WorkflowStatus.NOTIFIED and (
            self.names_ticket(finding, ticket.key))
        return self._row(scenario, finding, ticket, "ticket created, finding names it", ok)

    def _risk_workflow_set_up_on_a_stock_project(self) -> ScenarioResult:
        """The stock To Do / In Progress / Done project OPS gets the risk workflow from `hubsync jira setup-workflow`'s
        service (as a Forge app, its own token; otherwise as the site's Jira administrator, her API token); then a
        finding escalated there goes request → risk approved, and is suppressed."""
        with self.store.read() as uow:
            tenant = uow.tenants.get(self.ctx.tenant_id)
        assert tenant is not None
        if tenant.auth_mode is not AuthMode.FORGE:  # a Connect app cannot; hubsync's bot is no administrator
            tenant = replace(tenant, auth_mode=AuthMode.API_TOKEN, jira_base_url=self.world.base_url,
                             jira_user=jira_seed.SANDBOX_JIRA_ADMIN_EMAIL,
                             jira_secret=jira_seed.SANDBOX_JIRA_ADMIN_API_TOKEN)
        outcome = setup_risk_workflow(tenant, jira_workflow_admin, OPS_PROJECT, dry_run=False, wait_s=CLI_WAIT_S)
        again = setup_risk_workflow(tenant, jira_workflow_admin, OPS_PROJECT, dry_run=True, wait_s=CLI_WAIT_S)
        set_up = isinstance(outcome, SetupOutcome) and outcome.ok and isinstance(again, SetupPlan) and (
            again.already_set_up)
        steps = len(outcome.outcomes) if isinstance(outcome, SetupOutcome) and set_up else 0
        self.say(f"{OPS_PROJECT} set up with the risk workflow: {steps} steps, "
                 f"then a second run: {'already set up' if set_up else 'NOT set up'}.")

        ops = replace(self.ctx, policy=replace(self.ctx.policy, project_key=OPS_PROJECT))
        finding = self._unmatched_live_finding(self._account("payments-prod").id)
        sync_hints(ops, [finding.identifier], by_hand=frozenset({finding.key}))  # escalated into OPS by hand
        self._tell(lambda: None)
        key = self.ticket_key_of(finding) or ""
        request = next(t for t in risk.TRANSITIONS
                       if t.source == risk.INITIAL and risk.status(t.target).name == risk.RISK_REQUEST_STATUS)
        approve = next(t for t in risk.TRANSITIONS
                       if t.source == request.target and risk.status(t.target).disposition is Disposition.ACCEPTED)
        self._click(key, SECURITY_ENGINEER, request.name, approve.name)
        self._tell(lambda: sync_tickets(ops, [key]))
        finding, ticket = self._current(finding), self._ticket(key)
        ok = set_up and key.startswith(f"{OPS_PROJECT}-") and finding.workflow_status is WorkflowStatus.SUPPRESSED
        return self._row(f"{OPS_PROJECT} set up with the risk workflow → risk approved → SUPPRESSED", finding, ticket,
                         "set up once, SUPPRESSED", ok)

    # -- helpers -----------------------------------------------------------------------------------
    def _tell(self, sync: Callable[[], object]) -> None:
        """hubsync learns of what just changed: with hubsync running (an app on Jira Cloud, the admin webhook on
        Data Center), from Jira's webhook or event or Security Hub's event (wait until the worker has synced it);
        without, by the hint such an event would carry."""
        if self.hubsync is not None:
            self.hubsync.settle()
        else:
            sync()

    def _account(self, name: str):
        world = self.sandbox.aws_world
        assert world is not None
        return next(a for a in world.workload_accounts if a.name == name)

    def _ticketed(self, account_id: str, skip: int = 0) -> tuple[Finding, Ticket]:
        """A finding of the account that onboarding gave a ticket (the `skip`th one, for distinct scenarios)."""
        with self.store.read() as uow:
            tickets = {link.finding_key: (link.identifier, link.ticket_key)
                       for link in uow.links.iter_links(self.ctx.tenant_id) if link.ticket_key}
        current = self.ctx.securityhub.get([identifier for identifier, _ in tickets.values()])
        mine = sorted((f for f in current.values() if f.account_id == account_id and f.is_live), key=lambda f: f.id)
        finding = mine[skip]
        return finding, self._ticket(tickets[finding.key][1])

    def _unmatched_live_finding(self, account_id: str) -> Finding:
        filters = {
            "AwsAccountId": [{"Value": account_id, "Comparison": "EQUALS"}],
            "WorkflowStatus": [{"Value": "NEW", "Comparison": "EQUALS"}],
            "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}],
            "SeverityLabel": [{"Value": "MEDIUM", "Comparison": "EQUALS"}],
        }
        return next(f for f in self.ctx.securityhub.findings(filters) if f.is_live)

    def _current(self, finding: Finding) -> Finding:
        return self.ctx.securityhub.get([finding.identifier])[finding.key]

    def _finding_by_key(self, key: str) -> Finding:
        with self.store.read() as uow:
            link = uow.links.get(self.ctx.tenant_id, key)
        assert link is not None
        return self.ctx.securityhub.get([link.identifier])[key]

    def _ticket(self, key: str) -> Ticket:
        return self.ctx.jira.get_tickets([key])[key]

    def _disposition(self, ticket: Ticket) -> Disposition:
        return self.ctx.policy.disposition_of(ticket)

    def _jira_id(self, email: str | None) -> str | None:
        user = self.world.user_by_email(email or "")
        if user is None:
            return None
        return user.account_id if self.flavour == "cloud" else user.name

    def _click(self, ticket_key: str, who: str, *transitions: str) -> None:
        """What a person does on the issue page: pick each transition by its name, in order."""
        actor = self.world.user_by_email(who)
        assert actor is not None
        for name in transitions:
            transition = next(t for t in self.world.transitions(ticket_key) if t.name == name)
            self.world.transition_issue(ticket_key, transition.id, actor)

    def _provider_reports(self, finding: Finding, archived: bool) -> None:
        """The provider reports the finding again, archived (its resource is gone) or active (the problem is back):
        in CSPM a new evaluation imported with a later UpdatedAt; in the new Security Hub the OCSF finding closed,
        or reopened as New, with a later modified time."""
        if self.v2:
            securityhub = self.sandbox.securityhub
            (securityhub.archive_ocsf if archived else securityhub.recur_ocsf)(finding.id)
            return
        original = next(f for f in self.sandbox.findings_seeded if f["Id"] == finding.id)
        later = max(finding.updated_at, datetime.now(UTC)) + timedelta(seconds=1)
        data = {**original, "RecordState": "ARCHIVED" if archived else "ACTIVE",
                "UpdatedAt": later.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"}
        region = original["Resources"][0]["Region"]
        result = self.sandbox.securityhub_client(region).batch_import_findings(Findings=[data])
        assert result["FailedCount"] == 0, result["FailedFindings"]

    def _press_custom_action(self, finding: Finding) -> list[Finding]:
        """Security Hub CSPM: the admin creates the "Send to Jira" action (configure page), a security engineer
        sends the finding to it; the findings its events name."""
        with self.store.read() as uow:
            tenant = uow.tenants.get(self.ctx.tenant_id)
        assert tenant is not None
        base_url = self.hubsync.app_url if self.hubsync else "http://hubsync"
        arn = setup_custom_action(tenant, base_url, AwsSetup()).action_target_arn  # the runtime's `aws`
        events = self.sandbox.securityhub.trigger_custom_action(
            arn, [{"Id": finding.id, "ProductArn": finding.product_arn}]
        )
        return [parse_finding(data) for event in events for data in event["detail"]["findings"]]

    def _comment_in_console(self, finding: Finding, comment: str) -> None:
        """The new Security Hub: a security engineer updates the finding's comment in the console
        (BatchUpdateFindingsV2 by its metadata.uid)."""
        answer = self.sandbox.securityhub_client().batch_update_findings_v2(MetadataUids=[finding.id],
                                                                           Comment=comment)
        assert not answer["UnprocessedFindings"], answer["UnprocessedFindings"]

    def _row(self, scenario: str, finding: Finding, ticket: Ticket | None, expected: str, ok: bool) -> ScenarioResult:
        state = f"{finding.workflow_status.value}/{finding.record_state.value}"
        if finding.verification_state and finding.verification_state != "UNKNOWN":
            state += f"/{finding.verification_state}"
        return ScenarioResult(
            scenario=scenario,
            finding=_short_id(finding.id),
            ticket=ticket.key if ticket else "-",
            finding_state=state,
            ticket_status=ticket.status if ticket else "-",
            expected=expected,
            ok=ok,
        )


def demo_policy(default_assignee: str | None) -> dict[str, Any]:
    return {
        "project_key": PROJECT,
        "issue_type": "Task",
        "rules": [
            {"name": "Critical findings", "min_severity": "CRITICAL"},
            {"name": "High GuardDuty threats", "products": ["GuardDuty"], "min_severity": "HIGH"},
        ],
        "default_assignee": default_assignee,
    }


@contextmanager
def running_demo(
    flavour: str = "cloud",
    database_url: str | None = None,
    say: Callable[[str], None] = print,
    wrap: WsgiWrapper | None = None,
    seed_findings: bool = True,
    platform: DemoPlatform | None = None,
    securityhub: str = "cspm",
    jira_version: str | None = None,
) -> Iterator[Demo]:
    """Start the sandbox, migrate a store, configure a tenant; stop everything afterwards.

    `platform` ("forge" or "connect"): install hubsync into the Jira Cloud simulator as a Forge or a Connect app
    and run its web app and worker (see `connected.py`); "webhook" (Data Center): run them with the tenant's PAT
    and hubsync's admin webhook registered by the site's administrator, the periodic reconcile every
    `DEMO_RECONCILE_INTERVAL`; None: the tenant is configured directly, with an API token (Cloud) or a PAT (Data
    Center), and nothing runs by itself. `seed_findings=False` starts Security Hub empty (benchmarks).
    `securityhub` ("cspm" or "v2"): the Security Hub the tenant syncs with; the sandbox's holds both, each seeded
    finding with its OCSF twin. `jira_version`: the version the Data Center site reports (None: 10.x, which signs
    the webhook's deliveries; 9.x authenticates them by a token in the URL)."""
    if platform is not None and platform not in (*PLATFORMS, "webhook"):
        raise ValueError(f"platform must be one of {', '.join(PLATFORMS)}, webhook or None, not {platform!r}")
    if securityhub not in GENERATIONS:
        raise ValueError(f"securityhub must be one of {', '.join(GENERATIONS)}, not {securityhub!r}")
    generation = GENERATIONS[securityhub]
    if platform in PLATFORMS and flavour != "cloud":
        raise ValueError("the Jira app installs only into Jira Cloud; Data Center runs with a PAT")
    if platform == "webhook" and flavour == "cloud":
        raise ValueError("the demo's admin webhook is Data Center's; on Jira Cloud hubsync is an app")
    with (
        tempfile.TemporaryDirectory(prefix="hubsync-demo-") as scratch,
        Sandbox(wrap=wrap, seed_findings=seed_findings, jira_dc_version=jira_version) as sandbox,
        sandbox.exported() as environment,
    ):
        try:
            url = database_url or f"sqlite:///{Path(scratch) / 'hubsync-demo.sqlite3'}"
            store = open_store(Settings.from_environment({"HUBSYNC_DATABASE_URL": url}), sandbox=True)
            upgrade(store.engine)
            world = sandbox.jira_cloud if flavour == "cloud" else sandbox.jira_dc
            default = world.user_by_email(jira_seed.SANDBOX_JIRA_DEFAULT_ASSIGNEE_EMAIL)
            assert default is not None
            if platform == "webhook":
                with datacenter_hubsync(sandbox, store, demo_policy(default.name), generation=generation,
                                        reconcile_interval=DEMO_RECONCILE_INTERVAL) as hubsync:
                    ctx = build_sync_context(hubsync.tenant, store)
                    yield Demo(sandbox=sandbox, flavour=flavour, ctx=ctx, store=store, say=say, hubsync=hubsync,
                               generation=generation)
                return
            if platform is not None:
                with installed_hubsync(sandbox, store, demo_policy(default.account_id), platform=platform,
                                       generation=generation) as hubsync:
                    ctx = build_sync_context(hubsync.tenant, store)
                    yield Demo(sandbox=sandbox, flavour=flavour, ctx=ctx, store=store, say=say, hubsync=hubsync,
                               generation=generation)
                return
            with store.transaction() as uow:
                tenant = uow.tenants.create(
                    name=f"sandbox ({flavour})",
                    jira_base_url=world.base_url,
                    jira_flavour=JiraFlavour.CLOUD if flavour == "cloud" else JiraFlavour.DATA_CENTER,
                    auth_mode=AuthMode.API_TOKEN if flavour == "cloud" else AuthMode.PAT,
                    jira_user=jira_seed.SANDBOX_JIRA_USER if flavour == "cloud" else None,
                    jira_secret=jira_seed.SANDBOX_JIRA_API_TOKEN if flavour == "cloud" else jira_seed.SANDBOX_JIRA_PAT,
                    aws_role_arn=environment["HUBSYNC_SANDBOX_SECURITYHUB_ROLE_ARN"],
                    organizations_role_arn=environment["HUBSYNC_SANDBOX_ORGANIZATIONS_ROLE_ARN"],
                    aggregation_region=AGGREGATION_REGION,
                    policy=demo_policy(default.account_id if flavour == "cloud" else default.name),
                    external_id=environment["HUBSYNC_SANDBOX_EXTERNAL_ID"],
                    securityhub_generation=generation,
                )
            ctx = build_sync_context(tenant, store)
            yield Demo(sandbox=sandbox, flavour=flavour, ctx=ctx, store=store, say=say, generation=generation)
        finally:
            store.dispose()


def scenario_table(results: list[ScenarioResult]) -> str:
    headers = ("scenario", "finding", "ticket", "finding state", "ticket status", "expected", "ok")
    rows = [(r.scenario, r.finding, r.ticket, r.finding_state, r.ticket_status, r.expected, "ok" if r.ok else "FAIL")
            for r in results]
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    header = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    return "\n".join([header, "  ".join("-" * w for w in widths), *lines])


def _short_id(finding_id: str) -> str:
    """The tail of a finding id, enough to find it in the console: `…/finding/1a2b3c4d`."""
    tail = finding_id.rsplit("/", 1)[-1]
    return "…" + tail[:8]


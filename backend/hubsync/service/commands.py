"""What the CLI's commands do, once their arguments are parsed and the runtime built: pick tenants, run, report."""

from __future__ import annotations

import getpass
import json
from argparse import Namespace
from collections.abc import Callable

from hubsync.domain.jira_site import InvalidJiraSite, parse_jira_site
from hubsync.domain.jira_webhook import WebhookAdminRefused, WebhookNotApplied, WebhookNotRegistrable
from hubsync.domain.policy_schema import InvalidPolicy, load_policy
from hubsync.domain.ports import AdminWebhooksPort, JiraUnavailable, SecurityHubUnavailable, StorePort
from hubsync.domain.tenant import AuthMode, JiraFlavour, Tenant, TenantNotReady, TenantWaiting
from hubsync.service import jira_webhooks
from hubsync.service.intake import API_KEY_HEADER
from hubsync.service.reconcile import ReconcileReport, reconcile
from hubsync.service.settings import events_url, generation_name, parse_generation
from hubsync.service.sync import SyncContext


def chosen_tenants(store: StorePort, tenant: str | None, out: Callable[[str], None]) -> list[Tenant]:
    """The tenant a command names (by id or name, enabled or not), or every enabled one; says so when none."""
    with store.read() as uow:
        tenants = uow.tenants.list(enabled_only=tenant is None)
    chosen = [t for t in tenants if tenant in (None, t.id, t.name)]
    if not chosen:
        out(f"no tenant {tenant!r}" if tenant else "no enabled tenants: configure one in Jira first")
    return chosen


class NoSingleTenant(Exception):
    """A command for one tenant was given none that exists, or none and there is not exactly one to take."""


def one_tenant(
    store: StorePort, name: str | None, *, flavour: JiraFlavour | None = None, disabled_too: bool = False
) -> Tenant:
    """The tenant named (by id or name, enabled or not), or else the only enabled one (of `flavour`, when given; of
    every tenant, `disabled_too`); raises `NoSingleTenant` naming the candidates when there are several. A name two
    tenants share is refused too: their ids tell them apart."""
    with store.read() as uow:
        tenants = uow.tenants.list(enabled_only=name is None and not disabled_too)
    if name is not None:
        by_id = [t for t in tenants if t.id == name]
        named = by_id or [t for t in tenants if t.name == name]
        if not named:
            raise NoSingleTenant(f"no tenant {name!r} (`hubsync tenant list` shows them)")
        if len(named) > 1:
            raise NoSingleTenant(f"several tenants are named {name!r}, pass --tenant with one of their ids: "
                                 + ", ".join(t.id for t in named))
        return named[0]
    kind = {None: "", JiraFlavour.CLOUD: "Jira Cloud ", JiraFlavour.DATA_CENTER: "Data Center "}[flavour]
    candidates = [t for t in tenants if flavour in (None, t.jira_flavour)]
    if not candidates:
        how = ("add one with `hubsync tenant add --flavour datacenter`" if flavour is JiraFlavour.DATA_CENTER
               else "install hubsync in Jira or add one with `hubsync tenant add`")
        raise NoSingleTenant(f"no {'' if disabled_too else 'enabled '}{kind}tenant: {how}")
    if len(candidates) > 1:
        names = [t.name for t in candidates]
        raise NoSingleTenant(f"several {kind}tenants, pass --tenant with one of: " + ", ".join(
            sorted(t.name if names.count(t.name) == 1 else t.id for t in candidates)))
    return candidates[0]


def reconcile_tenants(
    store: StorePort, context_of: Callable[[Tenant], SyncContext], tenant: str | None, dry_run: bool,
    out: Callable[[str], None],
) -> int:
    """Reconcile one tenant (by id or name) or every enabled one. Exit status 0 when nothing failed."""
    chosen = chosen_tenants(store, tenant, out)
    if not chosen:
        return 2
    status = 0
    for each in chosen:
        try:
            report = reconcile(context_of(each), dry_run=dry_run, progress=None)
        except TenantNotReady as exc:
            out(str(exc))
            status = 2
            continue
        except (SecurityHubUnavailable, JiraUnavailable, TenantWaiting) as exc:  # the next tenant may still work
            out(f"tenant {each.name}: not reconciled: {exc}")
            status = max(status, 1)
            continue
        out(report_table(each, report, dry_run))
        status = max(status, 1 if report.failed else 0)
    return status


def add_tenant(
    store: StorePort, args: Namespace, secret: str | None, out: Callable[[str], None],
    webhooks_of: Callable[[Tenant], AdminWebhooksPort], base_url: str,
) -> int:
    """Validate everything before storing anything; say what is wrong in words an admin can act on. Then register
    the tenant's Jira webhook, saying what was done or what an admin must do (the tenant stays added either way:
    the periodic reconcile syncs it meanwhile)."""
    try:
        generation = parse_generation(args.securityhub)
    except ValueError as exc:
        out(f"--securityhub: {exc}")
        return 2
    try:
        policy_data = json.loads(args.policy.read_text())
        load_policy(policy_data)
    except OSError as exc:
        out(f"cannot read the policy file: {exc}")
        return 2
    except json.JSONDecodeError as exc:
        out(f"{args.policy} is not JSON: {exc}")
        return 2
    except InvalidPolicy as exc:
        out(f"{args.policy} is not a valid policy:\n" + "\n".join(f"  {line}" for line in exc.lines))
        return 2
    auth = AuthMode({"api-token": "API_TOKEN", "pat": "PAT", "basic": "BASIC"}[
        args.auth or ("api-token" if args.flavour == "cloud" else "pat")
    ])
    if auth in (AuthMode.API_TOKEN, AuthMode.BASIC) and not args.jira_user:
        out("--jira-user is required for api-token and basic auth")
        return 2
    secret = secret or getpass.getpass("Jira secret (token, PAT or password): ")  # HUBSYNC_JIRA_SECRET, or asked
    if not secret:
        out("no Jira secret given")
        return 2
    try:
        site = parse_jira_site(args.jira_url)
    except InvalidJiraSite as exc:
        out(f"--jira-url {args.jira_url!r}: {exc}")
        return 2
    with store.transaction() as uow:
        same_name = [t for t in uow.tenants.list() if t.name == args.name]
        if same_name:
            out(f"a tenant named {args.name!r} exists (id {same_name[0].id}): choose another --name")
            return 2
        tenant = uow.tenants.create(
            name=args.name,
            jira_base_url=site.base_url,
            jira_flavour=JiraFlavour.CLOUD if args.flavour == "cloud" else JiraFlavour.DATA_CENTER,
            auth_mode=auth,
            jira_user=args.jira_user,
            jira_secret=secret,
            aws_role_arn=args.role_arn,
            organizations_role_arn=args.organizations_role_arn,
            aggregation_region=args.region,
            securityhub_generation=generation,
            policy=policy_data,
            external_id=args.external_id,
        )
    out(f"tenant {tenant.name} added: id {tenant.id}")
    out(f"its IAM roles must require sts:ExternalId = {tenant.external_id}")
    out(f"its EventBridge API destination: POST {events_url(base_url or '<HUBSYNC_BASE_URL>', tenant.id)} with header "
        f"{API_KEY_HEADER}: {tenant.events_api_key}  (the key is shown only now; `hubsync tenant rotate-events-key` "
        "makes a new one)")
    out(register_webhook(store, tenant, webhooks_of, base_url))
    return 0


def register_webhook(
    store: StorePort, tenant: Tenant, webhooks_of: Callable[[Tenant], AdminWebhooksPort], base_url: str
) -> str:
    """Register a new tenant's Jira webhook; what happened, or why not and what to do, as a line to print."""
    later = f"hubsync tenant webhook --tenant {tenant.name} --register"
    meanwhile = "meanwhile ticket changes reach Security Hub at the worker's periodic reconcile"
    if not base_url:
        return (f"Jira webhook not registered: HUBSYNC_BASE_URL (where Jira reaches hubsync) is not set; set it and "
                f"run `{later}`; {meanwhile}")
    try:
        webhooks = webhooks_of(tenant)
        return jira_webhooks.register(store, tenant, webhooks, base_url).message
    except WebhookAdminRefused as exc:
        refused = (f"Jira webhook not registered: {exc}; {meanwhile}. An administrator can register it with their "
                   f"token (`{later} --admin-secret-stdin`), or create it by hand:")
        try:
            return refused + "\n" + jira_webhooks.prepare_manual(store, tenant, webhooks, base_url).message
        except JiraUnavailable as unavailable:
            return f"{refused} `hubsync tenant webhook --tenant {tenant.name} --manual` ({unavailable})"
    except (JiraUnavailable, WebhookNotApplied, WebhookNotRegistrable, TenantNotReady) as exc:
        return f"Jira webhook not registered: {exc}; try again with `{later}`; {meanwhile}"


def list_tenants(store: StorePort, out: Callable[[str], None]) -> int:
    with store.read() as uow:
        tenants = uow.tenants.list()
    if not tenants:
        out("no tenants")
    for tenant in tenants:
        state = tenant.state.value.lower()
        generation = generation_name(tenant.securityhub_generation)
        out(f"{tenant.id}  {tenant.name}  {tenant.jira_base_url}  {tenant.jira_flavour.value}  securityhub:{generation}"
            f"  {state}")
    return 0


def report_table(tenant: Tenant, report: ReconcileReport, dry_run: bool) -> str:
    verb = "would change" if dry_run else "changed"
    lines = [
        f"tenant {tenant.name}: {report.findings_seen} new findings matched, {report.links_seen} linked pairs "
        f"checked; {verb} {len(report.changed)}, {len(report.failed)} failed"
    ]
    if report.outcomes:
        lines.append(f"  {'finding':<24} {'ticket':<10} {'rule':>4}  what")
    for outcome in report.outcomes:
        tail = outcome.finding_id.rsplit("/", 1)[-1][:22]
        what = f"FAILED: {outcome.error}" if outcome.error else f"{', '.join(outcome.actions)}: {outcome.reason}"
        lines.append(f"  {tail:<24} {outcome.ticket_key or '-':<10} {outcome.rule or '-':>4}  {what}")
    return "\n".join(lines)

"""`hubsync tenant show | update | rotate-events-key | disable | enable | remove | webhook`: the configure page on the
command line, for the sites that have none (Data Center, Cloud with an API token) and for any tenant an operator
manages. `webhook` hands over to `service.jira_webhooks`.

Every change is validated as the configure page validates a save (`service.settings.parse_settings`, the project
check when the project or issue type changes, the count of the tickets new rules would create) and written with an
entry on the tenant's audit timeline in the same transaction. Secrets are never printed: a Jira secret is "set" or
"not set", the events key is shown only when it is made.

Expected refusals raise `TenantAdminRefused` (the input is wrong: the CLI exits 2); Jira that cannot be asked raises
`CannotCheckProject` (exit 1); an unknown tenant `NoSingleTenant`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from hubsync.domain.audit import TENANT_EVENTS
from hubsync.domain.policy import EscalationRule
from hubsync.domain.policy_schema import InvalidPolicy, dump_policy, load_policy
from hubsync.domain.ports import (
    AdminWebhooksPort,
    JiraProjectsPort,
    SecurityHubPort,
    SecurityHubUnavailable,
    StorePort,
)
from hubsync.domain.tenant import EVENTS_KEY_GRACE, AuthMode, JiraFlavour, Tenant, TenantNotReady, TenantState
from hubsync.service import jira_webhooks
from hubsync.service.commands import one_tenant
from hubsync.service.intake import API_KEY_HEADER
from hubsync.service.project_check import UserLookup, project_changes, report_lines, run_project_check
from hubsync.service.rule_preview import onboarding_of_save
from hubsync.service.settings import (
    InvalidSettings,
    Settings,
    events_url,
    generation_name,
    parse_settings,
)

# Where the configure page's field paths are set on the command line.
FLAGS = {
    "aws.roleArn": "--role-arn",
    "aws.organizationsRoleArn": "--organizations-role-arn",
    "aws.aggregationRegion": "--region",
    "aws.securityhubGeneration": "--securityhub",
}
BASE_URL_PLACEHOLDER = "<HUBSYNC_BASE_URL>"
AUTH_NAMES = {AuthMode.API_TOKEN: "API token", AuthMode.PAT: "personal access token", AuthMode.BASIC: "password",
              AuthMode.CONNECT: "Connect app", AuthMode.FORGE: "Forge app"}


class TenantAdminRefused(Exception):
    """The command's input cannot be applied; the message says why and what to do, in one line."""


@dataclass(frozen=True)
class TenantUpdate:
    """What `hubsync tenant update` was asked to change; None: keep the stored value. An empty
    `organizations_role_arn` removes that role."""

    policy_file: Path | None = None
    role_arn: str | None = None
    organizations_role_arn: str | None = None
    region: str | None = None
    securityhub: str | None = None
    jira_secret: str | None = None
    confirm_large_onboarding: bool = False


@dataclass(frozen=True)
class Remote:
    """The tenant's sides a settings change is checked against, as the configure page checks them."""

    projects_of: Callable[[Tenant], JiraProjectsPort]
    users_of: Callable[[Tenant], UserLookup]
    securityhub_of: Callable[[Tenant], SecurityHubPort]
    onboarding_confirm_above: int


# -- show ------------------------------------------------------------------------------------------------------


def show_tenant(store: StorePort, name: str | None, base_url: str, out: Callable[[str], None]) -> int:
    """One tenant as its configure page shows it; secrets as set or not set."""
    tenant = one_tenant(store, name, disabled_too=True)
    out(f"tenant {tenant.name}  id {tenant.id}  {tenant.state.value.lower()}")
    kind = "Jira Cloud" if tenant.jira_flavour is JiraFlavour.CLOUD else "Jira Data Center"
    user = f" as {tenant.jira_user}" if tenant.jira_user else ""
    out(f"  Jira                {tenant.jira_base_url}  ({kind}, {AUTH_NAMES[tenant.auth_mode]}{user})")
    out(f"  Jira secret         {'set' if tenant.jira_secret else 'not set'}")
    out(f"  AWS role            {tenant.aws_role_arn or 'not set'}")
    out(f"  Organizations role  {tenant.organizations_role_arn or 'not set (owners are not read from tags)'}")
    out(f"  ExternalId          {tenant.external_id}")
    out(f"  Region              {tenant.aggregation_region or 'not set'}")
    out(f"  Security Hub        {generation_name(tenant.securityhub_generation)}")
    out(f"  Events URL          {events_url(base_url or BASE_URL_PLACEHOLDER, tenant.id)}")
    with store.read() as uow:
        has_key = uow.tenants.has_events_api_key(tenant.id)
    key = "set (kept as a hash only, never shown)" if has_key else "not set"
    out(f"  Events key          {key}; `hubsync tenant rotate-events-key` makes a new one")
    out(f"  Jira webhook        {_webhook_state(tenant)}")
    for line in policy_summary(tenant.policy):
        out(f"  {line}")
    return 0


def _webhook_state(tenant: Tenant) -> str:
    """hubsync's admin webhook as the store records it (`hubsync tenant webhook` asks the site)."""
    if tenant.auth_mode not in jira_webhooks.ADMIN_AUTH_MODES:
        return f"none needed: Jira sends the {AUTH_NAMES[tenant.auth_mode]}'s own events"
    registration = tenant.jira_webhook
    if registration.webhook_id is None:
        return "not registered: `hubsync tenant webhook --register`; ticket changes wait for the periodic reconcile"
    how = "signed deliveries" if registration.signed else "a token in its URL"
    return f"{registration.webhook_id} ({how}); `hubsync tenant webhook` checks it on the site"


def policy_summary(stored: Mapping[str, Any] | None) -> list[str]:
    """The policy in a few lines: project, issue type, labels, then one line per escalation rule."""
    if not stored:
        return ["Policy              none saved yet: `hubsync tenant update --policy FILE`"]
    try:
        policy = load_policy(stored)
    except InvalidPolicy as problem:
        return [f"Policy              saved but no longer valid: {'; '.join(problem.lines)}"]
    lines = [
        f"Policy              project {policy.project_key}, issue type {policy.issue_type}, labels "
        f"{', '.join(policy.labels) or 'none'}, risk acceptances "
        + (f"expire after {policy.risk_acceptance_days} days" if policy.risk_acceptance_days else "never expire"),
    ]
    if not policy.rules:
        lines.append("  no escalation rules: tickets come only from custom actions and #jira comments")
    for number, rule in enumerate(policy.rules, 1):
        lines.append(f"  rule {number} {rule.name}: {_rule_criteria(rule)}")
    return lines


def _rule_criteria(rule: EscalationRule) -> str:
    criteria = [
        f"{label} {', '.join(values)}" for label, values in (
            ("controls", rule.security_control_ids), ("generators", rule.generator_ids),
            ("products", rule.products), ("accounts", rule.account_ids), ("regions", rule.regions),
        ) if values
    ]
    if rule.min_severity is not None:
        criteria.insert(0, f"severity {rule.min_severity.value} and above")
    return "; ".join(criteria) or "every finding"


# -- update ----------------------------------------------------------------------------------------------------


def update_tenant(
    store: StorePort, remote: Remote, name: str | None, change: TenantUpdate, out: Callable[[str], None]
) -> int:
    """Validate the changed settings as the configure page does, then store them with an audit entry; print what
    changed. Nothing is stored when anything is refused."""
    tenant = one_tenant(store, name, disabled_too=True)
    if change.jira_secret is not None:
        _check_secret(tenant, change.jira_secret)
    settings = _validated(tenant, change)
    checked = tenant if change.jira_secret is None else dataclasses.replace(tenant, jira_secret=change.jira_secret)
    if project_changes(tenant.policy, settings.policy):
        check = run_project_check(checked, remote.projects_of(checked), remote.users_of(checked), settings.policy)
        if not check.ok:
            out(report_lines(tenant, check))
            failed = ", ".join(item.name.lower() for item in check.failed)
            raise TenantAdminRefused(f"not saved: the project check failed ({failed}); see each item above")
    _confirm_onboarding(store, remote, tenant, settings, change.confirm_large_onboarding, out)
    with store.transaction() as uow:
        current = uow.tenants.get(tenant.id, for_update=True)
        if current is None:
            raise TenantAdminRefused(f"tenant {tenant.name} was removed meanwhile")
        updated = _applied(current, settings, change)
        before, after = _differences(current, updated)
        if not after:
            out(f"tenant {tenant.name}: nothing to change")
            return 0
        uow.tenants.update(updated)
        uow.audit.append(tenant_id=tenant.id, finding_key=TENANT_EVENTS, action="update_settings", outcome="applied",
                         reason=f"settings changed on the command line: {', '.join(after)}", before=before,
                         after=after)
    out(f"tenant {tenant.name} updated:")
    for field_name in after:
        out(f"  {field_name}: {_shown(before[field_name])} -> {_shown(after[field_name])}")
    return 0


def read_policy_file(path: Path) -> Any:
    """The policy file's JSON (validated with the rest of the settings)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TenantAdminRefused(f"--policy: cannot read {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TenantAdminRefused(f"--policy: {path} is not JSON: {exc}") from None


def _check_secret(tenant: Tenant, secret: str) -> None:
    if tenant.auth_mode in (AuthMode.CONNECT, AuthMode.FORGE):
        raise TenantAdminRefused(f"tenant {tenant.name} is a {AUTH_NAMES[tenant.auth_mode]}: Jira hands it its "
                                 "secret at install, there is none to set")
    if not secret.strip():
        raise TenantAdminRefused("no Jira secret given: set HUBSYNC_JIRA_SECRET or pipe it to --jira-secret-stdin")


def _validated(tenant: Tenant, change: TenantUpdate) -> Settings:
    """The tenant's settings with the changes, checked by the configure page's own validation; its messages are
    keyed by the flag that sets the field (policy fields by their path in the policy file)."""
    form = {
        "aws": {
            "roleArn": _pick(change.role_arn, tenant.aws_role_arn),
            "organizationsRoleArn": _pick(change.organizations_role_arn, tenant.organizations_role_arn),
            "aggregationRegion": _pick(change.region, tenant.aggregation_region),
            "securityhubGeneration": change.securityhub or generation_name(tenant.securityhub_generation),
        },
        "policy": read_policy_file(change.policy_file) if change.policy_file is not None else tenant.policy or None,
    }
    try:
        return parse_settings(form)
    except InvalidSettings as invalid:
        problems = "; ".join(f"{FLAGS.get(path, path)}: {'; '.join(texts)}" for path, texts in invalid.fields.items())
        if any(path.startswith("policy") for path in invalid.fields) and change.policy_file is None:
            problems += " (the saved policy: fix it with --policy FILE)"
        raise TenantAdminRefused(f"not saved: {problems}") from None


def _pick(given: str | None, stored: str | None) -> str | None:
    return stored if given is None else given


def _confirm_onboarding(store: StorePort, remote: Remote, tenant: Tenant, settings: Settings, confirmed: bool,
                        out: Callable[[str], None]) -> None:
    """The configure page's confirmation: rules (or an AWS account) that would create more tickets than the
    threshold are saved only when confirmed. Security Hub that cannot be read does not block the save."""
    try:
        onboarding = onboarding_of_save(tenant, settings, remote.securityhub_of, store,
                                        remote.onboarding_confirm_above)
    except (TenantNotReady, SecurityHubUnavailable) as exc:
        out(f"could not count the tickets these settings would create ({exc}); saving anyway: the worker creates "
            "them at the pace Jira's and Security Hub's rate budgets allow")
        return
    if onboarding is None:
        return
    if onboarding.needs_confirmation and not confirmed:
        raise TenantAdminRefused(f"not saved: {onboarding.message} with --confirm-large-onboarding")
    out(f"these settings would create {'at least ' if onboarding.capped else ''}{onboarding.tickets:,} tickets")


def _applied(tenant: Tenant, settings: Settings, change: TenantUpdate) -> Tenant:
    """The tenant with the validated settings, stored as the configure page stores them; the policy is replaced
    only by a policy file (the saved one is kept as it was written)."""
    return dataclasses.replace(
        tenant,
        aws_role_arn=settings.aws.role_arn,
        organizations_role_arn=settings.aws.organizations_role_arn,
        aggregation_region=settings.aws.aggregation_region,
        securityhub_generation=settings.aws.securityhub_generation or tenant.securityhub_generation,
        policy=tenant.policy if change.policy_file is None else dump_policy(settings.policy),
        jira_secret=tenant.jira_secret if change.jira_secret is None else change.jira_secret,
    )


def _differences(before: Tenant, after: Tenant) -> tuple[dict[str, Any], dict[str, Any]]:
    """The changed settings, before and after, as the audit keeps them: a secret only as replaced, never its
    value; the policy by its top-level entries."""
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    for name in ("aws_role_arn", "organizations_role_arn", "aggregation_region"):
        if getattr(before, name) != getattr(after, name):
            old[name], new[name] = getattr(before, name), getattr(after, name)
    if before.securityhub_generation != after.securityhub_generation:
        old["securityhub"] = generation_name(before.securityhub_generation)
        new["securityhub"] = generation_name(after.securityhub_generation)
    stored, saving = _normalized(before.policy), _normalized(after.policy)
    for key in sorted(set(stored) | set(saving)):
        if stored.get(key) != saving.get(key):
            old[f"policy.{key}"], new[f"policy.{key}"] = stored.get(key), saving.get(key)
    if before.jira_secret != after.jira_secret:
        old["jira_secret"] = "set" if before.jira_secret else "not set"
        new["jira_secret"] = "replaced" if before.jira_secret else "set"
    return old, new


def _normalized(policy: Mapping[str, Any] | None) -> dict[str, Any]:
    """A policy with its defaults spelt out, so that only what means something else counts as a change."""
    try:
        return dump_policy(load_policy(policy)) if policy else {}
    except InvalidPolicy:
        return dict(policy or {})


def _shown(value: Any) -> str:
    if value is None:
        return "(none)"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


# -- the events key --------------------------------------------------------------------------------------------


def rotate_events_key(store: StorePort, name: str | None, base_url: str, out: Callable[[str], None]) -> int:
    """A new events API key, shown this once; the previous one keeps working for the grace period (time to update
    the EventBridge connection). The rotation and its audit entry commit together."""
    tenant = one_tenant(store, name, disabled_too=True)
    hours = int(EVENTS_KEY_GRACE.total_seconds() // 3600)
    with store.transaction() as uow:
        key = uow.tenants.regenerate_events_api_key(tenant.id, grace=EVENTS_KEY_GRACE)
        uow.audit.append(tenant_id=tenant.id, finding_key=TENANT_EVENTS, action="rotate_events_key",
                         outcome="applied", reason="EventBridge API key rotated on the command line; the previous "
                         f"key stays valid for {hours} hours")
    out(f"tenant {tenant.name}: new EventBridge API key (shown only now): {key}")
    out(f"the previous key stays valid for {hours} hours: in that time, set the new key as the API key value of the "
        "EventBridge connection of the API destination that sends to "
        f"{events_url(base_url or BASE_URL_PLACEHOLDER, tenant.id)} (header {API_KEY_HEADER})")
    return 0


# -- disable, enable, remove -----------------------------------------------------------------------------------


def set_enabled(store: StorePort, name: str | None, enabled: bool, out: Callable[[str], None]) -> int:
    """Disable (no syncs, events refused, links and settings kept) or enable a tenant again."""
    tenant = one_tenant(store, name, disabled_too=True)
    verb = "enabled" if enabled else "disabled"
    if tenant.state is TenantState.UNINSTALLED:
        raise TenantAdminRefused(f"tenant {tenant.name} was uninstalled from Jira: only installing the app again "
                                 "on the site brings it back")
    with store.transaction() as uow:
        current = uow.tenants.get(tenant.id, for_update=True)
        if current is None:
            raise TenantAdminRefused(f"tenant {tenant.name} was removed meanwhile")
        if current.enabled == enabled:
            out(f"tenant {tenant.name} is already {verb}")
            return 0
        uow.tenants.update(dataclasses.replace(current, enabled=enabled))
        uow.audit.append(tenant_id=tenant.id, finding_key=TENANT_EVENTS, action=f"{verb[:-1]}_tenant",
                         outcome="applied", reason=f"tenant {verb} on the command line",
                         before={"state": current.state.value}, after={"state": "ENABLED" if enabled else "DISABLED"})
    if enabled:
        out(f"tenant {tenant.name} enabled: the worker syncs it again and its events are taken")
    else:
        out(f"tenant {tenant.name} disabled: no syncs, its events are refused (403); settings, links and audit are "
            "kept: `hubsync tenant enable` resumes it")
    return 0


def removal_summary(store: StorePort, name: str | None) -> tuple[Tenant, str]:
    """The tenant `remove` would delete, and what goes with it, for the admin to confirm."""
    tenant = one_tenant(store, name, disabled_too=True)
    links = sum(1 for _ in store.iter_links(tenant.id))
    return tenant, (
        f"remove tenant {tenant.name} (id {tenant.id}): deletes its settings and Jira secret, its {links} "
        f"link{'' if links == 1 else 's'} between findings and tickets, its audit timeline and its hints waiting on "
        "the local queue; tickets in Jira "
        "and findings in Security Hub are left as they are (to keep the audit, `hubsync tenant disable` instead)"
    )


def remove_tenant(store: StorePort, tenant: Tenant, out: Callable[[str], None]) -> int:
    """Delete the tenant and everything the store holds of it (its links, audit and queued hints go with it)."""
    with store.transaction() as uow:
        removed = uow.tenants.delete(tenant.id)
    if not removed:
        raise TenantAdminRefused(f"tenant {tenant.name} was removed meanwhile")
    out(f"tenant {tenant.name} removed; hints of it still on an SQS queue are dropped by the worker")
    return 0


# -- the Jira admin webhook ------------------------------------------------------------------------------------


class WebhookAction(StrEnum):
    CHECK = "check"
    REGISTER = "register"
    REMOVE = "remove"
    ROTATE_TOKEN = "rotate-token"
    MANUAL = "manual"


@dataclass(frozen=True)
class AdminCredentials:
    """A Jira administrator's credentials for one command, never stored: a PAT on Data Center; with `user`, an API
    token on Cloud or a password on Data Center."""

    secret: str = field(repr=False)
    user: str | None = None

    def on(self, tenant: Tenant) -> Tenant:
        """The tenant's site, reached with these credentials instead of the tenant's own."""
        if tenant.jira_flavour is JiraFlavour.CLOUD:
            if not self.user:
                raise TenantAdminRefused("--admin-user: a Jira Cloud administrator's email goes with their API token")
            auth = AuthMode.API_TOKEN
        else:
            auth = AuthMode.BASIC if self.user else AuthMode.PAT
        return dataclasses.replace(tenant, auth_mode=auth, jira_user=self.user, jira_secret=self.secret)


def webhook_command(
    store: StorePort, name: str | None, action: WebhookAction, webhooks_of: Callable[[Tenant], AdminWebhooksPort],
    base_url: str, out: Callable[[str], None], admin: AdminCredentials | None = None,
) -> int:
    """`hubsync tenant webhook`: check (exit 1 when missing or different), register, remove hubsync's webhook on
    the tenant's site or rotate its URL token, with the tenant's credentials or an administrator's; or prepare
    what an administrator types into Jira to create it by hand."""
    tenant = one_tenant(store, name, disabled_too=True)
    webhooks = webhooks_of(tenant if admin is None else admin.on(tenant))
    if action is WebhookAction.CHECK:
        outcome = jira_webhooks.check(tenant, webhooks, base_url)
    elif action is WebhookAction.REGISTER:
        outcome = jira_webhooks.register(store, tenant, webhooks, base_url)
    elif action is WebhookAction.REMOVE:
        outcome = jira_webhooks.remove(store, tenant, webhooks, base_url)
    elif action is WebhookAction.MANUAL:
        outcome = jira_webhooks.prepare_manual(store, tenant, webhooks, base_url)
    else:
        outcome = jira_webhooks.rotate_token(store, tenant, webhooks, base_url)
    out(outcome.message)
    return 0 if outcome.ok else 1

"""What escalation rules match in Security Hub now: the configure page's rule preview, and the tickets a settings
save would have reconcile create (above a threshold the admin confirms first).

Security Hub has no count: the findings are read with each rule's own GetFindings filters (those reconcile fetches
with, `rule_filters`), 100 a page and the most severe first, and a rule's count stops after `READ_CAP` findings
("1,000+"): about 10 requests, some 3.5 s at GetFindings' budget of 3 a second, which the tenant's session spends
as the syncs do. The filters only narrow the read; the rule itself (`EscalationRule.matches`, as `decide` applies
it) says what counts: what a reconcile would fetch and escalate.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any

from hubsync.domain.finding import Finding, WorkflowStatus
from hubsync.domain.link import Link, LinkState
from hubsync.domain.policy import EscalationRule, Policy
from hubsync.domain.policy_schema import InvalidPolicy, load_policy, load_rule
from hubsync.domain.ports import SecurityHubPort, StorePort
from hubsync.domain.tenant import Tenant
from hubsync.domain.validation import field_errors
from hubsync.service.reconcile import rule_filters
from hubsync.service.settings import InvalidSettings, Settings

READ_CAP = 1_000  # findings read per rule at most
SAMPLE_SIZE = 5  # findings shown per rule
LINK_BATCH = 100  # finding keys looked up in the store at a time
CONFIRM_FLAG = "confirmLargeOnboarding"


@dataclass(frozen=True)
class RulePreview:
    rule: EscalationRule
    matches: int  # live NEW findings the rule matches, of those read
    capped: bool  # more findings than `READ_CAP` were there to read: the count is a floor ("1,000+")
    sample: tuple[Finding, ...]  # the first few, most severe first

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.rule.name,
            "matches": self.matches,
            "capped": self.capped,
            "sample": [
                {"title": f.title, "accountId": f.account_id, "accountName": f.account_name,
                 "severity": f.severity.value, "region": f.region, "productName": f.product_name}
                for f in self.sample
            ],
        }


@dataclass(frozen=True)
class Onboarding:
    """The tickets saving a policy would create: findings its rules escalate that have no ticket yet."""

    tickets: int
    capped: bool  # a rule matched more than could be read: at least `tickets`
    threshold: int  # above it, the save waits for the admin's confirmation

    @property
    def needs_confirmation(self) -> bool:
        """Above the threshold, or more than could be counted (the count is then only a floor)."""
        return self.capped or self.tickets > self.threshold

    @property
    def message(self) -> str:
        if self.capped:
            count = f"at least {self.tickets:,} tickets (more than hubsync counts before a save)"
        else:
            count = f"{self.tickets:,} tickets (more than {self.threshold:,})"
        return (f"saving these rules would create {count}: confirm to save, and hubsync creates them at the pace "
                "Jira's and Security Hub's rate budgets allow")

    def to_json(self) -> dict[str, Any]:
        return {"tickets": self.tickets, "capped": self.capped, "threshold": self.threshold}


def parse_preview_request(data: Any) -> tuple[EscalationRule, ...]:
    """The rules to preview: `{"policy": {"rules": [...], ...}}` (the form's policy, unsaved; only its rules are
    read) or `{"rule": {...}}`. Raises `InvalidSettings` keyed by the same field paths as a save
    (`policy.rules[1].account_ids[0]`, `rule.min_severity`)."""
    if not isinstance(data, Mapping) or len(data) != 1 or not set(data) & {"policy", "rule"}:
        raise InvalidSettings({"": ['send {"policy": {"rules": [...]}} or {"rule": {...}}']})
    if "rule" in data:
        return (_rule(data["rule"], "rule", "rule 1"),)
    policy = data["policy"]
    rules = policy.get("rules") if isinstance(policy, Mapping) else None
    if not isinstance(rules, list):
        raise InvalidSettings({"policy.rules": ["must be a list of rules"]})
    errors: dict[str, list[str]] = {}
    parsed: list[EscalationRule] = []
    for index, rule in enumerate(rules):
        try:
            parsed.append(_rule(rule, f"policy.rules[{index}]", f"rule {index + 1}"))
        except InvalidSettings as invalid:
            errors.update(invalid.fields)
    if errors:
        raise InvalidSettings(errors)
    return tuple(parsed)


def _rule(data: Any, path: str, default_name: str) -> EscalationRule:
    """One rule as a policy loads it, named as the policy names an unnamed one."""
    try:
        rule = load_rule(data)
    except InvalidPolicy as problem:
        raise InvalidSettings(field_errors(problem.messages, path)) from None
    return rule if rule.name else dataclasses.replace(rule, name=default_name)


def preview_rules(
    securityhub: SecurityHubPort, rules: Iterable[EscalationRule], *, cap: int = READ_CAP,
    sample_size: int = SAMPLE_SIZE,
) -> list[RulePreview]:
    """Each rule on its own: how many live findings it matches now, and the first few."""
    previews: list[RulePreview] = []
    for rule in rules:
        found, capped = _matching(securityhub, rule, cap)
        sample = sorted(found.values(), key=lambda f: -f.severity.rank)[:sample_size]
        previews.append(RulePreview(rule, len(found), capped, tuple(sample)))
    return previews


def count_onboarding(
    securityhub: SecurityHubPort, store: StorePort, tenant_id: str, policy: Policy, threshold: int, *,
    cap: int = READ_CAP,
) -> Onboarding:
    """The tickets `policy` would have reconcile create: findings a rule escalates that have no link, or a
    BROKEN one (its ticket was deleted); a LINKED finding has its ticket, a CLAIMED one's is being created."""
    keys: dict[str, None] = {}
    capped = False
    for rule in policy.rules:
        found, rule_capped = _matching(securityhub, rule, cap)
        keys.update(dict.fromkeys(found))
        capped = capped or rule_capped
    tickets = 0
    pending = iter(keys)
    while chunk := list(islice(pending, LINK_BATCH)):
        with store.read() as uow:
            links = uow.links.get_many(tenant_id, chunk)
        tickets += sum(1 for key in chunk if _has_no_ticket(links.get(key)))
    return Onboarding(tickets, capped, threshold)


def onboarding_of_save(
    tenant: Tenant, settings: Settings, securityhub_of: Callable[[Tenant], SecurityHubPort], store: StorePort,
    threshold: int,
) -> Onboarding | None:
    """What saving `settings` would onboard, read through the AWS account being saved; None when the rules and the
    AWS account are those already saved (they create nothing the saved ones do not). Raises `TenantNotReady`,
    `SecurityHubUnavailable`."""
    if _same_rules(tenant, settings):
        return None
    saving = dataclasses.replace(tenant, aws_role_arn=settings.aws.role_arn,
                                 aggregation_region=settings.aws.aggregation_region)
    return count_onboarding(securityhub_of(saving), store, tenant.id, settings.policy, threshold)


def confirmation_of(data: Any) -> tuple[Any, bool]:
    """A settings save's body without its `confirmLargeOnboarding` flag, and the flag (absent: False)."""
    if not isinstance(data, Mapping) or CONFIRM_FLAG not in data:
        return data, False
    flag = data[CONFIRM_FLAG]
    if not isinstance(flag, bool):
        raise InvalidSettings({CONFIRM_FLAG: ["must be true or false"]})
    return {name: value for name, value in data.items() if name != CONFIRM_FLAG}, flag


def _matching(securityhub: SecurityHubPort, rule: EscalationRule, cap: int) -> tuple[dict[str, Finding], bool]:
    """The live NEW findings `rule` matches, by key, of at most `cap` read; and whether more were there to read."""
    found: dict[str, Finding] = {}
    read = 0
    for filters in rule_filters(rule):
        for finding in securityhub.findings(filters):
            if read == cap:
                return found, True
            read += 1
            if finding.is_live and finding.workflow_status is WorkflowStatus.NEW and rule.matches(finding):
                found[finding.key] = finding
    return found, False


def _same_rules(tenant: Tenant, settings: Settings) -> bool:
    if (tenant.aws_role_arn, tenant.aggregation_region) != (settings.aws.role_arn, settings.aws.aggregation_region):
        return False
    try:
        saved = load_policy(tenant.policy) if tenant.policy else None
    except InvalidPolicy:
        return False
    return saved is not None and saved.rules == settings.policy.rules


def _has_no_ticket(link: Link | None) -> bool:
    return link is None or link.state is LinkState.BROKEN


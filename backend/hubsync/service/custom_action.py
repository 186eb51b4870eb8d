"""The Security Hub custom action "Send to Jira": create the tenant's action target (once, whoever asks again) and
say how EventBridge routes its events to hubsync.

    setup = setup_custom_action(tenant, base_url, aws)   # through the tenant's role (`AwsSetupPort`), in its Region
    setup.action_target_arn, setup.created           # created now, or found from an earlier setup
    setup.event_pattern                              # the EventBridge rule pattern that routes the action
    setup.to_json() / setup.instructions()           # for the configure page / for `hubsync aws setup-action`

A console user who selects findings and chooses "Send to Jira" makes Security Hub emit one "Security Hub Findings -
Custom Action" event per finding, in the account and Region where they chose it (create the action in the
aggregation Region of the administrator account: that is where the findings are looked at). An EventBridge rule
with the pattern below sends them to hubsync's intake (an API destination on `/events/securityhub/<tenant>`, with
the tenant's events key in `X-Hubsync-Api-Key`), where they escalate the finding by hand (rule 1).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hubsync.domain.finding import ESCALATION_TAG
from hubsync.domain.ports import ACTION_NAME, AwsSetupPort, CustomActionFailed, StorePort
from hubsync.domain.tenant import SecurityHubGeneration, Tenant, TenantNotReady
from hubsync.service.commands import chosen_tenants
from hubsync.service.intake import API_KEY_HEADER, CUSTOM_ACTION
from hubsync.service.settings import events_url

RULE_NAME = "hubsync-send-to-jira"



@dataclass(frozen=True)
class CustomActionSetup:
    action_target_arn: str
    created: bool  # False: it existed already (an earlier setup, or one made by hand with hubsync's id)
    region: str
    events_url: str

    @property
    def event_pattern(self) -> dict[str, Any]:
        """The EventBridge rule pattern that selects this action's events, and only them."""
        return {"source": ["aws.securityhub"], "detail-type": [CUSTOM_ACTION], "resources": [self.action_target_arn]}

    def to_json(self) -> dict[str, Any]:
        return {
            "actionTargetArn": self.action_target_arn,
            "created": self.created,
            "name": ACTION_NAME,
            "region": self.region,
            "eventPattern": self.event_pattern,
            "target": {"endpoint": self.events_url, "httpMethod": "POST", "apiKeyHeader": API_KEY_HEADER},
        }

    def instructions(self) -> str:
        """What `hubsync aws setup-action` prints: the action, then the rule and target to create."""
        state = "created" if self.created else "already there"
        pattern = json.dumps(self.event_pattern, indent=2)
        return "\n".join([
            f"Security Hub custom action {ACTION_NAME!r} ({state}): {self.action_target_arn}",
            "",
            f"Route it with an EventBridge rule in {self.region} (account and Region of the action), pattern:",
            "",
            *(f"  {line}" for line in pattern.splitlines()),
            "",
            "and an API destination as its target:",
            f"  endpoint     POST {self.events_url}",
            f"  connection   API key authorization, header {API_KEY_HEADER}, value: the tenant's events key",
            "               (shown once when created; rotate it on the configure page to get a new one)",
            "",
            "infra/securityhub-events.yaml creates both: pass this ARN as CustomActionArn.",
        ])


def setup_custom_action(tenant: Tenant, base_url: str, aws: AwsSetupPort) -> CustomActionSetup:
    """Find or create the tenant's "Send to Jira" action target through its Security Hub role, in its aggregation
    Region. Raises `TenantNotReady` before the role and Region are saved, `CustomActionFailed` when AWS refuses."""
    if tenant.securityhub_generation is SecurityHubGeneration.V2:
        raise TenantNotReady(
            f"tenant {tenant.name} reads the new Security Hub, which has no custom actions: a finding whose comment "
            f"starts with {ESCALATION_TAG} is escalated by hand instead"
        )
    if not tenant.aws_role_arn or not tenant.aggregation_region:
        raise TenantNotReady(
            f"tenant {tenant.name}: save the Security Hub role ARN and aggregation Region before creating the action"
        )
    arn, created = aws.ensure_action_target(tenant, tenant.aggregation_region)
    return CustomActionSetup(arn, created, tenant.aggregation_region, events_url(base_url, tenant.id))


# -- `hubsync aws setup-action` ------------------------------------------------------------------------------


def setup_action_command(
    store: StorePort, aws: AwsSetupPort, tenant: str | None, base_url: str, out: Callable[[str], None]
) -> int:
    """Set the action up for one tenant (id or name) or every enabled one; 0 when every setup worked. Without a
    base URL (HUBSYNC_BASE_URL) the instructions show where it goes."""
    chosen = chosen_tenants(store, tenant, out)
    if not chosen:
        return 2
    base_url = base_url or "<HUBSYNC_BASE_URL>"
    status = 0
    for each in chosen:
        if len(chosen) > 1:
            out(f"== tenant {each.name} ({each.id})")
        try:
            out(setup_custom_action(each, base_url, aws).instructions())
        except (TenantNotReady, CustomActionFailed) as exc:
            out(f"tenant {each.name}: {exc}")
            status = 1
    return status

"""The Security Hub custom action "Send to Jira": create the tenant's action target (once, whoever asks again) and
say how EventBridge routes its events to hubsync.

    setup = setup_custom_action(tenant, base_url)    # through the tenant's assumed role, in its aggregation Region
    setup.action_target_arn, setup.created           # created now, or found from an earlier setup
    setup.event_pattern                              # the EventBridge rule pattern that routes the action
    setup.to_json() / setup.instructions()           # for the configure page / for `hubsync aws setup-action`

A console user who selects findings and chooses "Send to Jira" makes Security Hub emit one "Security Hub Findings -
Custom Action" event per finding, in the account and Region where they chose it (create the action in the
aggregation Region of the administrator account: that is where the findings are looked at). An EventBridge rule
with the pattern below sends them to hubsync's intake (an API destination on `/events/securityhub/<tenant>`, with
the tenant's events key in `X-Hubsync-Api-Key`), where they escalate the finding by hand (rule 1).

Security Hub offers no "create if absent": hubsync looks for its action (DescribeActionTargets) and creates it
(CreateActionTarget) only when absent; a concurrent setup that wins the race (ResourceConflictException) is
looked up again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from hubsync.adapters.aws_session import assumed_role_session, client_config
from hubsync.adapters.store import Store, upgrade
from hubsync.domain.tenant import Tenant
from hubsync.service.commands import chosen_tenants
from hubsync.service.intake import API_KEY_HEADER, CUSTOM_ACTION
from hubsync.service.settings import events_url
from hubsync.service.tenants import TenantNotReady

ACTION_ID = "hubsyncSendToJira"  # Security Hub: at most 20 alphanumerics; the ARN ends in action/custom/<id>
ACTION_NAME = "Send to Jira"  # what the console's Actions menu shows (at most 20 characters)
ACTION_DESCRIPTION = "Create the finding's Jira ticket with hubsync, or note the ticket it already has"
RULE_NAME = "hubsync-send-to-jira"
BASE_URL_VARIABLE = "HUBSYNC_BASE_URL"

SessionFactory = Callable[..., boto3.Session]


class CustomActionFailed(Exception):
    """Security Hub refused or could not be reached; the message carries its reason (for the admin)."""


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


def setup_custom_action(
    tenant: Tenant, base_url: str, session_for: SessionFactory = assumed_role_session
) -> CustomActionSetup:
    """Find or create the tenant's "Send to Jira" action target through its Security Hub role."""
    if not tenant.aws_role_arn or not tenant.aggregation_region:
        raise TenantNotReady(
            f"tenant {tenant.name}: save the Security Hub role ARN and aggregation Region before creating the action"
        )
    region = tenant.aggregation_region
    session = session_for(tenant.aws_role_arn, tenant.id, external_id=tenant.external_id, region=region)
    client = session.client("securityhub", region_name=region, config=client_config())
    try:
        arn, created = _ensure_action_target(client)
    except ClientError as error:
        details = error.response.get("Error", {})
        raise CustomActionFailed(
            f"Security Hub refused: {details.get('Code', 'Unknown')}: {details.get('Message', '')}".rstrip(": ")
        ) from error
    except BotoCoreError as error:
        raise CustomActionFailed(f"Security Hub could not be reached: {error}") from error
    return CustomActionSetup(arn, created, region, events_url(base_url, tenant.id))


def _ensure_action_target(client: Any) -> tuple[str, bool]:
    existing = _find_action_target(client)
    if existing is not None:
        return existing, False
    try:
        response = client.create_action_target(Name=ACTION_NAME, Description=ACTION_DESCRIPTION, Id=ACTION_ID)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceConflictException":
            raise
        existing = _find_action_target(client)  # another setup created it between our look and our create
        if existing is None:
            raise
        return existing, False
    return response["ActionTargetArn"], True


def _find_action_target(client: Any) -> str | None:
    suffix = f":action/custom/{ACTION_ID}".lower()
    return next((arn for arn in _action_target_arns(client) if arn.lower().endswith(suffix)), None)


def _action_target_arns(client: Any) -> Iterator[str]:
    request: dict[str, Any] = {"MaxResults": 100}
    while True:
        response = client.describe_action_targets(**request)
        for target in response.get("ActionTargets", []):
            yield target["ActionTargetArn"]
        if not response.get("NextToken"):
            return
        request["NextToken"] = response["NextToken"]


# -- `hubsync aws setup-action` ------------------------------------------------------------------------------


def setup_action_command(tenant: str | None, out: Callable[[str], None]) -> int:
    """Set the action up for one tenant (id or name) or every enabled one; 0 when every setup worked."""
    store = Store.from_environment()
    try:
        upgrade(store.engine)
        chosen = chosen_tenants(store, tenant, out)
        if not chosen:
            return 2
        base_url = os.environ.get(BASE_URL_VARIABLE, "").strip() or f"<{BASE_URL_VARIABLE}>"
        status = 0
        for each in chosen:
            if len(chosen) > 1:
                out(f"== tenant {each.name} ({each.id})")
            try:
                out(setup_custom_action(each, base_url).instructions())
            except (TenantNotReady, CustomActionFailed) as exc:
                out(f"tenant {each.name}: {exc}")
                status = 1
        return status
    finally:
        store.dispose()

"""The AWS calls behind the configure page's "Test connection" and the Security Hub custom action "Send to Jira",
each through the tenant's assumed role (the ExternalId always the tenant's own).

- `check_connection`: assume the role, read one finding, read one account's owner tag; each step ok or failed
  with AWS's reason, in words an admin can act on. For the new Security Hub it first sees that the new Security
  Hub is enabled (DescribeSecurityHubV2), then reads one OCSF finding (GetFindingsV2).
- `ensure_action_target`: find hubsync's action target, or create it. Security Hub offers no "create if absent":
  it is looked up (DescribeActionTargets) and created (CreateActionTarget) only when absent; a concurrent setup
  that wins the race (ResourceConflictException) is looked up again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from hubsync.adapters.aws_session import assumed_role_session, client_config
from hubsync.domain.ports import (
    ACTION_DESCRIPTION,
    ACTION_ID,
    ACTION_NAME,
    AwsRoles,
    ConnectionReport,
    CustomActionFailed,
    ProbeStep,
)
from hubsync.domain.tenant import SecurityHubGeneration, Tenant

# AWS's documents disagree on which IAM action GetFindingsV2 checks, so the role grants both.
V2_READ_ACTIONS = "securityhub:GetFindings and securityhub:GetFindingsV2"
PROBE_CONFIG = Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=5, read_timeout=10)

SessionFactory = Callable[..., boto3.Session]


class AwsSetup:
    """`AwsSetupPort` through assumed-role sessions (`session_for`: tests may give their own)."""

    def __init__(self, session_for: SessionFactory = assumed_role_session) -> None:
        self._session_for = session_for

    def check_connection(self, tenant: Tenant, roles: AwsRoles, owner_tag: str,
                         generation: SecurityHubGeneration = SecurityHubGeneration.CSPM) -> ConnectionReport:
        session = self._session_for(roles.role_arn, tenant.id, external_id=tenant.external_id,
                                    region=roles.aggregation_region)
        report = ConnectionReport()
        identity = _attempt(lambda: session.client("sts", config=PROBE_CONFIG).get_caller_identity()["Arn"])
        report.steps.append(ProbeStep("Assume the Security Hub role", identity.ok,
                                      f"acting as {identity.value}" if identity.ok else identity.error))
        account_id = None
        if generation is SecurityHubGeneration.V2:
            if not identity.ok:
                report.steps.append(ProbeStep(V2_ENABLED_STEP, None, "skipped: the role could not be assumed"))
                report.steps.append(ProbeStep(V2_FINDING_STEP, None, "skipped: the role could not be assumed"))
            else:
                securityhub = session.client("securityhub", region_name=roles.aggregation_region, config=PROBE_CONFIG)
                steps, account_id = _probe_v2(securityhub, roles.aggregation_region)
                report.steps.extend(steps)
        elif not identity.ok:
            report.steps.append(ProbeStep("Read one finding", None, "skipped: the role could not be assumed"))
        else:
            securityhub = session.client("securityhub", region_name=roles.aggregation_region, config=PROBE_CONFIG)
            finding = _attempt(lambda: securityhub.get_findings(MaxResults=1)["Findings"])
            account_id = finding.value[0].get("AwsAccountId") if finding.ok and finding.value else None
            report.steps.append(ProbeStep("Read one finding", finding.ok,
                                          _finding_detail(finding, roles.aggregation_region)))
        report.steps.append(self._tag_step(tenant, roles, account_id, owner_tag))
        return report

    def ensure_action_target(self, tenant: Tenant, region: str) -> tuple[str, bool]:
        assert tenant.aws_role_arn  # the service checked the tenant is ready
        session = self._session_for(tenant.aws_role_arn, tenant.id, external_id=tenant.external_id, region=region)
        client = session.client("securityhub", region_name=region, config=client_config())
        try:
            return _ensure_action_target(client)
        except ClientError as error:
            details = error.response.get("Error", {})
            raise CustomActionFailed(
                f"Security Hub refused: {details.get('Code', 'Unknown')}: {details.get('Message', '')}".rstrip(": ")
            ) from error
        except BotoCoreError as error:
            raise CustomActionFailed(f"Security Hub could not be reached: {error}") from error

    def _tag_step(self, tenant: Tenant, roles: AwsRoles, account_id: str | None, owner_tag: str) -> ProbeStep:
        name = "Read one account tag"
        if not roles.organizations_role_arn:
            return ProbeStep(name, None, "skipped: no Organizations role saved (tickets go to the default assignee)")
        session = self._session_for(roles.organizations_role_arn, tenant.id, external_id=tenant.external_id)
        organizations = session.client("organizations", config=PROBE_CONFIG)

        def read() -> str:
            # With no finding to name an account, the Security Hub administrator account itself (the role's account):
            # the Organizations role may read tags, not list accounts.
            account = account_id or roles.role_arn.split(":")[4]
            tags = organizations.list_tags_for_resource(ResourceId=account).get("Tags", [])
            owner = next((tag.get("Value") for tag in tags if tag.get("Key") == owner_tag), None)
            if owner is None:
                return f"account {account} has no {owner_tag} tag (its tickets go to the default assignee)"
            return f"account {account}: {owner_tag} = {owner}"

        result = _attempt(read)
        return ProbeStep(name, result.ok, result.value if result.ok else result.error)


@dataclass
class _Result:
    ok: bool
    value: Any = None
    error: str = ""


def _attempt(call: Callable[[], Any]) -> _Result:
    try:
        return _Result(True, call())
    except ClientError as error:
        details = error.response.get("Error", {})
        return _Result(False, error=f"{details.get('Code', 'Unknown')}: {details.get('Message', '')}".rstrip(": "))
    except (BotoCoreError, IndexError, KeyError) as error:
        return _Result(False, error=str(error) or type(error).__name__)


V2_ENABLED_STEP = "See that the new Security Hub is enabled"
V2_FINDING_STEP = "Read one finding (OCSF)"


def _probe_v2(securityhub: Any, region: str) -> tuple[list[ProbeStep], str | None]:
    """The new Security Hub's two steps, and the account of the finding read (None: none read)."""
    hub = _attempt(lambda: securityhub.describe_security_hub_v2())
    if not hub.ok:
        return [ProbeStep(V2_ENABLED_STEP, False, _v2_hub_error(hub.error, region)),
                ProbeStep(V2_FINDING_STEP, None, "skipped: the new Security Hub is not reachable")], None
    enabled = ProbeStep(V2_ENABLED_STEP, True, f"enabled in {region} ({hub.value.get('HubV2Arn', 'no hub ARN given')})")
    finding = _attempt(lambda: securityhub.get_findings_v2(MaxResults=1)["Findings"])
    if not finding.ok:
        return [enabled, ProbeStep(V2_FINDING_STEP, False, _v2_read_error(finding.error))], None
    if not finding.value:
        return [enabled, ProbeStep(V2_FINDING_STEP, True,
                                   f"the new Security Hub in {region} answered, but has no findings yet")], None
    first = finding.value[0]
    account = _text_at(first, "cloud", "account", "uid")
    title = _text_at(first, "finding_info", "title") or "a finding"
    where = f"{account or '?'}, {_text_at(first, 'cloud', 'region') or '?'}"
    return [enabled, ProbeStep(V2_FINDING_STEP, True, f"read {title!r} ({where})")], account


def _v2_hub_error(error: str, region: str) -> str:
    if error.startswith("ResourceNotFoundException"):
        return f"the new Security Hub is not enabled in {region}: enable it there, or choose Security Hub CSPM"
    if error.startswith("AccessDenied"):
        return f"the role may not call securityhub:DescribeSecurityHubV2 (update its policy from the template): {error}"
    return error


def _v2_read_error(error: str) -> str:
    if error.startswith("AccessDenied"):
        return f"the role may not read the new Security Hub's findings: grant it {V2_READ_ACTIONS} ({error})"
    return error


def _text_at(document: Any, *path: str) -> str | None:
    """A text value down `path` of an OCSF finding, or None: the finding's fields may be missing or of any type."""
    for key in path:
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document if isinstance(document, str) and document else None


def _finding_detail(finding: _Result, region: str) -> str:
    if not finding.ok:
        return finding.error
    if not finding.value:
        return f"Security Hub in {region} answered, but has no findings yet"
    first = finding.value[0]
    return f"read {first.get('Title', 'a finding')!r} ({first.get('AwsAccountId', '?')}, {first.get('Region', '?')})"


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



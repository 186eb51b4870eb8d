"""A tenant's settings as the configure page reads, validates and saves them, and "Test connection".

Every validation message is keyed by the path of the field it is about (`aws.roleArn`,
`policy.rules[1].account_ids[0]`, `policy.priorities`), so the page can show it next to that field. The policy is
validated by the domain's policy schema; this module only adds the AWS settings and the paths.

The ExternalId is hubsync's, generated per tenant and never taken from a request. The events API key cannot be
read back (the store keeps only its hash): a rotation returns the new key once, to show to the admin.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hubsync.domain.policy import Policy
from hubsync.domain.policy_schema import AWS_REGION, InvalidPolicy, dump_policy, load_policy
from hubsync.domain.ports import AwsRoles, AwsSetupPort, ConnectionReport, ProbeStep, StorePort
from hubsync.domain.tenant import (
    EVENTS_KEY_GRACE,
    AuthMode,
    SecurityHubGeneration,
    Tenant,
    TenantNotFound,
    forge_token_valid,
)
from hubsync.domain.validation import field_errors

# An IAM role ARN in any partition: arn:<partition>:iam::<12-digit account>:role/<optional path/><name>.
ROLE_ARN = re.compile(r"^arn:aws(?:-[a-z]+)*:iam::\d{12}:role/(?:[\x21-\x7e]{1,510}/)?[\w+=,.@-]{1,64}$")
EVENTS_PATH = "/events/securityhub/{tenant_id}"
# Test connection fails fast: the admin is waiting for the answer.


class InvalidSettings(ValueError):
    """Settings that cannot be saved; `fields` maps a field path to its messages (`""`: the form as a whole)."""

    def __init__(self, fields: Mapping[str, list[str]]) -> None:
        self.fields = dict(fields)
        super().__init__("; ".join(f"{path}: {'; '.join(texts)}" if path else "; ".join(texts)
                                   for path, texts in self.fields.items()))


@dataclass(frozen=True)
class AwsSettings:
    role_arn: str
    organizations_role_arn: str | None
    aggregation_region: str
    securityhub_generation: SecurityHubGeneration | None = None  # None: not in the form, the tenant's stays


@dataclass(frozen=True)
class Settings:
    aws: AwsSettings
    policy: Policy


def read_settings(tenant: Tenant, base_url: str, api_key_header: str | None = None) -> dict[str, Any]:
    """The configure page's data. A stored policy that no longer validates is returned as stored, with its errors,
    so the admin sees what to fix instead of a blank form. `api_key_header`: where EventBridge sends the key."""
    policy: Mapping[str, Any] | None
    policy_errors: dict[str, list[str]] = {}
    if tenant.policy:
        try:
            policy = dump_policy(load_policy(tenant.policy))
        except InvalidPolicy as problem:
            policy, policy_errors = dict(tenant.policy), field_errors(problem.messages, "policy")
    else:
        policy = None  # nothing saved yet: the page starts from the defaults
    return {
        "aws": {
            "roleArn": tenant.aws_role_arn,
            "organizationsRoleArn": tenant.organizations_role_arn,
            "externalId": tenant.external_id,
            "aggregationRegion": tenant.aggregation_region,
        },
        "securityhub": {
            "generation": generation_name(tenant.securityhub_generation),
            "generations": [generation_name(generation) for generation in SecurityHubGeneration],
        },
        "policy": policy,
        "defaults": dump_policy(Policy(project_key="SEC")) | {"project_key": ""},
        "errors": policy_errors,
        "events": {"url": events_url(base_url, tenant.id), "apiKeyHeader": api_key_header},
        "jira": {"baseUrl": tenant.jira_base_url, "platform": _platform(tenant)},
        **({"forge": _forge_state(tenant)} if tenant.auth_mode is AuthMode.FORGE else {}),
    }


def generation_name(generation: SecurityHubGeneration) -> str:
    """How the settings API, the page and the CLI spell a generation: `cspm` or `v2`."""
    return generation.value.lower()


def parse_generation(name: str) -> SecurityHubGeneration:
    """A generation by its name (`cspm`, `v2`); raises ValueError, with the reason, for one that is unknown."""
    chosen = next((generation for generation in SecurityHubGeneration if generation_name(generation) == name), None)
    if chosen is None:
        names = ", ".join(generation_name(generation) for generation in SecurityHubGeneration)
        raise ValueError(f"{name!r} is not a Security Hub generation (one of: {names})")
    return chosen


def _platform(tenant: Tenant) -> str:
    return {AuthMode.FORGE: "forge", AuthMode.CONNECT: "connect"}.get(tenant.auth_mode, "rest")


def _forge_state(tenant: Tenant) -> dict[str, Any]:
    """Whether the worker can sync between Forge's invocations: it has an app token, until when, and if not what
    brings one (the configure page shows it; /metrics counts the hints that wait)."""
    expires = tenant.jira_secret_expires_at
    waiting = not forge_token_valid(tenant, datetime.now(UTC))
    return {
        "appTokenValidUntil": expires.isoformat() if expires is not None and tenant.jira_secret else None,
        "waitingForToken": waiting,
        "message": ("Waiting for Forge to hand hubsync a fresh app token: syncs resume with the hourly trigger, or "
                    "as soon as anyone uses the app in Jira. Nothing is lost meanwhile.") if waiting else None,
    }


def parse_settings(data: Any) -> Settings:
    """Validate a saved form: `{"aws": {roleArn, organizationsRoleArn?, aggregationRegion,
    securityhubGeneration?}, "policy": {...}}`.
    Raises `InvalidSettings` with every problem at once."""
    if not isinstance(data, Mapping):
        raise InvalidSettings({"": ["the settings must be a JSON object"]})
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(data) - {"aws", "policy"})
    if unknown:
        errors[""] = [f"{', '.join(map(str, unknown))}: not a setting hubsync knows"]
    aws, aws_errors = _aws_settings(data.get("aws"))
    errors.update(aws_errors)
    policy: Policy | None = None
    try:
        raw_policy = data.get("policy")
        policy = load_policy(raw_policy if raw_policy is not None else {})
    except InvalidPolicy as problem:
        errors.update(field_errors(problem.messages, "policy"))
    if errors or aws is None or policy is None:
        raise InvalidSettings(errors)
    return Settings(aws, policy)


def parse_aws_settings(data: Any) -> AwsSettings:
    """Only the AWS part of the form (what "Test connection" tries before it is saved)."""
    aws, errors = _aws_settings(data)
    if errors or aws is None:
        raise InvalidSettings(errors)
    return aws


def _aws_settings(aws: Any) -> tuple[AwsSettings | None, dict[str, list[str]]]:
    if not isinstance(aws, Mapping):
        return None, {"aws": ["is required (role ARN and Region)"]}
    errors: dict[str, list[str]] = {}
    role_arn = _text(aws, "roleArn", errors)
    organizations_role_arn = _text(aws, "organizationsRoleArn", errors)
    region = _text(aws, "aggregationRegion", errors)
    generation_text = _text(aws, "securityhubGeneration", errors)
    generation: SecurityHubGeneration | None = None
    if generation_text is not None:
        try:
            generation = parse_generation(generation_text)
        except ValueError as problem:
            errors["aws.securityhubGeneration"] = [str(problem)]
    if "aws.roleArn" in errors:
        pass
    elif not role_arn:
        errors["aws.roleArn"] = ["is required: the ARN of the role the CloudFormation stack created"]
    elif not ROLE_ARN.match(role_arn):
        errors["aws.roleArn"] = [_arn_message(role_arn)]
    if organizations_role_arn and not ROLE_ARN.match(organizations_role_arn):
        errors["aws.organizationsRoleArn"] = [_arn_message(organizations_role_arn)]
    if "aws.aggregationRegion" in errors:
        pass
    elif not region:
        errors["aws.aggregationRegion"] = ["is required: the Security Hub aggregation Region (e.g. eu-west-1)"]
    elif not AWS_REGION.match(region):
        errors["aws.aggregationRegion"] = [f"{region!r} is not an AWS Region name (e.g. eu-west-1)"]
    if errors or role_arn is None or region is None:
        return None, errors
    return AwsSettings(role_arn, organizations_role_arn, region, generation), {}


def save_settings(store: StorePort, tenant_id: str, settings: Settings) -> Tenant:
    """Store validated settings. The tenant is read again, locked, inside the transaction, so a concurrent
    reinstall (a new shared secret) or uninstall is not overwritten with what this request saw."""
    with store.transaction() as uow:
        tenant = uow.tenants.get(tenant_id, for_update=True)
        if tenant is None:
            raise TenantNotFound(tenant_id)
        return uow.tenants.update(
            dataclasses.replace(
                tenant,
                aws_role_arn=settings.aws.role_arn,
                organizations_role_arn=settings.aws.organizations_role_arn,
                aggregation_region=settings.aws.aggregation_region,
                securityhub_generation=settings.aws.securityhub_generation or tenant.securityhub_generation,
                policy=dump_policy(settings.policy),
            )
        )


def rotate_events_api_key(store: StorePort, tenant_id: str, base_url: str, *, revoke_previous: bool = False
                          ) -> dict[str, Any]:
    """A new EventBridge API key, the only time it is ever shown. The previous key keeps working for the store's
    grace period (time to update the EventBridge connection) unless `revoke_previous` (a key that leaked)."""
    with store.transaction() as uow:
        if revoke_previous:
            key = uow.tenants.regenerate_events_api_key(tenant_id, grace=timedelta(0))
        else:
            key = uow.tenants.regenerate_events_api_key(tenant_id)
    grace_hours = 0 if revoke_previous else int(EVENTS_KEY_GRACE.total_seconds() // 3600)
    return {"apiKey": key, "url": events_url(base_url, tenant_id), "previousKeyValidHours": grace_hours}


def events_url(base_url: str, tenant_id: str) -> str:
    """Where the tenant's EventBridge API destination sends Security Hub's events."""
    return base_url.rstrip("/") + EVENTS_PATH.format(tenant_id=tenant_id)


# -- Test connection -----------------------------------------------------------------------------------------


def check_connection(tenant: Tenant, aws: AwsSetupPort, settings: AwsSettings | None = None) -> ConnectionReport:
    """Assume the role, read one finding of the chosen Security Hub, read one account's owner tag; each step ok or
    failed with the reason.

    `settings` tests what the form holds before it is saved (default: the tenant's stored settings; a form that
    names no generation tests the tenant's). The ExternalId is always the tenant's own."""
    chosen = settings or AwsSettings(tenant.aws_role_arn or "", tenant.organizations_role_arn,
                                     tenant.aggregation_region or "")
    if not chosen.role_arn or not chosen.aggregation_region:
        return ConnectionReport([ProbeStep("Assume the Security Hub role", None, "no role ARN and Region saved yet")])
    roles = AwsRoles(chosen.role_arn, chosen.organizations_role_arn, chosen.aggregation_region)
    generation = chosen.securityhub_generation or tenant.securityhub_generation
    return aws.check_connection(tenant, roles, _owner_tag_key(tenant), generation)


def _owner_tag_key(tenant: Tenant) -> str:
    try:
        return load_policy(tenant.policy).owner_tag_key if tenant.policy else Policy("SEC").owner_tag_key
    except InvalidPolicy:
        return Policy("SEC").owner_tag_key


# -- helpers -------------------------------------------------------------------------------------------------


def _text(values: Mapping[str, Any], name: str, errors: dict[str, list[str]]) -> str | None:
    """A text field, stripped; blank is None. Anything but a string or null is an error under `aws.<name>`."""
    value = values.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        errors[f"aws.{name}"] = ["must be text"]
        return None
    return value.strip() or None


def _arn_message(value: str) -> str:
    return f"{value!r} is not an IAM role ARN (arn:aws:iam::111122223333:role/hubsync-securityhub)"

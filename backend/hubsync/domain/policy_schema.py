"""The policy as JSON: what an admin saves on the configure page and what the CLI reads.

Validation messages are written for a Jira admin, each naming where the problem is, e.g.
`rules[2].account_ids[0]: an AWS account id is 12 digits` or `priorities: CRITICAL is missing`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate
from marshmallow.types import ErrorMessages

from hubsync.domain.finding import Severity
from hubsync.domain.policy import DEFAULT_PRIORITIES, EscalationRule, Policy
from hubsync.domain.risk_workflow import DEFAULT_STATUS_DISPOSITIONS, RISK_REQUEST_STATUS
from hubsync.domain.ticket import Disposition
from hubsync.domain.validation import ACCOUNT_ID, error_lines, validation_messages

# Region names of every AWS partition (commercial, China, GovCloud, ISO, European Sovereign Cloud),
# as botocore's partition data describes them: `us-east-1`, `cn-north-1`, `us-gov-west-1`, `eusc-de-east-1`.
AWS_REGION = re.compile(r"^(us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov|us-iso|us-isob|us-isof|eu-isoe|eusc-de)-[a-z]+-\d+$")
# Jira's default project key format: an uppercase letter, then uppercase letters, digits or underscores.
PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]+$")
SEVERITIES = ", ".join(severity.value for severity in Severity)
# A status can decide any of these; MISSING is what a deleted ticket is, not a status.
STATUS_DISPOSITIONS = tuple(disposition for disposition in Disposition if disposition is not Disposition.MISSING)
REQUIRED: ErrorMessages = {"required": "is required", "null": "is required"}


class InvalidPolicy(ValueError):
    """The policy cannot be used as given. `messages` is marshmallow's error dict; `lines` reads well in a UI."""

    def __init__(self, messages: Mapping[str, Any]) -> None:
        self.messages = dict(messages)
        self.lines = error_lines(self.messages)
        super().__init__("invalid policy: " + "; ".join(self.lines))


def load_policy(data: Mapping[str, Any]) -> Policy:
    """A `Policy` from its JSON form; settings left out take the defaults of `Policy`."""
    if not isinstance(data, Mapping):
        raise InvalidPolicy({"_schema": ["a policy must be a JSON object"]})
    try:
        policy: Policy = PolicySchema().load(data)  # made by `PolicySchema._policy`
    except ValidationError as error:
        raise InvalidPolicy(validation_messages(error)) from error
    return policy


def load_rule(data: Mapping[str, Any]) -> EscalationRule:
    """One escalation rule from its JSON form (the configure page previews a rule before it is saved)."""
    if not isinstance(data, Mapping):
        raise InvalidPolicy({"_schema": ["a rule must be a JSON object"]})
    try:
        rule: EscalationRule = EscalationRuleSchema().load(data)  # made by `EscalationRuleSchema._rule`
    except ValidationError as error:
        raise InvalidPolicy(validation_messages(error)) from error
    return rule


def dump_policy(policy: Policy) -> dict[str, Any]:
    """The JSON form of a policy, with every setting spelled out (defaults included), so it reads back the same."""
    dumped: dict[str, Any] = PolicySchema().dump(policy)
    return dumped


class _SeverityField(fields.Enum[Severity]):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(Severity, by_value=True, error_messages={"unknown": f"must be one of {SEVERITIES}"}, **kwargs)


def _text(**kwargs: Any) -> fields.String:
    """A string setting that must not be blank."""
    return fields.String(validate=validate.Regexp(r"\S", error="must not be empty"), error_messages=REQUIRED, **kwargs)


class EscalationRuleSchema(Schema):
    class Meta:
        unknown = RAISE
        ordered = True

    error_messages = {"unknown": "is not a rule setting hubsync knows"}

    name = fields.String(load_default="")
    security_control_ids = fields.List(_text(), load_default=list)
    generator_ids = fields.List(_text(), load_default=list)
    products = fields.List(_text(), load_default=list)
    min_severity = _SeverityField(load_default=None, allow_none=True)
    account_ids = fields.List(
        fields.String(validate=validate.Regexp(ACCOUNT_ID, error="an AWS account id is 12 digits")), load_default=list
    )
    regions = fields.List(
        fields.String(validate=validate.Regexp(AWS_REGION, error="{input!r} is not an AWS Region name (us-east-1)")),
        load_default=list,
    )

    @post_load
    def _rule(self, data: dict[str, Any], **kwargs: Any) -> EscalationRule:
        return EscalationRule(
            name=data["name"].strip(),
            security_control_ids=tuple(data["security_control_ids"]),
            generator_ids=tuple(data["generator_ids"]),
            products=tuple(data["products"]),
            min_severity=data["min_severity"],
            account_ids=tuple(data["account_ids"]),
            regions=tuple(data["regions"]),
        )


class _DispositionsField(fields.Dict):
    """Jira status name → disposition name (OPEN, FIXED, ACCEPTED, FALSE_POSITIVE, EXPIRED)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict[str, Disposition]:
        if not isinstance(value, Mapping):
            raise ValidationError("must map Jira status names to dispositions")
        names = ", ".join(STATUS_DISPOSITIONS)
        errors: dict[str, list[str]] = {}
        result: dict[str, Disposition] = {}
        for status, disposition in value.items():
            if not isinstance(status, str) or not status.strip():
                errors[str(status) or "(empty)"] = ["a Jira status name must not be empty"]
            elif disposition not in STATUS_DISPOSITIONS:
                errors[status] = [f"{disposition!r} is not a disposition; use one of {names}"]
            else:
                result[status.strip()] = Disposition(disposition)
        if errors:
            raise ValidationError(errors)
        return result

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> dict[str, str]:
        return {status: Disposition(disposition).value for status, disposition in value.items()}


class _PrioritiesField(fields.Dict):
    """Severity → Jira priority name, for all five severities."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict[Severity, str]:
        if not isinstance(value, Mapping):
            raise ValidationError("must map severities to Jira priority names")
        errors: list[str] = []
        for name, priority in value.items():
            if name not in Severity.__members__:
                errors.append(f"{name!r} is not a severity; use one of {SEVERITIES}")
            elif not isinstance(priority, str) or not priority.strip():
                errors.append(f"{name}: the Jira priority name must not be empty")
        errors.extend(f"{severity} is missing" for severity in Severity if severity.value not in value)
        if errors:
            raise ValidationError(errors)
        return {Severity(name): priority.strip() for name, priority in value.items()}

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> dict[str, str]:
        return {Severity(severity).value: value[severity] for severity in Severity if severity in value}


class _Labels(fields.List[str]):
    def __init__(self, **kwargs: Any) -> None:
        label = fields.String(
            validate=validate.Regexp(r"^\S+$", error="a Jira label is one word: no spaces, not empty")
        )
        super().__init__(label, **kwargs)


def _project_key(key: str) -> None:
    if not key.strip():
        raise ValidationError("a Jira project key is required")
    if not PROJECT_KEY.match(key):
        raise ValidationError(f"{key!r} is not a Jira project key: capital letters and digits, e.g. SEC")


class PolicySchema(Schema):
    class Meta:
        unknown = RAISE
        ordered = True

    error_messages = {"unknown": "is not a setting hubsync knows"}

    project_key = fields.String(required=True, error_messages=REQUIRED, validate=lambda key: _project_key(key))
    issue_type = _text(load_default="Task")
    rules = fields.List(fields.Nested(EscalationRuleSchema), load_default=list)
    status_dispositions = _DispositionsField(load_default=lambda: dict(DEFAULT_STATUS_DISPOSITIONS))
    priorities = _PrioritiesField(load_default=lambda: dict(DEFAULT_PRIORITIES))
    labels = _Labels(load_default=lambda: ["security-hub"])
    default_assignee = fields.String(load_default=None, allow_none=True)
    owner_tag_key = fields.String(
        load_default="SecurityContactID", error_messages=REQUIRED,
        validate=validate.Length(1, 128, error="an AWS tag key is 1 to 128 characters"),
    )
    risk_request_status = _text(load_default=RISK_REQUEST_STATUS)
    risk_acceptance_days = fields.Integer(
        load_default=365, allow_none=True, strict=True,
        validate=validate.Range(min=1, error="must be at least 1 day, or null for acceptances that never expire"),
    )

    @post_load
    def _policy(self, data: dict[str, Any], **kwargs: Any) -> Policy:
        rules = tuple(
            rule if rule.name else EscalationRule(**{**rule.__dict__, "name": f"rule {index + 1}"})
            for index, rule in enumerate(data["rules"])
        )
        return Policy(
            project_key=data["project_key"],
            issue_type=data["issue_type"].strip(),
            rules=rules,
            status_dispositions=data["status_dispositions"],
            priorities=data["priorities"],
            labels=tuple(data["labels"]),
            default_assignee=(data["default_assignee"] or "").strip() or None,
            owner_tag_key=data["owner_tag_key"],
            risk_request_status=data["risk_request_status"].strip(),
            risk_acceptance_days=data["risk_acceptance_days"],
        )

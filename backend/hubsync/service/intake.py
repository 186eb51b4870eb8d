"""Security Hub's EventBridge events → hints: one parser for both doors (the HTTP endpoint of an EventBridge API
destination, and the queue of an EventBridge rule's SQS target), for both Security Hubs: CSPM's "Security Hub
Findings - Imported" and "- Custom Action" (ASFF) and the new Security Hub's "Findings Imported V2" (OCSF).

An event is only a hint: hubsync reads the finding fresh when it syncs. So the intake checks the envelope and the
two attributes it needs of each finding (ASFF `Id` and `ProductArn`; OCSF `metadata.uid` and
`metadata.product.uid`) and nothing else; new attributes never break it. The severity and the note or comment only
rank the hint: one hubsync cannot read ranks it NORMAL rather than refusing the event (EventBridge never retries a
4xx, so a refusal would lose the hint); a note or comment starting with "#jira" (a person asking for a ticket, see
`finding.asks_for_ticket`) ranks it first, like a custom action. Security Hub sends one finding per event; several
are accepted, as is a JSON array of events.

A tenant reads one generation, and an account running both Security Hubs sends both kinds of event: an event of
the other generation is no work for that tenant (`reads`), which each door accepts, counts and logs.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from hubsync.domain.finding import (
    FindingIdentifier,
    Severity,
    asks_for_ticket,
    severity_of_normalized,
    severity_of_ocsf,
)
from hubsync.domain.hint import SEVERITY_PRIORITY, HintSource, Priority, SyncHint
from hubsync.domain.tenant import SecurityHubGeneration, Tenant
from hubsync.domain.validation import error_lines, validation_messages
from hubsync.service.json_input import load_json

IMPORTED = "Security Hub Findings - Imported"
CUSTOM_ACTION = "Security Hub Findings - Custom Action"
IMPORTED_V2 = "Findings Imported V2"
SOURCES = {IMPORTED: HintSource.SECURITYHUB_IMPORTED, CUSTOM_ACTION: HintSource.SECURITYHUB_CUSTOM_ACTION,
           IMPORTED_V2: HintSource.SECURITYHUB_IMPORTED}
GENERATIONS = {IMPORTED: SecurityHubGeneration.CSPM, CUSTOM_ACTION: SecurityHubGeneration.CSPM,
               IMPORTED_V2: SecurityHubGeneration.V2}
MAX_EVENTS = 100  # per request body
MAX_FINDINGS = 100  # per event (Security Hub sends one)
# The queue keeps event ids in a String(255) column: a longer one (an EventBridge id may be 256 characters, and a
# finding's place is appended) is replaced by its digest, the same on every redelivery.
MAX_EVENT_ID = 200
_LABELS = frozenset(severity.value for severity in Severity)
_ROLE_ACCOUNT = re.compile(r"^arn:[\w-]+:iam::(\d{12}):")

# The header an EventBridge API destination sends the tenant's events key in (its "API key" authorization).
API_KEY_HEADER = "X-Hubsync-Api-Key"


class InvalidEvent(ValueError):
    """The body is not Security Hub events; `lines` says what is wrong, one `path: message` per problem."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        super().__init__("; ".join(lines))


class UnsupportedEvent(ValueError):
    """A well-formed event of a detail-type hubsync does not take."""

    def __init__(self, detail_type: str) -> None:
        self.detail_type = detail_type
        super().__init__(f"detail-type {detail_type!r} is not one hubsync takes; it takes {sorted(SOURCES)}")


@dataclass(frozen=True)
class FindingRef:
    identifier: FindingIdentifier
    severity: Severity | None
    asks_for_ticket: bool  # its note (ASFF) or comment (OCSF) starts with "#jira"


@dataclass(frozen=True)
class SecurityHubEvent:
    id: str
    detail_type: str
    account: str | None
    findings: tuple[FindingRef, ...]

    @property
    def source(self) -> HintSource:
        return SOURCES[self.detail_type]

    @property
    def generation(self) -> SecurityHubGeneration:
        return GENERATIONS[self.detail_type]


class _Tolerant(Schema):
    class Meta:
        unknown = EXCLUDE


class _FindingRef(_Tolerant):
    Id = fields.String(required=True, validate=validate.Length(1, 512))
    ProductArn = fields.String(required=True, validate=validate.Length(1, 2048))
    Severity = fields.Raw(allow_none=True)  # read leniently by `_severity`: it only ranks the hint
    Note = fields.Raw(allow_none=True)  # read leniently by `_asff_ref`: it only ranks the hint


class _Detail(_Tolerant):
    findings = fields.List(fields.Nested(_FindingRef), required=True, validate=validate.Length(1, MAX_FINDINGS))
    actionName = fields.String()


class _OcsfProduct(_Tolerant):
    uid = fields.String(required=True, validate=validate.Length(1, 2048))


class _OcsfMetadata(_Tolerant):
    uid = fields.String(required=True, validate=validate.Length(1, 512))
    product = fields.Nested(_OcsfProduct, required=True)


class _OcsfRef(_Tolerant):
    metadata = fields.Nested(_OcsfMetadata, required=True)
    # Read leniently by `_ocsf_ref`: they only rank the hint.
    severity_id = fields.Raw(allow_none=True)
    severity = fields.Raw(allow_none=True)
    comment = fields.Raw(allow_none=True)


class _DetailV2(_Tolerant):
    findings = fields.List(fields.Nested(_OcsfRef), required=True, validate=validate.Length(1, MAX_FINDINGS))


class _Envelope(_Tolerant):
    id = fields.String(required=True, validate=validate.Length(1, 256))
    detail_type = fields.String(required=True, data_key="detail-type")
    source = fields.String(required=True, validate=validate.Equal("aws.securityhub"))
    account = fields.String(validate=validate.Regexp(r"^\d{12}$", error="not a 12-digit AWS account id"))
    detail = fields.Dict(required=True)


def parse_events(body: Any) -> list[SecurityHubEvent]:
    """The events in a request or message body (one event object, or an array of them). Raises `InvalidEvent`
    naming every problem, or `UnsupportedEvent` for a detail-type other than Imported, Custom Action and Imported
    V2."""
    if isinstance(body, list):
        if not 1 <= len(body) <= MAX_EVENTS:
            raise InvalidEvent([f"an array of events must hold 1 to {MAX_EVENTS} events, not {len(body)}"])
        items, prefixes = body, [f"[{index}]" for index in range(len(body))]
    else:
        items, prefixes = [body], [""]
    problems: list[str] = []
    unsupported: list[str] = []
    events: list[SecurityHubEvent] = []
    for item, prefix in zip(items, prefixes, strict=True):
        envelope = _load(_Envelope(), item, prefix)
        if isinstance(envelope, list):
            problems += envelope
            continue
        if envelope["detail_type"] not in SOURCES:  # its detail has another shape: not checked
            unsupported.append(envelope["detail_type"])
            continue
        schema = _DetailV2() if envelope["detail_type"] == IMPORTED_V2 else _Detail()
        detail = _load(schema, envelope["detail"], f"{prefix}.detail" if prefix else "detail")
        if isinstance(detail, list):
            problems += detail
            continue
        events.append(_event(envelope, detail))
    if problems:
        raise InvalidEvent(problems)
    if unsupported:
        raise UnsupportedEvent(unsupported[0])
    return events


def parse_event_body(raw: str | bytes) -> list[SecurityHubEvent]:
    """`parse_events` of a raw body (an SQS message's): JSON that is malformed or nested past
    `json_input.MAX_DEPTH` is an `InvalidEvent` too, never a `RecursionError`."""
    try:
        body = load_json(raw)
    except ValueError as exc:
        raise InvalidEvent([f"(body): not JSON: {exc}"]) from None
    return parse_events(body)


def hints_for(tenant_id: str, events: Iterable[SecurityHubEvent]) -> list[SyncHint]:
    """One hint per finding, with its queue priority: a person's custom action or "#jira" first, then by severity
    (the hint of a "#jira" note stays an Imported one: the worker reads the fresh finding's note itself). Each hint's
    event id is the event's (with the finding's place when an event names several; over `MAX_EVENT_ID` characters, its
    sha256), so a redelivery is a no-op."""
    hints: list[SyncHint] = []
    for event in events:
        several = len(event.findings) > 1
        for index, finding in enumerate(event.findings):
            event_id = bounded_event_id(f"{event.id}/{index}" if several else event.id)
            by_hand = event.source is HintSource.SECURITYHUB_CUSTOM_ACTION or finding.asks_for_ticket
            if by_hand:
                priority = Priority.BY_HAND
            elif finding.severity is None:  # a severity hubsync cannot read
                priority = Priority.NORMAL
            else:
                priority = SEVERITY_PRIORITY.get(finding.severity, Priority.NORMAL)
            hints.append(SyncHint(tenant_id, event.source, finding=finding.identifier, event_id=event_id,
                                  priority=priority))
    return hints


def reads(tenant: Tenant, event: SecurityHubEvent) -> bool:
    """Whether the tenant syncs with the Security Hub that sent the event (an account running both sends both)."""
    return tenant.securityhub_generation is event.generation


def tenants_watching(account: str | None, tenants: Sequence[Tenant]) -> list[Tenant]:
    """For an event from an SQS queue, which carries no tenant: the enabled tenants whose Security Hub
    administrator account (the account of their role) sent it. Several tenants on one account each get it."""
    return [
        tenant
        for tenant in tenants
        if tenant.enabled and account is not None and _role_account(tenant.aws_role_arn) == account
    ]


def _role_account(role_arn: str | None) -> str | None:
    match = _ROLE_ACCOUNT.match(role_arn or "")
    return match.group(1) if match else None


def _load(schema: Schema, data: Any, prefix: str) -> dict[str, Any] | list[str]:
    if not isinstance(data, Mapping):
        return [f"{prefix}: must be a JSON object" if prefix else "the body must be a JSON object (an event)"]
    try:
        loaded: dict[str, Any] = schema.load(data)  # no `post_load` here: a schema loads a dict
    except ValidationError as error:
        return error_lines(validation_messages(error), prefix)
    return loaded


def _event(envelope: Mapping[str, Any], detail: Mapping[str, Any]) -> SecurityHubEvent:
    ocsf = envelope["detail_type"] == IMPORTED_V2
    return SecurityHubEvent(
        id=envelope["id"],
        detail_type=envelope["detail_type"],
        account=envelope.get("account"),
        findings=tuple(_ocsf_ref(ref) if ocsf else _asff_ref(ref) for ref in detail["findings"]),
    )


def _asff_ref(ref: Mapping[str, Any]) -> FindingRef:
    note = ref.get("Note")
    return FindingRef(FindingIdentifier(ref["Id"], ref["ProductArn"]), _severity(ref.get("Severity")),
                      asks_for_ticket(_text(note.get("Text") if isinstance(note, Mapping) else None)))


def _ocsf_ref(ref: Mapping[str, Any]) -> FindingRef:
    """A V2 finding is named by `metadata.uid` under its product, as the OCSF parser names it."""
    metadata = ref["metadata"]
    return FindingRef(FindingIdentifier(metadata["uid"], metadata["product"]["uid"]),
                      severity_of_ocsf(ref.get("severity_id"), ref.get("severity")),
                      asks_for_ticket(_text(ref.get("comment"))))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _severity(data: Any) -> Severity | None:
    """The finding's severity when the event carries one hubsync knows (a Label, else a Normalized score); None
    ranks the hint NORMAL."""
    if not isinstance(data, Mapping):
        return None
    label, normalized = data.get("Label"), data.get("Normalized")
    if isinstance(label, str) and label in _LABELS:
        return Severity(label)
    if isinstance(normalized, int | float) and not isinstance(normalized, bool) and 0 <= normalized <= 100:
        return severity_of_normalized(int(normalized))
    return None


def bounded_event_id(event_id: str) -> str:
    """An event id that fits the queue's column: as it is up to `MAX_EVENT_ID` characters, else its sha256 (the same
    on every redelivery, so deduplication still works)."""
    if len(event_id) <= MAX_EVENT_ID:
        return event_id
    return "sha256:" + hashlib.sha256(event_id.encode()).hexdigest()

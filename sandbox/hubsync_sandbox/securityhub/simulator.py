"""The Security Hub simulator: one administrator account and its members across Regions, their findings and
custom actions, and the operations hubsync calls, each taking the caller and the request body as botocore sends
it and returning the response body.

Who sees what:
- The caller's account is its access key id when that names a configured account (so a test can act as a
  member with `aws_access_key_id="222222222222"`); any other key (a plain "testing" key, or keys moto's STS issued
  for a role in the administrator account) acts as the administrator.
- The administrator sees its members' findings; a member sees its own.
- A call in the aggregation Region sees the findings of every Region; a call in another Region sees that
  Region's. A Region that is not configured answers InvalidAccessException, as Security Hub does where it is not
  enabled.
- Events go to the administrator's bus in the aggregation Region (or the finding's Region without aggregation),
  which is where an EventBridge rule sees findings of every member and Region.
"""

from __future__ import annotations

import itertools
import random
import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from hubsync_sandbox.knobs import Knobs
from hubsync_sandbox.securityhub import asff, events, lifecycle, paging
from hubsync_sandbox.securityhub.delivery import EventBus
from hubsync_sandbox.securityhub.errors import ServiceError, fault_response, invalid_input, not_found
from hubsync_sandbox.securityhub.filters import SortCriterion, compile_filters, compile_sort
from hubsync_sandbox.securityhub.store import FindingStore
from hubsync_sandbox.securityhub.throttling import Throttle

if TYPE_CHECKING:
    from flask import Flask

Clock = Callable[[], datetime]
Finding = dict[str, Any]
Request = Mapping[str, Any]

MAX_BATCH = 100
MAX_ACTION_TARGETS = 50
MAX_CUSTOM_ACTION_FINDINGS = 20  # what the console lets a user select
ACTION_TARGET_ID = re.compile(r"^[A-Za-z0-9]{1,20}$")
UPDATABLE = ("Note", "Severity", "VerificationState", "Confidence", "Criticality", "Types", "UserDefinedFields",
             "Workflow", "RelatedFindings")


def utc_now() -> datetime:
    return datetime.now(UTC)


# The per-finding errors Security Hub answers under load, which a caller may send again.
TRANSIENT_UNPROCESSED = ("ConcurrentUpdateError", "InternalFailure")


class Unprocessed:
    """The knob that leaves a share of BatchUpdateFindings' findings unprocessed with a transient error code (as
    Security Hub does under load, or right after an import), changing nothing about them. Off by default."""

    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self.share = 0.0
        self.error_code = TRANSIENT_UNPROCESSED[0]
        self.count: int | None = None  # None: until cleared; else the findings it may still leave unprocessed
        self.served = 0  # findings left unprocessed so far

    def configure(self, share: float, error_code: str | None = None, count: int | None = None) -> None:
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0.0 <= share <= 1.0:
            raise ValueError("share must be a number from 0 to 1")
        if error_code is not None and error_code not in TRANSIENT_UNPROCESSED:
            raise ValueError(f"error_code must be one of {', '.join(TRANSIENT_UNPROCESSED)}")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
            raise ValueError("count must be a whole number, at least 1")
        with self._lock:
            self.share = float(share)
            self.error_code = error_code or TRANSIENT_UNPROCESSED[0]
            self.count = count

    def settings(self) -> dict[str, Any]:
        with self._lock:
            return {"share": self.share, "error_code": self.error_code, "count": self.count, "served": self.served}

    def pick(self) -> str | None:
        """The error code to leave this finding unprocessed with, or None to process it."""
        with self._lock:
            if self.share <= 0.0 or self._random.random() >= self.share:
                return None
            if self.count is not None:
                self.count -= 1
                if self.count == 0:
                    self.share, self.count = 0.0, None
            self.served += 1
            return self.error_code


@dataclass(frozen=True)
class Caller:
    """Who is calling: the account behind the credentials and the Region of the SigV4 credential scope."""

    account_id: str
    region: str


@dataclass(frozen=True)
class ActionTarget:
    arn: str
    name: str
    description: str
    account_id: str
    region: str
    seq: int

    def as_dict(self) -> dict[str, str]:
        return {"ActionTargetArn": self.arn, "Name": self.name, "Description": self.description}


class SecurityHubSimulator:
    """Security Hub CSPM for one organization: findings, workflow rules, custom actions, events, throttling."""

    def __init__(
        self,
        admin_account_id: str,
        member_account_ids: Iterable[str] = (),
        regions: Iterable[str] = ("us-east-1",),
        aggregation_region: str | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.admin_account_id = admin_account_id
        self.member_account_ids = tuple(member_account_ids)
        self.regions = tuple(regions)
        self.aggregation_region = aggregation_region
        for account in self.accounts:
            if not asff.ACCOUNT_ID.match(account):
                raise ValueError(f"account id {account!r} is not 12 digits")
        if aggregation_region is not None and aggregation_region not in self.regions:
            raise ValueError(f"aggregation Region {aggregation_region} is not one of {self.regions}")
        self.clock = clock
        self.findings = FindingStore()
        self.events = EventBus()
        self.throttle = Throttle(lambda: self.clock().timestamp())
        self.knobs = Knobs(error_body=fault_response)
        self.unprocessed = Unprocessed()
        self.enabled_at = asff.format_timestamp(clock())
        self._lock = threading.Lock()
        self._action_targets: dict[str, ActionTarget] = {}
        self._action_seq = itertools.count()

    @property
    def accounts(self) -> tuple[str, ...]:
        return (self.admin_account_id, *self.member_account_ids)

    @cached_property
    def wsgi_app(self) -> Flask:
        from hubsync_sandbox.securityhub.app import create_securityhub_app

        return create_securityhub_app(self)

    def caller_for(self, access_key_id: str | None, region: str) -> Caller:
        """The caller behind an access key: a configured account id names that account, anything else the admin."""
        account = access_key_id if access_key_id in self.accounts else self.admin_account_id
        return Caller(account, region)

    # -- findings --------------------------------------------------------------------------------
    def get_findings(self, caller: Caller, request: Request) -> dict[str, Any]:
        self._enter(caller)
        max_results = _max_results(request.get("MaxResults"))
        filters, sort = request.get("Filters"), request.get("SortCriteria")
        matches = compile_filters(filters, self.clock())
        criteria = compile_sort(sort)
        query = paging.fingerprint(caller.account_id, caller.region, filters, sort)
        after = None
        if "NextToken" in request:
            after = _position(paging.decode(request["NextToken"], query), criteria)
        visible = self._visibility(caller)
        findings, position = self.findings.page(
            lambda finding: visible(finding) and matches(finding), criteria, max_results, after, query
        )
        response: dict[str, Any] = {"Findings": findings}
        if position is not None:
            response["NextToken"] = paging.encode(query, position)
        return response

    def batch_import_findings(self, caller: Caller, request: Request) -> dict[str, Any]:
        """Create or replace findings; each invalid one is reported in FailedFindings, the rest imported."""
        self._enter(caller)
        incoming_findings = request.get("Findings")
        if not isinstance(incoming_findings, list) or not 1 <= len(incoming_findings) <= MAX_BATCH:
            raise invalid_input(f"Findings must hold 1 to {MAX_BATCH} findings")
        processed_at = asff.format_timestamp(self.clock())
        failed = []
        for incoming in incoming_findings:
            try:
                asff.validate_finding(incoming)
                self._check_import_account(caller, incoming["AwsAccountId"])
            except asff.InvalidFinding as exc:
                failed.append({"Id": _id_of(incoming), "ErrorCode": "InvalidInput", "ErrorMessage": str(exc)})
                continue
            with self._lock:
                stored = self.findings.get(incoming["ProductArn"], incoming["Id"])
                if stored is None:
                    finding = lifecycle.created(incoming, caller.region, processed_at)
                else:
                    finding = lifecycle.reimported(stored.finding, incoming, stored.customer_set, processed_at)
                self.findings.put(finding)
                self._emit_imported(finding)
        succeeded = len(incoming_findings) - len(failed)
        return {"FailedCount": len(failed), "SuccessCount": succeeded, "FailedFindings": failed}

    def batch_update_findings(self, caller: Caller, request: Request) -> dict[str, Any]:
        """A customer's update of up to 100 findings; per-finding failures carry Security Hub's error codes."""
        self._enter(caller)
        identifiers = [_identifier(item) for item in _identifier_list(request.get("FindingIdentifiers"))]
        changes = _changes(request)
        occurrences = Counter((item["ProductArn"], item["Id"]) for item in identifiers)
        visible = self._visibility(caller)
        updated_at = asff.format_timestamp(self.clock())
        processed, unprocessed = [], []
        for identifier in identifiers:
            key = (identifier["ProductArn"], identifier["Id"])
            if occurrences[key] > 1:
                unprocessed.append(_unprocessed(identifier, "DuplicatedFindingIdentifier"))
                continue
            transient = self.unprocessed.pick()
            if transient is not None:
                unprocessed.append(_unprocessed(identifier, transient))
                continue
            with self._lock:
                stored = self.findings.get(*key)
                if stored is None or not visible(stored.finding):
                    unprocessed.append(_unprocessed(identifier, "FindingNotFound"))
                    continue
                try:
                    finding = lifecycle.updated(stored.finding, changes, updated_at)
                except asff.InvalidFinding:
                    unprocessed.append(_unprocessed(identifier, "InvalidInput"))
                    continue
                self.findings.put(finding, stored.customer_set | (set(changes) & set(lifecycle.SHARED)))
                self._emit_imported(finding)
            processed.append(identifier)
        return {"ProcessedFindings": processed, "UnprocessedFindings": unprocessed}

    # -- custom actions --------------------------------------------------------------------------
    def create_action_target(self, caller: Caller, request: Request) -> dict[str, Any]:
        self._enter(caller)
        name, description, target_id = request.get("Name"), request.get("Description"), request.get("Id")
        if not isinstance(name, str) or not name.strip() or len(name) > 20:
            raise invalid_input("Name must be 1 to 20 characters")
        if not isinstance(description, str) or not description.strip():
            raise invalid_input("Description must be a non-empty string")
        if not isinstance(target_id, str) or not ACTION_TARGET_ID.match(target_id):
            raise invalid_input("Id must be 1 to 20 alphanumeric characters")
        arn = f"arn:aws:securityhub:{caller.region}:{caller.account_id}:action/custom/{target_id}"
        with self._lock:
            if arn in self._action_targets:
                raise ServiceError("ResourceConflictException", f"Action target {arn} already exists")
            if len(self._own_action_targets(caller)) >= MAX_ACTION_TARGETS:
                raise ServiceError(
                    "LimitExceededException",
                    f"Account {caller.account_id} already has {MAX_ACTION_TARGETS} custom actions in {caller.region}",
                )
            self._action_targets[arn] = ActionTarget(
                arn, name, description, caller.account_id, caller.region, next(self._action_seq)
            )
        return {"ActionTargetArn": arn}

    def describe_action_targets(self, caller: Caller, request: Request) -> dict[str, Any]:
        self._enter(caller)
        max_results = _max_results(request.get("MaxResults"))
        own = self._own_action_targets(caller)
        arns = request.get("ActionTargetArns")
        if arns:
            by_arn = {target.arn: target for target in own}
            missing = [arn for arn in arns if arn not in by_arn]
            if missing:
                raise not_found(f"Action target {missing[0]} not found")
            own = [by_arn[arn] for arn in dict.fromkeys(arns)]
        query = paging.fingerprint(caller.account_id, caller.region, arns)
        if "NextToken" in request:
            last = paging.decode(request["NextToken"], query)
            if isinstance(last, bool) or not isinstance(last, int):
                raise invalid_input("NextToken is invalid")
            own = [target for target in own if target.seq > last]
        page = own[:max_results]
        response: dict[str, Any] = {"ActionTargets": [target.as_dict() for target in page]}
        if len(own) > max_results:
            response["NextToken"] = paging.encode(query, page[-1].seq)
        return response

    def delete_action_target(self, caller: Caller, request: Request) -> dict[str, Any]:
        self._enter(caller)
        arn = request.get("ActionTargetArn")
        with self._lock:
            target = self._action_targets.get(arn) if isinstance(arn, str) else None
            if target is None or (target.account_id, target.region) != (caller.account_id, caller.region):
                raise not_found(f"Action target {arn} not found")
            del self._action_targets[target.arn]
        return {"ActionTargetArn": target.arn}

    def trigger_custom_action(self, action_target_arn: str, identifiers: Any) -> list[events.Event]:
        """What a console user choosing a custom action does: one Custom Action event per selected finding,
        on the bus of the account and Region the action belongs to."""
        target = self._action_targets.get(action_target_arn)
        if target is None:
            raise not_found(f"Action target {action_target_arn} not found")
        if not isinstance(identifiers, list) or not 1 <= len(identifiers) <= MAX_CUSTOM_ACTION_FINDINGS:
            raise invalid_input(f"a custom action takes 1 to {MAX_CUSTOM_ACTION_FINDINGS} findings")
        visible = self._visibility(Caller(target.account_id, target.region))
        findings = []
        for identifier in map(_identifier, identifiers):
            stored = self.findings.get(identifier["ProductArn"], identifier["Id"])
            if stored is None or not visible(stored.finding):
                raise not_found(f"Finding {identifier['Id']} not found in {target.account_id} {target.region}")
            findings.append(stored.finding)
        now = self.clock()
        emitted = [
            events.custom_action_event(
                finding, target.arn, target.name, target.description, target.account_id, target.region, now
            )
            for finding in findings
        ]
        for event in emitted:
            self.events.emit(event)
        return emitted

    # -- accounts --------------------------------------------------------------------------------
    def get_administrator_account(self, caller: Caller, request: Request) -> dict[str, Any]:
        """Members see their administrator; the administrator itself gets an empty answer."""
        self._enter(caller)
        if caller.account_id == self.admin_account_id:
            return {}
        invitation = uuid.uuid5(uuid.NAMESPACE_URL, f"securityhub:{self.admin_account_id}:{caller.account_id}")
        return {
            "Administrator": {
                "AccountId": self.admin_account_id,
                "InvitationId": str(invitation),
                "InvitedAt": self.enabled_at,
                "MemberStatus": "ENABLED",
            }
        }

    def describe_hub(self, caller: Caller, request: Request) -> dict[str, Any]:
        self._enter(caller)
        arn = f"arn:aws:securityhub:{caller.region}:{caller.account_id}:hub/default"
        if request.get("HubArn") not in (None, arn):
            raise not_found(f"Hub {request['HubArn']} not found")
        return {
            "HubArn": arn,
            "SubscribedAt": self.enabled_at,
            "AutoEnableControls": True,
            "ControlFindingGenerator": "SECURITY_CONTROL",
        }

    # -- internals -------------------------------------------------------------------------------
    def _enter(self, caller: Caller) -> None:
        if caller.region not in self.regions or caller.account_id not in self.accounts:
            raise ServiceError(
                "InvalidAccessException",
                f"Account {caller.account_id} is not subscribed to AWS Security Hub CSPM in {caller.region}",
            )

    def _visibility(self, caller: Caller) -> Callable[[Mapping[str, Any]], bool]:
        every_account = caller.account_id == self.admin_account_id
        every_region = caller.region == self.aggregation_region
        account, region = caller.account_id, caller.region
        if every_account and every_region:
            return lambda finding: True
        if every_account:
            return lambda finding: finding["Region"] == region
        if every_region:
            return lambda finding: finding["AwsAccountId"] == account
        return lambda finding: finding["AwsAccountId"] == account and finding["Region"] == region

    def _check_import_account(self, caller: Caller, account_id: str) -> None:
        """A member imports its own findings; the administrator imports for itself and its members."""
        allowed = self.accounts if caller.account_id == self.admin_account_id else (caller.account_id,)
        if account_id not in allowed:
            raise asff.InvalidFinding(f"account {caller.account_id} cannot import findings for {account_id}")

    def _own_action_targets(self, caller: Caller) -> list[ActionTarget]:
        scope = (caller.account_id, caller.region)
        targets = list(self._action_targets.values())  # a snapshot: other requests may add or delete meanwhile
        own = (target for target in targets if (target.account_id, target.region) == scope)
        return sorted(own, key=lambda target: target.seq)

    def _emit_imported(self, finding: Finding) -> None:
        region = self.aggregation_region or finding["Region"]
        self.events.emit(events.imported_event(finding, self.admin_account_id, region, self.clock()))


def _max_results(value: Any) -> int:
    if value is None:
        return MAX_BATCH
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_BATCH:
        raise invalid_input(f"MaxResults must be an integer from 1 to {MAX_BATCH}")
    return value


def _position(position: Any, criteria: list[SortCriterion]) -> list[Any]:
    """A decoded NextToken position, checked: one value per sort criterion, then a sequence number."""
    valid = (
        isinstance(position, list)
        and len(position) == len(criteria) + 1
        and isinstance(position[-1], int)
        and position[-1] >= 0
        and all(value is None or isinstance(value, str | int | float) for value in position[:-1])
    )
    if not valid:
        raise invalid_input("NextToken is invalid")
    return position


def _id_of(finding: Any) -> str:
    finding_id = finding.get("Id") if isinstance(finding, dict) else None
    return finding_id if isinstance(finding_id, str) and finding_id.strip() else "(missing Id)"


def _identifier_list(value: Any) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise invalid_input("FindingIdentifiers must list at least one finding")
    if len(value) > MAX_BATCH:
        raise invalid_input(f"FindingIdentifiers can hold at most {MAX_BATCH} findings; got {len(value)}")
    return value


def _identifier(item: Any) -> dict[str, str]:
    if not isinstance(item, dict) or not all(isinstance(item.get(k), str) and item[k] for k in ("Id", "ProductArn")):
        raise invalid_input("each finding identifier needs an Id and a ProductArn")
    return {"Id": item["Id"], "ProductArn": item["ProductArn"]}


# The error messages the API reference lists for each BatchUpdateFindings error code.
UNPROCESSED_MESSAGES = {
    "ConcurrentUpdateError": "Another request attempted to update the finding while this request was being processed",
    "InternalFailure": "Internal Failure",
    "DuplicatedFindingIdentifier": "Finding Identifier is duplicated",
    "FindingNotFound": "Finding Not Found",
    "InvalidInput": "Invalid Input",
}


def _unprocessed(identifier: dict[str, str], code: str) -> dict[str, Any]:
    return {"FindingIdentifier": identifier, "ErrorCode": code, "ErrorMessage": UNPROCESSED_MESSAGES[code]}


def _changes(request: Request) -> dict[str, Any]:
    """The attributes a BatchUpdateFindings request changes, validated; InvalidInputException otherwise."""
    unknown = sorted(set(request) - {"FindingIdentifiers", *UPDATABLE})
    if unknown:
        raise invalid_input(f"BatchUpdateFindings cannot update {unknown[0]!r}")
    changes = {name: request[name] for name in UPDATABLE if name in request}
    if not changes:
        raise invalid_input("BatchUpdateFindings needs at least one attribute to update")
    try:
        _check_changes(changes)
    except asff.InvalidFinding as exc:
        raise invalid_input(str(exc)) from None
    return changes


def _check_changes(changes: dict[str, Any]) -> None:
    note = changes.get("Note")
    if note is not None:
        if not isinstance(note, dict) or set(note) != {"Text", "UpdatedBy"}:
            raise asff.InvalidFinding("Note needs exactly Text and UpdatedBy")
        for name, limit in (("Text", 512), ("UpdatedBy", 512)):
            if not isinstance(note[name], str) or not note[name].strip() or len(note[name]) > limit:
                raise asff.InvalidFinding(f"Note.{name} must be 1 to {limit} characters")
    severity = changes.get("Severity")
    if severity is not None:
        if not isinstance(severity, dict) or not severity or set(severity) - {"Label", "Normalized", "Product"}:
            raise asff.InvalidFinding("Severity takes Label, Normalized and/or Product")
        asff.check_one_of(severity.get("Label"), asff.SEVERITY_LABELS, "Severity.Label")
        if "Normalized" in severity:
            asff.check_ratio(severity["Normalized"], "Severity.Normalized")
        product = severity.get("Product", 0)
        if isinstance(product, bool) or not isinstance(product, int | float):
            raise asff.InvalidFinding("Severity.Product must be a number")
    workflow = changes.get("Workflow", {"Status": "NEW"})
    if not isinstance(workflow, dict) or workflow.get("Status") not in asff.WORKFLOW_STATUSES:
        raise asff.InvalidFinding(f"Workflow.Status must be one of {', '.join(asff.WORKFLOW_STATUSES)}")
    if "VerificationState" in changes and changes["VerificationState"] not in asff.VERIFICATION_STATES:
        raise asff.InvalidFinding(f"VerificationState must be one of {', '.join(asff.VERIFICATION_STATES)}")
    for name in ("Confidence", "Criticality"):
        if name in changes:
            asff.check_ratio(changes[name], name)
    if "Types" in changes:
        asff.check_types(changes["Types"])
    if "UserDefinedFields" in changes:
        asff.check_field_map(changes["UserDefinedFields"], "UserDefinedFields", value_max=1024)
    related = changes.get("RelatedFindings")
    if related is not None and (not isinstance(related, list) or len(related) > 10):
        raise asff.InvalidFinding("RelatedFindings must list at most 10 findings")
    for item in related or ():
        _identifier(item)

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
- Security Hub V2 lives beside CSPM: `add_ocsf_twins()` gives each ASFF finding of an AWS integration its OCSF
  twin, an independent record served by GetFindingsV2 and BatchUpdateFindingsV2 under the same visibility rules.
  V2 is enabled in every configured account and Region until `set_v2_enabled` turns it off in one, where
  DescribeSecurityHubV2 answers ResourceNotFoundException and the other V2 operations AccessDeniedException.
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
from hubsync_sandbox.securityhub import asff, events, filters_v2, lifecycle, ocsf, paging
from hubsync_sandbox.securityhub.delivery import EventBus
from hubsync_sandbox.securityhub.errors import ServiceError, fault_response, invalid_input, not_found
from hubsync_sandbox.securityhub.filters import SortCriterion, compile_filters, compile_sort
from hubsync_sandbox.securityhub.filters_v2 import validation
from hubsync_sandbox.securityhub.ocsf_store import OcsfStore, SortField
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
TRANSIENT_UNPROCESSED_V2 = ("ConflictException", "InternalServerException")
STATUS_IDS = (0, 1, 2, 3, 4, 5, 99)
SEVERITY_IDS = (0, 1, 2, 3, 4, 5, 6, 99)
MAX_SCOPES = 10


class Unprocessed:
    """The knob that leaves a share of BatchUpdateFindings' (or, with the V2 codes, BatchUpdateFindingsV2')
    findings unprocessed with a transient error code (as Security Hub does under load, or right after an import),
    changing nothing about them. Off by default."""

    def __init__(self, seed: int | None = None, codes: tuple[str, ...] = TRANSIENT_UNPROCESSED) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._codes = codes
        self.share = 0.0
        self.error_code = codes[0]
        self.count: int | None = None  # None: until cleared; else the findings it may still leave unprocessed
        self.served = 0  # findings left unprocessed so far

    def configure(self, share: float, error_code: str | None = None, count: int | None = None) -> None:
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0.0 <= share <= 1.0:
            raise ValueError("share must be a number from 0 to 1")
        if error_code is not None and error_code not in self._codes:
            raise ValueError(f"error_code must be one of {', '.join(self._codes)}")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
            raise ValueError("count must be a whole number, at least 1")
        with self._lock:
            self.share = float(share)
            self.error_code = error_code or self._codes[0]
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
    """Security Hub CSPM (and V2) for one organization: findings, workflow rules, custom actions, events,
    throttling."""

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
        self.ocsf_findings = OcsfStore()
        self.unprocessed_v2 = Unprocessed(codes=TRANSIENT_UNPROCESSED_V2)
        self.enabled_at = asff.format_timestamp(clock())
        # (account, Region) -> when Security Hub V2 was enabled there
        self._v2_hubs = {(account, region): self.enabled_at for account in self.accounts for region in self.regions}
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

    # -- Security Hub V2 (OCSF) ------------------------------------------------------------------
    def add_ocsf_twins(self) -> int:
        """What enabling Security Hub V2 beside CSPM gives: an OCSF twin of every stored ASFF finding of the AWS
        integrations V2 ingests (controls, GuardDuty, Inspector) that has none yet. Returns how many it added."""
        added = 0
        for finding in self.findings.snapshot():
            twin = ocsf.twin_of(finding)
            if twin is None or self.ocsf_findings.get(twin["metadata"]["uid"]) is not None:
                continue
            self._put_ocsf(twin)
            added += 1
        return added

    def archive_ocsf(self, uid: str) -> Finding:
        """The provider closes an OCSF finding (activity Close, status Archived), as when its resource is gone."""
        return self._provider_change_ocsf(uid, ocsf.archived)

    def recur_ocsf(self, uid: str) -> Finding:
        """The provider sees the problem again: back to New (and failing), with a later modified time."""
        return self._provider_change_ocsf(uid, ocsf.recurred)

    def set_v2_enabled(self, enabled: bool, account_id: str | None = None, region: str | None = None) -> None:
        """Turn Security Hub V2 on or off in one account (the administrator by default) and Region (every one by
        default), so a test sees what a tenant that has not enabled it gets."""
        account = account_id or self.admin_account_id
        if account not in self.accounts:
            raise ValueError(f"account {account!r} is not one of {self.accounts}")
        if region is not None and region not in self.regions:
            raise ValueError(f"Region {region!r} is not one of {self.regions}")
        with self._lock:
            for where in [(account, region)] if region else [(account, each) for each in self.regions]:
                if not enabled:
                    self._v2_hubs.pop(where, None)
                elif where not in self._v2_hubs:
                    self._v2_hubs[where] = asff.format_timestamp(self.clock())

    def v2_hubs(self) -> list[dict[str, Any]]:
        """Where Security Hub V2 is enabled or not, for the control API."""
        return [{"account_id": account, "region": region, "enabled": (account, region) in self._v2_hubs}
                for account in self.accounts for region in self.regions]

    def describe_security_hub_v2(self, caller: Caller, request: Request) -> dict[str, Any]:
        """The V2 hub of the caller's account and Region; where V2 is not enabled, ResourceNotFoundException (the
        operation declares no access error)."""
        if request:
            raise validation(f"DescribeSecurityHubV2 does not take {sorted(request)[0]!r}")
        subscribed_at = self._v2_hubs.get((caller.account_id, caller.region))
        if subscribed_at is None:
            raise not_found(f"Security Hub is not enabled for account {caller.account_id} in {caller.region}")
        hub = uuid.uuid5(uuid.NAMESPACE_URL, f"securityhub:hubv2:{caller.account_id}:{caller.region}")
        return {"HubV2Arn": f"arn:aws:securityhub:{caller.region}:{caller.account_id}:hubv2/{hub}",
                "SubscribedAt": subscribed_at}

    def get_findings_v2(self, caller: Caller, request: Request) -> dict[str, Any]:
        self._enter_v2(caller)
        unknown = sorted(set(request) - {"Filters", "Scopes", "SortCriteria", "NextToken", "MaxResults"})
        if unknown:
            raise validation(f"GetFindingsV2 does not take {unknown[0]!r}")
        max_results = request.get("MaxResults", MAX_BATCH)
        if isinstance(max_results, bool) or not isinstance(max_results, int) or not 1 <= max_results <= MAX_BATCH:
            raise validation(f"MaxResults must be an integer from 1 to {MAX_BATCH}")
        self._check_scopes(caller, request.get("Scopes"))
        filters, sort_request = request.get("Filters"), request.get("SortCriteria")
        matches = filters_v2.compile_filters(filters, self.clock())
        sort = _sort_fields(sort_request)
        query = paging.fingerprint("v2", caller.account_id, caller.region, filters, sort_request, request.get("Scopes"))
        after = None
        if "NextToken" in request:
            try:
                after = _position(paging.decode(request["NextToken"], query), sort)
            except ServiceError as exc:
                raise validation(exc.message) from None
        visible = self._visibility_v2(caller)
        findings, position = self.ocsf_findings.page(
            lambda finding: visible(finding) and matches(finding), sort, max_results, after
        )
        response: dict[str, Any] = {"Findings": findings}
        if position is not None:
            response["NextToken"] = paging.encode(query, position)
        return response

    def batch_update_findings_v2(self, caller: Caller, request: Request) -> dict[str, Any]:
        """A customer's update of up to 100 OCSF findings: status, severity (with their names) and comment."""
        self._enter_v2(caller)
        targets = _v2_targets(request)
        status_id, severity_id, comment = _v2_changes(request)
        visible = self._visibility_v2(caller)
        processed, unprocessed = [], []
        for key, target in targets:
            transient = self.unprocessed_v2.pick()
            if transient is not None:
                unprocessed.append({**key, "ErrorCode": transient, "ErrorMessage": "Try the update again"})
                continue
            with self._lock:
                finding = self._find_ocsf(target)
                if finding is None or not visible(finding):
                    unprocessed.append({**key, "ErrorCode": "ResourceNotFoundException",
                                        "ErrorMessage": "The finding does not exist"})
                    continue
                self._put_ocsf(ocsf.updated(finding, status_id, severity_id, comment))
            processed.append({**key, "MetadataUid": finding["metadata"]["uid"]} if "MetadataUid" not in key else key)
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
    def _enter_v2(self, caller: Caller) -> None:
        """V2's operations declare AccessDeniedException, not CSPM's InvalidAccessException."""
        if (caller.account_id, caller.region) not in self._v2_hubs:
            raise ServiceError(
                "AccessDeniedException",
                f"Account {caller.account_id} has not enabled AWS Security Hub in {caller.region}",
            )

    def _check_scopes(self, caller: Caller, scopes: Any) -> None:
        """Only the delegated administrator may scope by organization; this simulator has one organization, so a
        valid scope narrows nothing."""
        if scopes is None:
            return
        if caller.account_id != self.admin_account_id:
            raise ServiceError("AccessDeniedException", "Only the delegated administrator can use Scopes")
        entries = scopes.get("AwsOrganizations") if isinstance(scopes, dict) and set(scopes) == {
            "AwsOrganizations"} else None
        if not isinstance(entries, list) or len(entries) > MAX_SCOPES:
            raise validation(f"Scopes.AwsOrganizations must list at most {MAX_SCOPES} entries")
        keys = ("OrganizationId", "OrganizationalUnitId")
        for entry in entries:
            if not isinstance(entry, dict) or not entry or set(entry) - set(keys) or not all(
                    isinstance(value, str) and value for value in entry.values()):
                raise validation("each scope takes an OrganizationId and/or an OrganizationalUnitId")
        org_only = [entry for entry in entries if "OrganizationalUnitId" not in entry]
        if org_only and len(entries) > 1:
            raise validation("a scope is either one organization or organizational units, not both")

    def _visibility_v2(self, caller: Caller) -> Callable[[Mapping[str, Any]], bool]:
        """The same rules as CSPM's, on the OCSF fields."""
        visible = self._visibility(caller)
        return lambda finding: visible(
            {"AwsAccountId": finding["cloud"]["account"]["uid"], "Region": finding["cloud"]["region"]}
        )

    def _find_ocsf(self, target: str | dict[str, str]) -> Finding | None:
        if isinstance(target, str):
            return self.ocsf_findings.get(target)
        return self.ocsf_findings.find(target["CloudAccountUid"], target["FindingInfoUid"],
                                       target["MetadataProductUid"])

    def _put_ocsf(self, finding: Finding) -> None:
        self.ocsf_findings.put(finding)
        region = self.aggregation_region or finding["cloud"]["region"]
        self.events.emit(events.imported_v2_event(finding, self.admin_account_id, region, self.clock()))

    def _provider_change_ocsf(self, uid: str, change: Callable[[Finding, datetime], Finding]) -> Finding:
        with self._lock:
            finding = self.ocsf_findings.get(uid)
            if finding is None:
                raise ServiceError("ResourceNotFoundException", f"no OCSF finding {uid[:80]}")
            changed = change(finding, self.clock())
            self._put_ocsf(changed)
        return changed

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


def _sort_fields(value: Any) -> list[SortField]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise validation("SortCriteria must be a list")
    fields = []
    for item in value:
        if not isinstance(item, dict) or set(item) - {"Field", "SortOrder"} or not isinstance(item.get("Field"), str) \
                or not item["Field"] or item.get("SortOrder", "asc") not in ("asc", "desc"):
            raise validation("each sort criterion needs a Field and a SortOrder of asc or desc")
        fields.append(SortField(item["Field"], item.get("SortOrder", "asc") == "desc"))
    return fields


def _v2_targets(request: Request) -> list[tuple[dict[str, Any], str | dict[str, str]]]:
    """The findings a BatchUpdateFindingsV2 names, each with the key its answer echoes."""
    uids, identifiers = request.get("MetadataUids"), request.get("FindingIdentifiers")
    if (uids is None) == (identifiers is None):
        raise validation("give either MetadataUids or FindingIdentifiers")
    items = uids if uids is not None else identifiers
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
        raise validation(f"name 1 to {MAX_BATCH} findings")
    if uids is not None:
        if not all(isinstance(uid, str) and uid for uid in uids):
            raise validation("MetadataUids must be non-empty strings")
        return [({"MetadataUid": uid}, uid) for uid in uids]
    fields = ("CloudAccountUid", "FindingInfoUid", "MetadataProductUid")
    targets: list[tuple[dict[str, Any], str | dict[str, str]]] = []
    for item in items:
        if not isinstance(item, dict) or set(item) != set(fields) or not all(
                isinstance(item[name], str) and item[name] for name in fields):
            raise validation(f"each finding identifier needs {', '.join(fields)}")
        identifier = {name: item[name] for name in fields}
        targets.append(({"FindingIdentifier": identifier}, identifier))
    return targets


def _v2_changes(request: Request) -> tuple[int | None, int | None, str | None]:
    unknown = sorted(set(request) - {"MetadataUids", "FindingIdentifiers", "Comment", "StatusId", "SeverityId"})
    if unknown:
        raise validation(f"BatchUpdateFindingsV2 cannot update {unknown[0]!r}")
    status_id, severity_id, comment = request.get("StatusId"), request.get("SeverityId"), request.get("Comment")
    if status_id is None and severity_id is None and comment is None:
        raise validation("give a Comment, a StatusId or a SeverityId to update")
    if status_id is not None and (isinstance(status_id, bool) or status_id not in STATUS_IDS):
        raise validation(f"StatusId must be one of {', '.join(map(str, STATUS_IDS))}")
    if severity_id is not None and (isinstance(severity_id, bool) or severity_id not in SEVERITY_IDS):
        raise validation(f"SeverityId must be one of {', '.join(map(str, SEVERITY_IDS))}")
    if comment is not None and (not isinstance(comment, str) or not 1 <= len(comment) <= 512):
        raise validation("Comment must be 1 to 512 characters")
    return status_id, severity_id, comment


def _position(position: Any, criteria: list[SortCriterion] | list[SortField]) -> list[Any]:
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

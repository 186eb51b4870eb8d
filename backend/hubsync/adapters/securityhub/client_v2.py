"""The new Security Hub (OCSF, the V2 operations) behind `SecurityHubPort`, beside `client` for Security Hub CSPM.

A finding is named by its `metadata.uid` (the domain `Finding.id` of an OCSF finding) under its
`metadata.product.uid`. Reads take the port's filters, which hubsync builds in GetFindings' (ASFF) language, and
translate them to OCSF composite filters (`v2_filters`): one composite per ASFF attribute, ANDed, so the fetch
narrows as the ASFF filter did; an attribute or value with no OCSF equivalent is refused (`UnsupportedFilter`),
as a dropped filter would fetch far more than the caller asked for. One exception: a generator other than a
control's (OCSF's `metadata.product.feature.uid` cannot be filtered on) leaves the fetch wider, because the
rules that ask for it are applied exactly to what is fetched.

BatchUpdateFindingsV2 writes only `StatusId`, `SeverityId` and `Comment`. A `FindingUpdate`'s workflow becomes the
`StatusId` and its note the `Comment`; its user-defined fields and verification state have nowhere to go and are
dropped (logged at debug): they carry the finding's link to its ticket in CSPM, which the link row and the ticket's
marker label carry too. Per-finding failures Security Hub may clear on another try (a conflicting update, an
internal error) are retried a few times; the rest come back as `UpdateFailure`s, never ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence, Set
from typing import Any, TypeVar

from hubsync.adapters.faults import transient_aws_code
from hubsync.adapters.securityhub.common import (
    NO_TWIN,
    NOTE_TEXT_LIMIT,
    FindingsClient,
    chunks,
    cut,
)
from hubsync.adapters.securityhub.ocsf import parse_finding
from hubsync.domain.finding import (
    CSPM_PRODUCT,
    Finding,
    FindingIdentifier,
    Severity,
    WorkflowStatus,
    finding_key,
    in_v2_form,
)
from hubsync.domain.plan import FindingUpdate
from hubsync.domain.ports import UpdateFailure

log = logging.getLogger(__name__)

UPDATE_BATCH = 100  # BatchUpdateFindingsV2' MetadataUids ceiling
FILTER_VALUES = 20  # filters of one type in one composite filter
COMPOSITES = 10  # composite filters in one request
MOST_SEVERE_FIRST = [{"Field": "severity_id", "SortOrder": "desc"}]
# Per-finding BatchUpdateFindingsV2 errors worth another try; ResourceNotFoundException and ValidationException
# are final.
RETRYABLE = frozenset({"ConflictException", "InternalServerException"})

STATUS_ID = {WorkflowStatus.NEW: 1, WorkflowStatus.NOTIFIED: 2, WorkflowStatus.SUPPRESSED: 3,
             WorkflowStatus.RESOLVED: 4}
# The severity ids `ocsf.parse_finding` reads as each label (6 Fatal is Critical to hubsync).
SEVERITY_IDS = {Severity.INFORMATIONAL: (1,), Severity.LOW: (2,), Severity.MEDIUM: (3,), Severity.HIGH: (4,),
                Severity.CRITICAL: (5, 6)}
COMPLIANCE_STATUS = {"PASSED": "Pass", "WARNING": "Warning", "FAILED": "Fail"}
# ASFF string attributes whose OCSF field takes the same comparisons and values.
STRING_FIELDS = {
    "AwsAccountId": "cloud.account.uid",
    "Region": "cloud.region",
    "ProductName": "metadata.product.name",
    "ProductArn": "metadata.product.uid",
    "ComplianceSecurityControlId": "compliance.control",
    "NoteText": "comment",  # the one free text a customer writes in both generations
}
STRING_COMPARISONS = frozenset({"EQUALS", "PREFIX", "NOT_EQUALS", "PREFIX_NOT_EQUALS", "CONTAINS", "NOT_CONTAINS"})
CONTROL_GENERATOR = "security-control/"  # the generator of CSPM's consolidated control findings

UpdateKey = tuple[int | None, str | None]
T = TypeVar("T")


class UnsupportedFilter(ValueError):
    """An ASFF filter that the new Security Hub cannot apply; the message names the attribute and the value."""


class SecurityHubV2Client(FindingsClient):
    """`SecurityHubPort` over a boto3 `securityhub` client's V2 operations (GetFindingsV2, BatchUpdateFindingsV2)."""

    read_operation = "get_findings_v2"
    update_operation = "BatchUpdateFindingsV2"

    def findings(self, filters: Mapping[str, Any]) -> Iterator[Finding]:
        """Every finding matching the ASFF `filters`, translated (`v2_filters`) before the first request, the most
        severe first."""
        request = v2_filters(filters)
        for data in self._pages(request, sort=MOST_SEVERE_FIRST):
            finding = self._parse(data)
            if finding is not None:
                yield finding

    def get(self, identifiers: Sequence[FindingIdentifier]) -> dict[str, Finding]:
        """The current findings by key: 200 `metadata.uid`s a call (20 to a composite filter, 10 composites ORed),
        matching the product uid as well. A finding of Security Hub CSPM (linked before the tenant moved to the new
        Security Hub) comes back as its OCSF twin, under the key asked for; one without a twin is `unreadable`."""
        cspm = [identifier for identifier in identifiers if CSPM_PRODUCT in identifier.product_arn]
        found = self._twins(cspm) if cspm else {}
        identifiers = [identifier for identifier in identifiers if CSPM_PRODUCT not in identifier.product_arn]
        wanted = {identifier.key for identifier in identifiers}
        uids = list(dict.fromkeys(identifier.id for identifier in identifiers))
        for batch in chunks(uids, FILTER_VALUES * COMPOSITES):
            request = {
                "CompositeFilters": [
                    {"StringFilters": [_string("metadata.uid", "EQUALS", uid) for uid in group]}
                    for group in chunks(batch, FILTER_VALUES)
                ],
                "CompositeOperator": "OR",
            }
            for data in self._pages(request):
                if _key_of(data) not in wanted:
                    continue  # the same uid under another product
                finding = self._parse(data)
                if finding is not None:
                    found[finding.key] = finding
        return found

    def _twins(self, identifiers: Sequence[FindingIdentifier]) -> dict[str, Finding]:
        """The OCSF twins of CSPM findings, by the CSPM key: the twin's `finding_info.uid` is the ASFF `Id`, its
        product uid the ASFF `ProductArn` under productv2. 19 ids and their product to a composite, 10 composites
        ORed to a call."""
        wanted: dict[tuple[str, str], str] = {}
        by_product: dict[str, list[str]] = {}
        for identifier in identifiers:
            product = in_v2_form(identifier.product_arn)
            wanted[(product, identifier.id)] = identifier.key
            by_product.setdefault(product, []).append(identifier.id)
        composites = [
            {"StringFilters": [_string("metadata.product.uid", "EQUALS", product),
                               *(_string("finding_info.uid", "EQUALS", uid) for uid in group)]}
            for product, uids in by_product.items()
            for group in chunks(list(dict.fromkeys(uids)), FILTER_VALUES - 1)
        ]
        found: dict[str, Finding] = {}
        for batch in chunks(composites, COMPOSITES):
            for data in self._pages({"CompositeFilters": batch, "CompositeOperator": "OR"}):
                asked = wanted.get((_at(data, "metadata", "product", "uid"), _at(data, "finding_info", "uid")))
                finding = self._parse(data) if asked is not None else None
                if finding is not None and asked is not None:
                    found[asked] = finding
        for key in set(wanted.values()) - set(found):
            self.unreadable.setdefault(key, NO_TWIN)
        return found

    def update(self, updates: Sequence[tuple[FindingIdentifier, FindingUpdate]]) -> list[UpdateFailure]:
        """BatchUpdateFindingsV2, one call per 100 findings that take the same status and comment."""
        groups: dict[UpdateKey, dict[FindingIdentifier, None]] = {}
        for identifier, update in updates:
            if update.user_defined_fields or update.verification_state is not None:
                log.debug("finding %s: no user-defined fields or verification state in V2; not written",
                          identifier.id)
            key = _update_key(update)
            if key == (None, None):
                continue
            groups.setdefault(key, {})[identifier] = None
        failures: list[UpdateFailure] = []
        for key, identifiers in groups.items():
            for batch in chunks(list(identifiers), UPDATE_BATCH):
                failures.extend(self._update_batch(batch, _update_request(key)))
        return failures

    # -- the V2 side of `FindingsClient` -----------------------------------------------------------------------
    def _parse_finding(self, data: Any) -> Finding:
        return parse_finding(data)

    def _key_of(self, data: Any) -> str:
        return _key_of(data)

    def _name_of(self, data: Any) -> str:
        uid = _at(data, "metadata", "uid")
        return uid if isinstance(uid, str) else "(no metadata.uid)"

    def _send_update(self, pending: list[FindingIdentifier], request: dict[str, Any]) -> list[Mapping[str, Any]]:
        response = self._client.batch_update_findings_v2(MetadataUids=[item.id for item in pending], **request)
        unprocessed: list[Mapping[str, Any]] = response.get("UnprocessedFindings", [])
        return unprocessed

    def _sort_unprocessed(self, unprocessed: Sequence[Mapping[str, Any]], pending: list[FindingIdentifier],
                          may_retry: bool) -> tuple[list[FindingIdentifier], list[UpdateFailure]]:
        by_uid = {item.id: item for item in pending}
        retry: list[FindingIdentifier] = []
        failures: list[UpdateFailure] = []
        for item in unprocessed:
            identifier = by_uid.get(item.get("MetadataUid", ""))
            if identifier is None:
                log.warning("BatchUpdateFindingsV2 reported a finding it was not sent: %r", item)
                continue
            code = item.get("ErrorCode", "Unknown")
            if may_retry and code in RETRYABLE:
                retry.append(identifier)
            else:
                failures.append(UpdateFailure(identifier, code, item.get("ErrorMessage", ""), _transient(code)))
        return retry, failures

    def _transient(self, code: str) -> bool:
        return _transient(code)


def v2_filters(filters: Mapping[str, Any]) -> dict[str, Any]:
    """GetFindingsV2' `Filters` for an ASFF GetFindings filter: one composite filter per attribute, ANDed.

    Raises `UnsupportedFilter` for an attribute, comparison or value the new Security Hub has no equivalent of.
    """
    composites = [
        composite
        for name, conditions in filters.items()
        if (composite := _composite(name, _conditions(name, conditions))) is not None
    ]
    if len(composites) > COMPOSITES:
        raise UnsupportedFilter(f"at most {COMPOSITES} attributes can be filtered on at once, not {len(composites)}")
    return {"CompositeFilters": composites, "CompositeOperator": "AND"} if composites else {}


def _conditions(name: str, conditions: Any) -> list[tuple[str, str]]:
    if not isinstance(conditions, list) or not conditions:
        raise UnsupportedFilter(f"{name}: a filter lists its conditions")
    pairs = []
    for condition in conditions:
        if not isinstance(condition, Mapping) or set(condition) != {"Value", "Comparison"}:
            raise UnsupportedFilter(f"{name}: only string conditions (Value, Comparison) translate to OCSF")
        pairs.append((str(condition["Comparison"]), str(condition["Value"])))
    return pairs


def _composite(name: str, conditions: list[tuple[str, str]]) -> dict[str, Any] | None:
    """The attribute's composite filter; None where the fetch cannot narrow on it (a non-control generator)."""
    comparisons = {comparison for comparison, _ in conditions}
    values = [value for _, value in conditions]
    if name in STRING_FIELDS:
        _only(name, comparisons, STRING_COMPARISONS)
        if name == "ProductArn":  # a product's V2 uid is its CSPM ARN under productv2
            conditions = [(c, in_v2_form(v)) for c, v in conditions]
        return _strings(STRING_FIELDS[name], conditions)
    if name == "ComplianceStatus":
        _only(name, comparisons, {"EQUALS", "NOT_EQUALS"})
        return _strings("compliance.status", [(c, _mapped(name, COMPLIANCE_STATUS, v)) for c, v in conditions])
    if name == "GeneratorId":
        _only(name, comparisons, {"EQUALS"})
        if not all(value.startswith(CONTROL_GENERATOR) and value != CONTROL_GENERATOR for value in values):
            log.debug("GeneratorId %r: only a control's generator narrows a GetFindingsV2 read", values[:3])
            return None
        return _strings("compliance.control", [("EQUALS", v.removeprefix(CONTROL_GENERATOR)) for v in values])
    if name == "WorkflowStatus":
        _only(name, comparisons, {"EQUALS"})
        statuses = {status.value: STATUS_ID[status] for status in STATUS_ID}
        return _numbers("status_id", [_mapped(name, statuses, value) for value in values])
    if name == "SeverityLabel":
        _only(name, comparisons, {"EQUALS"})
        severities = {severity.value: ids for severity, ids in SEVERITY_IDS.items()}
        return _numbers("severity_id", [i for value in values for i in _mapped(name, severities, value)])
    if name == "RecordState":
        _only(name, comparisons, {"EQUALS"})
        states = set(values)
        if states == {"ACTIVE"}:  # neither Archived (nor OCSF's Deleted) nor closed
            return {"StringFilters": [_string("status", "NOT_EQUALS", "Archived"),
                                      _string("status", "NOT_EQUALS", "Deleted"),
                                      _string("activity_name", "NOT_EQUALS", "Close")]}
        if states == {"ARCHIVED"}:
            return {"StringFilters": [_string("status", "EQUALS", "Archived"), _string("status", "EQUALS", "Deleted"),
                                      _string("activity_name", "EQUALS", "Close")], "Operator": "OR"}
        raise UnsupportedFilter(f"RecordState: EQUALS ACTIVE or EQUALS ARCHIVED, not {sorted(states)}")
    raise UnsupportedFilter(f"{name[:100]!r} has no field in the new Security Hub's findings to filter on")


def _only(name: str, comparisons: set[str], allowed: Set[str]) -> None:
    if not comparisons <= allowed:
        raise UnsupportedFilter(f"{name}: {', '.join(sorted(comparisons - allowed))} has no OCSF twin")


def _mapped(name: str, table: Mapping[str, T], value: str) -> T:
    if value not in table:
        raise UnsupportedFilter(f"{name} {value[:100]!r} has no OCSF value")
    return table[value]


def _strings(field: str, conditions: list[tuple[str, str]]) -> dict[str, Any]:
    """One field's conditions: OCSF ORs the positive comparisons on a field and ANDs the negative ones, as ASFF."""
    if len(conditions) > FILTER_VALUES:
        raise UnsupportedFilter(f"{field}: at most {FILTER_VALUES} values")
    return {"StringFilters": [_string(field, comparison, value) for comparison, value in conditions]}


def _numbers(field: str, values: list[int]) -> dict[str, Any]:
    return {"NumberFilters": [{"FieldName": field, "Filter": {"Eq": value}} for value in values], "Operator": "OR"}


def _string(field: str, comparison: str, value: str) -> dict[str, Any]:
    return {"FieldName": field, "Filter": {"Value": value, "Comparison": comparison}}


def _update_key(update: FindingUpdate) -> UpdateKey:
    status = STATUS_ID[update.workflow] if update.workflow is not None else None
    return status, cut(update.note, NOTE_TEXT_LIMIT) if update.note else None


def _update_request(key: UpdateKey) -> dict[str, Any]:
    status, comment = key
    request: dict[str, Any] = {}
    if status is not None:
        request["StatusId"] = status
    if comment is not None:
        request["Comment"] = comment
    return request


def _transient(code: str) -> bool:
    return code in RETRYABLE or transient_aws_code(code)


def _at(data: Any, *path: str) -> Any:
    for name in path:
        data = data.get(name) if isinstance(data, Mapping) else None
    return data


def _key_of(data: Any) -> str:
    uid, product = _at(data, "metadata", "uid"), _at(data, "metadata", "product", "uid")
    return finding_key(product if isinstance(product, str) else "", uid if isinstance(uid, str) else "")

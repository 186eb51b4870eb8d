"""Security Hub (CSPM, ASFF) behind `SecurityHubPort`: reading findings and writing hubsync's decisions back.

The client works in the tenant's aggregation Region, where GetFindings sees the findings of every linked Region
and BatchUpdateFindings updates them. Requests are paced by the account's rate budgets, which a tenant's session
carries (`aws_session.assumed_role_session`, `rate_limits`: GetFindings 3/s, the others 10/s), so throttling
(LimitExceededException, 429) is the exception, left to botocore's adaptive retry mode; what this module adds is
batching to the API's limits, the per-finding outcome of BatchUpdateFindings, and a report of every request to
`api_calls`. A finding that hubsync cannot parse is logged, counted and skipped, never fatal to a page.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from hubsync.adapters.faults import transient_aws_code
from hubsync.adapters.securityhub.asff import parse_finding
from hubsync.adapters.securityhub.common import IN_V2, NOTE_TEXT_LIMIT, FindingsClient, chunks, cut
from hubsync.domain.finding import HUBSYNC_AUTHOR, V2_PRODUCT, Finding, FindingIdentifier, finding_key
from hubsync.domain.plan import FindingUpdate
from hubsync.domain.ports import UpdateFailure

log = logging.getLogger(__name__)

UPDATE_BATCH = 100  # BatchUpdateFindings' FindingIdentifiers ceiling
FILTER_VALUES = 20  # GetFindings takes at most 20 values per filtered attribute
UPDATED_BY = HUBSYNC_AUTHOR
# Most severe first (Security Hub fills Severity.Normalized from the Label: CRITICAL 90, HIGH 70, ...), so a backlog
# that the rate limits stretch over minutes reaches its critical and high findings first.
MOST_SEVERE_FIRST = [{"Field": "SeverityNormalized", "SortOrder": "desc"}]
# Per-finding BatchUpdateFindings errors worth another try; the rest (FindingNotFound, InvalidInput, ...) are final.
RETRYABLE = frozenset({"ConcurrentUpdateError", "InternalFailure"})

UpdateKey = tuple[str | None, str | None, tuple[tuple[str, str], ...], str | None]


class SecurityHubClient(FindingsClient):
    """`SecurityHubPort` over a boto3 `securityhub` client (CSPM: GetFindings, BatchUpdateFindings)."""

    read_operation = "get_findings"
    update_operation = "BatchUpdateFindings"

    def findings(self, filters: Mapping[str, Any]) -> Iterator[Finding]:
        """Every finding matching `filters` (GetFindings' own filter language, applied by Security Hub), the most
        severe first."""
        for data in self._pages(filters, sort=MOST_SEVERE_FIRST):
            finding = self._parse(data)
            if finding is not None:
                yield finding

    def get(self, identifiers: Sequence[FindingIdentifier]) -> dict[str, Finding]:
        """The current findings by key, asking for 20 Ids a call (the filter's limit) and matching ProductArn. A
        finding of the new Security Hub (linked before the tenant moved back to CSPM) is not asked for: it is
        `unreadable` here, never taken for deleted."""
        for identifier in identifiers:
            if V2_PRODUCT in identifier.product_arn:
                self.unreadable[identifier.key] = IN_V2
        identifiers = [identifier for identifier in identifiers if V2_PRODUCT not in identifier.product_arn]
        wanted = {identifier.key for identifier in identifiers}
        ids = list(dict.fromkeys(identifier.id for identifier in identifiers))
        found: dict[str, Finding] = {}
        for chunk in chunks(ids, FILTER_VALUES):
            filters = {"Id": [{"Value": finding_id, "Comparison": "EQUALS"} for finding_id in chunk]}
            for data in self._pages(filters):
                if self._key_of(data) not in wanted:
                    continue  # the same Id from another product
                finding = self._parse(data)
                if finding is not None:
                    found[finding.key] = finding
        return found

    def update(self, updates: Sequence[tuple[FindingIdentifier, FindingUpdate]]) -> list[UpdateFailure]:
        """BatchUpdateFindings, one call per 100 findings that take the same update. Per-finding errors that may
        pass on another try are retried a few times; the rest, and whole calls Security Hub refused, come back
        as failures."""
        groups: dict[UpdateKey, dict[FindingIdentifier, None]] = {}
        requests: dict[UpdateKey, dict[str, Any]] = {}
        for identifier, update in updates:
            request = _update_request(update)
            if not request:
                continue
            key = _update_key(update)
            requests[key] = request
            groups.setdefault(key, {})[identifier] = None  # an identifier twice in one call is an error
        failures: list[UpdateFailure] = []
        for key, identifiers in groups.items():
            for chunk in chunks(list(identifiers), UPDATE_BATCH):
                failures.extend(self._update_batch(chunk, requests[key]))
        return failures

    # -- the CSPM side of `FindingsClient` ------------------------------------------------------------------
    def _parse_finding(self, data: Any) -> Finding:
        return parse_finding(data)

    def _key_of(self, data: Any) -> str:
        return finding_key(str(data.get("ProductArn", "")), str(data.get("Id", "")))

    def _name_of(self, data: Any) -> str:
        return str(data.get("Id", "(no Id)"))

    def _send_update(self, pending: list[FindingIdentifier], request: dict[str, Any]) -> list[Mapping[str, Any]]:
        response = self._client.batch_update_findings(
            FindingIdentifiers=[{"Id": item.id, "ProductArn": item.product_arn} for item in pending], **request
        )
        unprocessed: list[Mapping[str, Any]] = response.get("UnprocessedFindings", [])
        return unprocessed

    def _sort_unprocessed(self, unprocessed: Sequence[Mapping[str, Any]], pending: list[FindingIdentifier],
                          may_retry: bool) -> tuple[list[FindingIdentifier], list[UpdateFailure]]:
        return sort_unprocessed(unprocessed, may_retry)

    def _transient(self, code: str) -> bool:
        return transient_aws_code(code)


def sort_unprocessed(
    unprocessed: Sequence[Mapping[str, Any]], may_retry: bool
) -> tuple[list[FindingIdentifier], list[UpdateFailure]]:
    """Split BatchUpdateFindings' UnprocessedFindings into those to send again and final failures."""
    retry: list[FindingIdentifier] = []
    failures: list[UpdateFailure] = []
    for item in unprocessed:
        identifier = FindingIdentifier(item["FindingIdentifier"]["Id"], item["FindingIdentifier"]["ProductArn"])
        code = item.get("ErrorCode", "Unknown")
        if may_retry and code in RETRYABLE:
            retry.append(identifier)
        else:
            failures.append(UpdateFailure(identifier, code, item.get("ErrorMessage", ""), transient_aws_code(code)))
    return retry, failures


def _update_request(update: FindingUpdate) -> dict[str, Any]:
    """The BatchUpdateFindings attributes for `update`; empty when it changes nothing."""
    request: dict[str, Any] = {}
    if update.workflow is not None:
        request["Workflow"] = {"Status": update.workflow.value}
    if update.note:
        request["Note"] = {"Text": cut(update.note, NOTE_TEXT_LIMIT), "UpdatedBy": UPDATED_BY}
    if update.user_defined_fields:
        request["UserDefinedFields"] = dict(update.user_defined_fields)
    if update.verification_state is not None:
        request["VerificationState"] = update.verification_state
    return request


def _update_key(update: FindingUpdate) -> UpdateKey:
    workflow = update.workflow.value if update.workflow is not None else None
    fields = tuple(sorted(update.user_defined_fields.items()))
    return workflow, update.note or None, fields, update.verification_state

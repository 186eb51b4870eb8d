"""Security Hub in memory: findings by key, BatchUpdateFindings applied as Security Hub applies it.

What the real side does and the fake does too: an update writes the customer-owned fields only (workflow, note,
user-defined fields, verification state) and never the provider's `UpdatedAt`; a note is recorded as written by
hubsync (`Note.UpdatedBy`) and cut to 512 characters; user-defined fields are merged into the finding's. A finding
of the new Security Hub (`comment_only`) is written as BatchUpdateFindingsV2 writes it: its status and its comment,
which has no author; user-defined fields and verification state have no V2 field. A finding Security Hub no longer
has is absent from `get`. Knobs: `reject(key, code)` makes the next updates of a finding come back as failures
(per-finding `UnprocessedFindings`), `fail_next(method, error)` makes a whole call raise.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from hubsync.domain.finding import Finding, FindingIdentifier
from hubsync.domain.plan import FindingUpdate
from hubsync.domain.ports import SecurityHubPort, UpdateFailure

UPDATED_BY = "hubsync"  # the Note.UpdatedBy hubsync writes
NOTE_LIMIT = 512

# GetFindings filter fields the fake understands (string filters, EQUALS / NOT_EQUALS), and the finding's value.
_FILTER_FIELDS: dict[str, Callable[[Finding], str | None]] = {
    "Id": lambda f: f.id,
    "ProductArn": lambda f: f.product_arn,
    "ProductName": lambda f: f.product_name,
    "AwsAccountId": lambda f: f.account_id,
    "Region": lambda f: f.region,
    "GeneratorId": lambda f: f.generator_id,
    "RecordState": lambda f: f.record_state.value,
    "WorkflowStatus": lambda f: f.workflow_status.value,
    "SeverityLabel": lambda f: f.severity.value,
    "ComplianceStatus": lambda f: f.compliance_status,
    "ComplianceSecurityControlId": lambda f: f.security_control_id,
    "NoteText": lambda f: f.note_text,
}


class FakeSecurityHub:
    def __init__(self, *findings: Finding) -> None:
        self.unreadable: dict[str, str] = {}  # keys of findings hubsync "cannot read" here, and why
        self._findings: dict[str, Finding] = {}
        self._rejected: dict[str, tuple[str, str, bool]] = {}
        self._failures: dict[str, list[BaseException]] = defaultdict(list)
        self.update_calls: list[list[tuple[FindingIdentifier, FindingUpdate]]] = []  # every update call, as sent
        self.get_calls = 0
        self.put(*findings)

    # -- the test's side --------------------------------------------------------------------------------------
    def put(self, *findings: Finding) -> None:
        """Security Hub imports (or re-evaluates) these findings: they are now as given."""
        for finding in findings:
            self._findings[finding.key] = finding

    def remove(self, key: str) -> None:
        """Security Hub deleted the finding (90 days after its last update)."""
        self._findings.pop(key, None)

    def finding(self, key: str) -> Finding:
        return self._findings[key]

    def all(self) -> list[Finding]:
        return list(self._findings.values())

    def reject(
        self, key: str, code: str = "FindingNotFound", message: str = "rejected by the test", *, transient: bool = False
    ) -> None:
        """Updates of this finding come back as failures until `accept(key)`; `transient`: Security Hub's "not
        now" (throttled, a concurrent update)."""
        self._rejected[key] = (code, message, transient)

    def accept(self, key: str) -> None:
        self._rejected.pop(key, None)

    def fail_next(self, method: str, error: BaseException) -> None:
        """The next call of `method` (`get`, `update`, `findings`) raises `error`, sending nothing."""
        self._failures[method].append(error)

    @property
    def updates(self) -> list[tuple[FindingIdentifier, FindingUpdate]]:
        """Every finding update sent, in order."""
        return [update for call in self.update_calls for update in call]

    # -- SecurityHubPort ------------------------------------------------------------------------------------
    def findings(self, filters: Mapping[str, Any]) -> Iterator[Finding]:
        self._maybe_fail("findings")
        matching = [finding for finding in self._findings.values() if _matches(finding, filters)]
        yield from sorted(matching, key=lambda finding: -finding.severity.rank)

    def get(self, identifiers: Sequence[FindingIdentifier]) -> dict[str, Finding]:
        self._maybe_fail("get")
        self.get_calls += 1
        return {i.key: self._findings[i.key] for i in identifiers if i.key in self._findings}

    def update(self, updates: Sequence[tuple[FindingIdentifier, FindingUpdate]]) -> list[UpdateFailure]:
        self._maybe_fail("update")
        self.update_calls.append(list(updates))
        failures: list[UpdateFailure] = []
        for identifier, update in updates:
            if identifier.key in self._rejected:
                code, message, transient = self._rejected[identifier.key]
                failures.append(UpdateFailure(identifier, code, message, transient))
                continue
            finding = self._findings.get(identifier.key)
            if finding is None:
                failures.append(UpdateFailure(identifier, "FindingNotFound", "no such finding"))
                continue
            self._findings[identifier.key] = updated(finding, update)
        return failures

    def _maybe_fail(self, method: str) -> None:
        if self._failures[method]:
            raise self._failures[method].pop(0)


def updated(finding: Finding, update: FindingUpdate) -> Finding:
    """`finding` once Security Hub has applied `update` (BatchUpdateFindings, or BatchUpdateFindingsV2 for a
    finding of the new Security Hub)."""
    note = update.note[: NOTE_LIMIT - 1] + "…" if update.note and len(update.note) > NOTE_LIMIT else update.note
    if finding.comment_only:
        return replace(finding, workflow_status=update.workflow or finding.workflow_status,
                       note_text=note if note else finding.note_text)
    return replace(
        finding,
        workflow_status=update.workflow or finding.workflow_status,
        note_text=note if note else finding.note_text,
        note_updated_by=UPDATED_BY if note else finding.note_updated_by,
        user_defined_fields={**finding.user_defined_fields, **update.user_defined_fields},
        verification_state=update.verification_state or finding.verification_state,
    )


def _matches(finding: Finding, filters: Mapping[str, Any]) -> bool:
    for name, conditions in filters.items():
        if name not in _FILTER_FIELDS:
            raise NotImplementedError(f"the fake Security Hub does not filter on {name}")
        value = _FILTER_FIELDS[name](finding)
        equal = [c["Value"] for c in conditions if c.get("Comparison", "EQUALS") == "EQUALS"]
        prefixes = [c["Value"] for c in conditions if c.get("Comparison") == "PREFIX"]
        not_equal = [c["Value"] for c in conditions if c.get("Comparison") == "NOT_EQUALS"]
        positive = value in equal or any((value or "").startswith(prefix) for prefix in prefixes)
        if ((equal or prefixes) and not positive) or value in not_equal:
            return False
    return True


def _conforms(fake: FakeSecurityHub) -> SecurityHubPort:
    return fake  # mypy checks the fake against the port

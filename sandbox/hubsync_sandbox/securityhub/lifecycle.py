"""How a stored finding changes: created by BatchImportFindings, replaced by a provider's re-import, updated by
a customer's BatchUpdateFindings, following Security Hub's ownership and workflow rules.

Findings are plain dicts that are never mutated once stored: every change builds a new dict (sharing the
unchanged parts), so GetFindings pages and emitted events can hold references without copying.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hubsync_sandbox.securityhub import asff

# Only BatchUpdateFindings changes these; a provider sets them at most once, when the finding is created.
CUSTOMER_OWNED = ("Note", "UserDefinedFields", "VerificationState", "Workflow")
# The provider sets these until a customer changes them with BatchUpdateFindings; from then on the
# customer's value stays.
SHARED = ("Severity", "Confidence", "Criticality", "Types", "RelatedFindings")
RESET_FROM = ("NOTIFIED", "RESOLVED")
FAILING = ("FAILED", "WARNING", "NOT_AVAILABLE")

Finding = dict[str, Any]


def created(incoming: Finding, region: str, processed_at: str) -> Finding:
    """A new finding as Security Hub stores it: Region, product names, ProcessedAt and defaults filled in.

    A control finding that arrives PASSED starts RESOLVED, as Security Hub resolves passed control findings.
    """
    finding = dict(incoming)
    finding["Region"] = region
    finding["ProductName"], finding["CompanyName"] = asff.product_names(incoming)
    finding["ProcessedAt"] = processed_at
    finding["Severity"] = asff.completed_severity(incoming["Severity"])
    finding.setdefault("RecordState", "ACTIVE")
    if "Workflow" not in finding:
        passed = asff.compliance_status(finding) == "PASSED"
        finding["Workflow"] = {"Status": "RESOLVED" if passed else "NEW"}
    finding.setdefault("FindingProviderFields", _provider_fields(finding))
    return finding


def reimported(old: Finding, incoming: Finding, customer_set: frozenset[str], processed_at: str) -> Finding:
    """The provider's new version of `old`, keeping what the customer owns and applying the workflow rules."""
    finding = created(incoming, old["Region"], processed_at)
    for name in (*CUSTOMER_OWNED, *customer_set):
        if name in old:
            finding[name] = old[name]
        else:
            finding.pop(name, None)
    finding["Workflow"] = {"Status": workflow_after_reimport(old, finding)}
    return finding


def workflow_after_reimport(old: Finding, new: Finding) -> str:
    """Security Hub's automatic workflow changes when a provider re-imports a finding.

    NOTIFIED or RESOLVED goes back to NEW when the finding is made ACTIVE again after being ARCHIVED, or when
    its compliance goes from PASSED to FAILED, WARNING or NOT_AVAILABLE. A control finding whose compliance
    turns PASSED (or comes back ACTIVE while PASSED) becomes RESOLVED. SUPPRESSED is left alone: a suppressed
    finding "is no longer updated".
    """
    status = old["Workflow"]["Status"]
    if status == "SUPPRESSED":
        return status
    old_compliance, new_compliance = asff.compliance_status(old), asff.compliance_status(new)
    reactivated = old.get("RecordState") == "ARCHIVED" and new.get("RecordState") == "ACTIVE"
    if new_compliance == "PASSED" and (old_compliance != "PASSED" or reactivated):
        return "RESOLVED"
    failing_again = old_compliance == "PASSED" and new_compliance in FAILING
    if status in RESET_FROM and (reactivated or failing_again):
        return "NEW"
    return status


def updated(old: Finding, changes: Mapping[str, Any], updated_at: str) -> Finding:
    """`old` after a BatchUpdateFindings carrying `changes` (already validated). UpdatedAt never changes.

    UserDefinedFields are merged: keys in the request replace the same keys on the finding, other keys stay.
    (Whether the real service merges or replaces is not documented; merging is what lets two integrations each
    keep their own key, and a finding with more than 50 fields afterwards is rejected as the limit requires.)
    """
    finding = dict(old)
    for name, value in changes.items():
        if name == "Note":
            finding["Note"] = {"Text": value["Text"], "UpdatedBy": value["UpdatedBy"], "UpdatedAt": updated_at}
        elif name == "Workflow":
            finding["Workflow"] = {"Status": value["Status"]}
        elif name == "Severity":
            finding["Severity"] = _severity_after_update(old.get("Severity", {}), value)
        elif name == "UserDefinedFields":
            merged = {**old.get("UserDefinedFields", {}), **value}
            asff.check_field_map(merged, "UserDefinedFields", value_max=1024)
            finding["UserDefinedFields"] = merged
        else:
            finding[name] = value
    return finding


def _severity_after_update(old: Mapping[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
    severity = dict(old)
    severity.update(change)
    if "Label" in change and "Normalized" not in change:
        severity["Normalized"] = asff.NORMALIZED_BY_LABEL[change["Label"]]
    elif "Normalized" in change and "Label" not in change:
        severity["Label"] = asff.label_for_normalized(change["Normalized"])
    return severity


def _provider_fields(finding: Finding) -> dict[str, Any]:
    """FindingProviderFields as Security Hub derives them from the top-level values on creation."""
    fields: dict[str, Any] = {}
    severity = {key: finding["Severity"][key] for key in ("Label", "Original") if key in finding["Severity"]}
    if severity:
        fields["Severity"] = severity
    for name in ("Confidence", "Criticality", "RelatedFindings", "Types"):
        if name in finding:
            fields[name] = finding[name]
    return fields

"""The risk workflow hubsync sets up for a Jira project, defined once: its statuses (each with its category and what
it decides about the finding) and its transitions. The policy's default status mapping, the sandbox's seeded
project and the workflow installers are all read from here; nothing else spells a status name of it.

    Open ─┬─ Allocate for fix ──> Allocated for fix ── Mark for testing ──> Test fix ── Mark as resolved ──> Resolved
          ├─ Request risk acceptance ──> Request risk acceptance ─┬─ Approve risk ──> Risk approved
          │                                                       └─ Deny risk approval ──> Risk not approved
          └─ Mark as false positive ──> Marked as false positive ── Accept false positive ──> Accepted false positive
    Risk approved ── Expire risk approval ──> Risk approval expired ── Request risk acceptance ──> …
    and a way back ("Reopen") from every status but Open.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from hubsync.domain.ticket import Disposition, StatusCategory

NAME = "hubsync risk workflow"


@dataclass(frozen=True)
class WorkflowStatus:
    key: str  # a stable name for code and the installers (Jira's ids differ per site)
    name: str  # as Jira shows it
    category: StatusCategory
    disposition: Disposition  # what the finding becomes when its ticket is here


@dataclass(frozen=True)
class WorkflowTransition:
    name: str
    source: str  # a status key
    target: str  # a status key


STATUSES: tuple[WorkflowStatus, ...] = (
    WorkflowStatus("open", "Open", StatusCategory.TO_DO, Disposition.OPEN),
    WorkflowStatus("allocated", "Allocated for fix", StatusCategory.IN_PROGRESS, Disposition.OPEN),
    WorkflowStatus("test", "Test fix", StatusCategory.IN_PROGRESS, Disposition.OPEN),
    WorkflowStatus("resolved", "Resolved", StatusCategory.DONE, Disposition.FIXED),
    WorkflowStatus("request", "Request risk acceptance", StatusCategory.IN_PROGRESS, Disposition.OPEN),
    WorkflowStatus("approved", "Risk approved", StatusCategory.DONE, Disposition.ACCEPTED),
    WorkflowStatus("not_approved", "Risk not approved", StatusCategory.DONE, Disposition.OPEN),
    WorkflowStatus("expired", "Risk approval expired", StatusCategory.IN_PROGRESS, Disposition.EXPIRED),
    WorkflowStatus("marked_fp", "Marked as false positive", StatusCategory.IN_PROGRESS, Disposition.OPEN),
    WorkflowStatus("accepted_fp", "Accepted false positive", StatusCategory.DONE, Disposition.FALSE_POSITIVE),
)
INITIAL = "open"

TRANSITIONS: tuple[WorkflowTransition, ...] = (
    WorkflowTransition("Mark as false positive", "open", "marked_fp"),
    WorkflowTransition("Allocate for fix", "open", "allocated"),
    WorkflowTransition("Request risk acceptance", "open", "request"),
    WorkflowTransition("Reopen", "request", "open"),
    WorkflowTransition("Approve risk", "request", "approved"),
    WorkflowTransition("Deny risk approval", "request", "not_approved"),
    WorkflowTransition("Request risk acceptance", "expired", "request"),
    WorkflowTransition("Reopen", "expired", "open"),
    WorkflowTransition("Move to be fixed", "not_approved", "allocated"),
    WorkflowTransition("Reopen", "approved", "request"),
    WorkflowTransition("Expire risk approval", "approved", "expired"),
    WorkflowTransition("Mark for testing", "allocated", "test"),
    WorkflowTransition("Reopen", "allocated", "open"),
    WorkflowTransition("Mark as resolved", "test", "resolved"),
    WorkflowTransition("Back to fixing", "test", "allocated"),
    WorkflowTransition("Reopen", "resolved", "allocated"),
    WorkflowTransition("Reopen", "marked_fp", "open"),
    WorkflowTransition("Accept false positive", "marked_fp", "accepted_fp"),
    WorkflowTransition("Reopen", "accepted_fp", "open"),
)

_BY_KEY = {status.key: status for status in STATUSES}


def status(key: str) -> WorkflowStatus:
    return _BY_KEY[key]


RISK_REQUEST_STATUS = status("request").name

# What the workflow's statuses decide, by lower-cased name: the policy's default status mapping. The statuses of open
# work are left out (any status not named falls back by its category); a done status that keeps the finding open
# ("Risk not approved") must be named.
DEFAULT_STATUS_DISPOSITIONS: Mapping[str, Disposition] = MappingProxyType({
    each.name.lower(): each.disposition
    for each in STATUSES
    if each.disposition is not Disposition.OPEN or each.category is StatusCategory.DONE
})

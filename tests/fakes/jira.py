"""Jira in memory: one site, tickets by key, a workflow, and the faults a real site shows.

As the real client does, and the fake too: `create_tickets` sends 50 drafts a request, runs `guard` before each,
and raises `TicketsNotCreated` (holding what earlier requests made) when a request is answered without being
carried out; any other failure of a create may follow tickets Jira did make. A ticket carries its draft's labels
(the marker label among them) and issue properties (the `hubsync.finding` marker) from the create call on. Search
(`find_by_markers`, `linked_tickets`) lags behind writes by `search_lag`, oldest ticket first; reading by key
(`get_tickets`) does not lag. `move` goes to the named status if the workflow has it, else to a status of the
wanted disposition, commenting on the way in (or only commenting when the ticket is there already), and raises
`NoTransitionPath` when there is none to go to.

Knobs: `create_faults` (one per create request, in order: None, refused, or an answer lost before or after Jira
created),
`refuse_draft` (Jira's 400 for one draft of a request), `fail_next(method, error)`, `search_lag`, `unreachable`
(statuses no transition leads to). The test's own hand: `move_by_hand`, `delete`, `issue`.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from hubsync.domain.document import Document
from hubsync.domain.plan import MoveTicket
from hubsync.domain.ports import CreatedTicket, JiraPort, NoTransitionPath, TicketDraft, TicketsNotCreated
from hubsync.domain.rendering import Lozenge
from hubsync.domain.ticket import Disposition, FindingMarker, StatusCategory, Ticket
from tests.fakes.clock import FakeClock
from tests.fakes.errors import FakeOutage

MARKER_PROPERTY = "hubsync.finding"  # the issue property that names a ticket's finding, as Jira stores it
BULK_CREATE_LIMIT = 50
BOT = "hubsync"  # who hubsync's own transitions are made by

# The SecDevOps risk workflow (in the order a move looks for a status of the wanted disposition) and a stock one.
RISK_WORKFLOW: Mapping[str, StatusCategory] = {
    "Open": StatusCategory.TO_DO,
    "Allocated for fix": StatusCategory.IN_PROGRESS,
    "Test fix": StatusCategory.TO_DO,
    "Resolved": StatusCategory.DONE,
    "Request risk acceptance": StatusCategory.IN_PROGRESS,
    "Risk approved": StatusCategory.DONE,
    "Risk not approved": StatusCategory.DONE,
    "Risk approval expired": StatusCategory.IN_PROGRESS,
    "Marked as false positive": StatusCategory.IN_PROGRESS,
    "Accepted false positive": StatusCategory.DONE,
}
STOCK_WORKFLOW: Mapping[str, StatusCategory] = {
    "To Do": StatusCategory.TO_DO,
    "In Progress": StatusCategory.IN_PROGRESS,
    "Done": StatusCategory.DONE,
}


@dataclass(frozen=True)
class CreateFault:
    """What happens to one create request. `refused`: Jira answers `status` (429, 503, a 4xx) and creates nothing.
    `lost_after_create`: Jira creates the request's tickets and the answer never arrives. `lost_before_create`:
    the request never reaches Jira, which the caller cannot tell from `lost_after_create`."""

    kind: Literal["refused", "lost_after_create", "lost_before_create"]
    status: int = 429

    @classmethod
    def refused(cls, status: int = 429) -> CreateFault:
        return cls("refused", status)

    @classmethod
    def lost_after_create(cls) -> CreateFault:
        return cls("lost_after_create")

    @classmethod
    def lost_before_create(cls) -> CreateFault:
        return cls("lost_before_create")


@dataclass
class FakeIssue:
    """One ticket as Jira holds it (mutable: the test moves it by hand)."""

    key: str
    id: str
    project_key: str
    issue_type: str
    status: str
    summary: str
    description: Document
    priority: str | None
    labels: tuple[str, ...]
    assignee: str | None
    properties: dict[str, Any]
    created_at: datetime
    status_changed_by: str | None = None
    status_changed_at: datetime | None = None
    comments: list[str] = field(default_factory=list)  # plain text of each comment, oldest first
    lozenge: Lozenge | None = None

    @property
    def marker(self) -> FindingMarker | None:
        value = self.properties.get(MARKER_PROPERTY)
        if not isinstance(value, Mapping):
            return None
        finding_id, product_arn, key = value.get("id"), value.get("productArn"), value.get("key")
        if not (isinstance(finding_id, str) and isinstance(product_arn, str) and isinstance(key, str)):
            return None
        return FindingMarker(finding_id, product_arn, key) if finding_id and product_arn and key else None

    def ticket(self, workflow: Mapping[str, StatusCategory]) -> Ticket:
        return Ticket(
            key=self.key,
            id=self.id,
            project_key=self.project_key,
            status=self.status,
            status_category=workflow[self.status],
            summary=self.summary,
            priority=self.priority,
            labels=self.labels,
            assignee=self.assignee,
            marker=self.marker,
            status_changed_by=self.status_changed_by,
            status_changed_at=self.status_changed_at,
            status_id=self.status,
            issue_type_id=self.issue_type,
        )


class FakeJira:
    def __init__(
        self,
        clock: FakeClock,
        *,
        workflow: Mapping[str, StatusCategory] = RISK_WORKFLOW,
        initial_status: str = "Open",
        users: Mapping[str, str] | None = None,
        search_lag: timedelta = timedelta(0),
    ) -> None:
        self.clock = clock
        self.workflow = dict(workflow)
        self.initial_status = initial_status
        self.users = {query.casefold(): user for query, user in (users or {}).items()}  # email/name → user id
        self.search_lag = search_lag
        self.create_faults: list[CreateFault | None] = []  # one per create request, in order (None: no fault)
        self.refuse_draft: Callable[[TicketDraft], str | None] | None = None
        self.unreachable: set[str] = set()
        self.create_requests = 0
        self.writes: list[tuple[str, str]] = []  # (operation, ticket key) of every write, in order
        self._issues: dict[str, FakeIssue] = {}
        self._deleted: set[str] = set()
        self._numbers = itertools.count(1)
        self._failures: dict[str, list[BaseException]] = defaultdict(list)

    # -- the test's side --------------------------------------------------------------------------------------
    @property
    def issues(self) -> list[FakeIssue]:
        """Every ticket, in creation order."""
        return list(self._issues.values())

    def issue(self, key: str) -> FakeIssue:
        return self._issues[key]

    def issues_of(self, finding_key: str) -> list[FakeIssue]:
        """The tickets whose marker names this finding (one, when all is well)."""
        return [issue for issue in self._issues.values() if issue.marker and issue.marker.key == finding_key]

    def move_by_hand(self, key: str, status: str, by: str = "Dana Developer") -> None:
        """A person moves the ticket (any status of the workflow: people are not held to its transitions here)."""
        if status not in self.workflow:
            raise ValueError(f"the workflow has no status {status!r}")
        issue = self._issues[key]
        issue.status, issue.status_changed_by = status, by
        issue.status_changed_at = self.clock.advance(1)

    def delete(self, key: str) -> None:
        self._deleted.add(key)
        del self._issues[key]

    def fail_next(self, method: str, error: BaseException) -> None:
        """The next call of `method` (a JiraPort method's name) raises `error` and changes nothing."""
        self._failures[method].append(error)

    # -- JiraPort: reads --------------------------------------------------------------------------------------
    def get_tickets(self, keys: Sequence[str]) -> dict[str, Ticket]:
        self._maybe_fail("get_tickets")
        return {key: self._issues[key].ticket(self.workflow) for key in dict.fromkeys(keys) if key in self._issues}

    def find_by_markers(self, labels: Sequence[str]) -> dict[str, Ticket]:
        self._maybe_fail("find_by_markers")
        wanted = {label.casefold(): label for label in labels}
        found: dict[str, Ticket] = {}
        for issue in self._searchable():
            for label in issue.labels:
                asked = wanted.get(label.casefold())
                if asked is not None and asked not in found:
                    found[asked] = issue.ticket(self.workflow)
        return found

    def linked_tickets(self, project_key: str) -> Iterator[Ticket]:
        self._maybe_fail("linked_tickets")
        issues = [issue for issue in self._searchable() if issue.project_key == project_key and issue.marker]
        for issue in sorted(issues, key=lambda issue: int(issue.id)):
            yield issue.ticket(self.workflow)

    def find_user(self, query: str) -> str | None:
        self._maybe_fail("find_user")
        return self.users.get(query.strip().casefold())

    # -- JiraPort: writes -------------------------------------------------------------------------------------
    def create_tickets(
        self, drafts: Sequence[TicketDraft], guard: Callable[[], None] | None = None
    ) -> list[CreatedTicket]:
        self._maybe_fail("create_tickets")
        created: list[CreatedTicket] = []
        for start in range(0, len(drafts), BULK_CREATE_LIMIT):
            batch = drafts[start : start + BULK_CREATE_LIMIT]
            if guard is not None:
                guard()
            self.create_requests += 1
            fault = self.create_faults.pop(0) if self.create_faults else None
            if fault is not None and fault.kind == "refused":
                transient = fault.status in (429, 503)
                cause = FakeOutage(f"Jira answered {fault.status}", transient=transient, status=fault.status)
                raise TicketsNotCreated(str(cause), created) from cause
            if fault is not None and fault.kind == "lost_before_create":
                raise FakeOutage("the connection dropped before Jira answered")
            results = [self._create(start + offset, draft) for offset, draft in enumerate(batch)]
            if fault is not None and fault.kind == "lost_after_create":
                raise FakeOutage("the connection dropped before Jira answered", status=502)
            created += results
        return created

    def move(
        self, ticket: Ticket, move: MoveTicket, disposition_of_status: Callable[[str, StatusCategory], Disposition]
    ) -> None:
        self._maybe_fail("move")
        issue = self._existing(ticket.key)
        if issue.status != ticket.status:  # moved since the caller read it: Jira refuses the transition
            raise FakeOutage(f"{ticket.key} is no longer in {ticket.status}", transient=False, status=400)
        if move.status is not None and move.status in self.workflow:
            targets = [move.status]
        else:
            targets = [status for status, category in self.workflow.items()
                       if move.disposition is not None and disposition_of_status(status, category) is move.disposition]
        if not targets:
            raise NoTransitionPath(f"project {issue.project_key} has no status for {move.status or move.disposition}")
        if issue.status not in targets:
            reachable = [status for status in targets if status not in self.unreachable]
            if not reachable:
                raise NoTransitionPath(f"no transitions lead from {issue.status!r} to {targets}")
            issue.status, issue.status_changed_by, issue.status_changed_at = reachable[0], BOT, self.clock()
            self.writes.append(("move", issue.key))
        if move.comment:
            issue.comments.append(move.comment)
            self.writes.append(("comment", issue.key))

    def comment(self, key: str, text: Document | str) -> None:
        self._maybe_fail("comment")
        self._existing(key).comments.append(text.to_text() if isinstance(text, Document) else text)
        self.writes.append(("comment", key))

    def set_marker(self, key: str, marker: FindingMarker) -> None:
        self._maybe_fail("set_marker")
        self._existing(key).properties[MARKER_PROPERTY] = {
            "id": marker.finding_id, "productArn": marker.product_arn, "key": marker.key,
        }
        self.writes.append(("set_marker", key))

    def edit(self, key: str, summary: str | None = None, priority: str | None = None) -> None:
        self._maybe_fail("edit")
        issue = self._existing(key)
        issue.summary = summary if summary is not None else issue.summary
        issue.priority = priority if priority is not None else issue.priority
        self.writes.append(("edit", key))

    def show_lozenge(self, key: str, lozenge: Lozenge) -> None:
        self._maybe_fail("show_lozenge")
        self._existing(key).lozenge = lozenge
        self.writes.append(("show_lozenge", key))

    # -- internals --------------------------------------------------------------------------------------------
    def _create(self, index: int, draft: TicketDraft) -> CreatedTicket:
        refusal = self.refuse_draft(draft) if self.refuse_draft is not None else None
        if refusal is not None:
            return CreatedTicket(index, None, refusal)
        number = next(self._numbers)
        key = f"{draft.project_key}-{number}"
        self._issues[key] = FakeIssue(
            key=key,
            id=str(10000 + number),
            project_key=draft.project_key,
            issue_type=draft.issue_type,
            status=self.initial_status,
            summary=draft.summary,
            description=draft.description,
            priority=draft.priority,
            labels=tuple(draft.labels),
            assignee=draft.assignee,
            properties=dict(draft.properties),
            created_at=self.clock(),
            lozenge=draft.lozenge,
        )
        self.writes.append(("create", key))
        return CreatedTicket(index, key)

    def _searchable(self) -> list[FakeIssue]:
        """The tickets Jira's search shows now: those created at least `search_lag` ago, oldest first."""
        now = self.clock()
        return [issue for issue in self._issues.values() if issue.created_at + self.search_lag <= now]

    def _existing(self, key: str) -> FakeIssue:
        if key not in self._issues:
            raise FakeOutage(f"Jira has no issue {key}", transient=False, status=404)
        return self._issues[key]

    def _maybe_fail(self, method: str) -> None:
        if self._failures[method]:
            raise self._failures[method].pop(0)


def _conforms(fake: FakeJira) -> JiraPort:
    return fake  # mypy checks the fake against the port

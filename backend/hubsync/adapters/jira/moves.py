"""Moving a ticket through its project's workflow: the shortest walk to a status of the wanted disposition, never
stopping at a status that decides something else about the finding.

The walker learns each workflow as it goes (see `workflow.py`) and keeps it, so after the first walks in a
project a move costs only its transitions. While the way is unknown it learns from other issues that sit in the
statuses not explored yet — reading, not moving anything; only on a project where no such issue exists does it
walk the ticket itself to the nearest unexplored status (through undecided statuses only) to look around.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hubsync.adapters.jira.dialect import Dialect
from hubsync.adapters.jira.search import jql_id, jql_string, search_issues
from hubsync.adapters.jira.tickets import category_of
from hubsync.adapters.jira.transport import JiraError, JiraTransport
from hubsync.adapters.jira.workflow import Status, Step, WorkflowGraph
from hubsync.domain.plan import MoveTicket
from hubsync.domain.ports import NoTransitionPath
from hubsync.domain.ticket import Disposition, StatusCategory, Ticket

DispositionOf = Callable[[str, StatusCategory], Disposition]
OPERATION = "move"  # what the requests made here are counted as


class TicketMoved(Exception):
    """Someone moved the ticket since the sync read it: nothing more is done; the next sync decides again on the
    ticket as it is then."""


class WorkflowWalker:
    """Walks tickets of one Jira site; keeps what it learns of each workflow for the next walk."""

    def __init__(self, http: JiraTransport, dialect: Dialect) -> None:
        self._http = http
        self._dialect = dialect
        self._graphs: dict[tuple[str, str], WorkflowGraph] = {}  # by project key and issue type id

    def walk(self, ticket: Ticket, move: MoveTicket, disposition_of_status: DispositionOf) -> bool:
        """Move `ticket` to the status named `move.status` if its project has one, else to the nearest status of
        `move.disposition`, with `move.comment` on the last transition (or on its own when the ticket is there
        already). False when it was there already.

        Raises `NoTransitionPath` when the project has no such status or no way leads there."""
        key, project, issue_type, current = ticket.key, ticket.project_key, ticket.issue_type_id, ticket.status_id
        graph = self._graph(project, issue_type)
        meaning = {s.id: disposition_of_status(s.name, s.category) for s in graph.statuses.values()}
        targets = _targets(graph, move, meaning)
        if not targets:
            raise NoTransitionPath(f"project {project} has no status {_describe(move)}")
        comment = self._dialect.rich_text(move.comment) if move.comment else None
        if current in targets:
            if comment is not None:
                self._http.call(OPERATION, "POST", f"/issue/{key}/comment", json={"body": comment})
            return False
        undecided = {status for status, disposition in meaning.items() if disposition is Disposition.OPEN}
        walk = _Walk(key, project, issue_type, current, targets, undecided)
        try:
            self._go(walk, graph, comment, move)
        except NoTransitionPath:  # what was learned before may be out of date (an admin opened a new way): once more
            if self._graphs.pop((project, issue_type), None) is None:
                raise
            self._go(walk, self._graph(project, issue_type), comment, move)
        return True

    def _go(self, walk: _Walk, graph: WorkflowGraph, comment: Any, move: MoveTicket) -> None:
        """Take the shortest known way to a target; while none is known, learn more first."""
        learned_here: set[str] = set()  # statuses whose transitions were read on this very issue
        for _ in range(3 * len(graph.statuses) + 3):
            if not graph.knows(walk.current):
                graph.learn(walk.current, self._transitions_here(walk))
                learned_here.add(walk.current)
            way = graph.path(walk.current, walk.targets, walk.undecided)
            arriving = way is not None
            if way is None:
                frontier = graph.frontier(walk.current, walk.undecided)
                if not frontier:
                    name = graph.statuses[walk.current].name if walk.current in graph.statuses else walk.current
                    raise NoTransitionPath(f"no transitions lead from '{name}' to a status {_describe(move)} "
                                           "without passing a status that decides something else")
                if self._learn_from_other_issues(graph, walk, [status for status, _ in frontier]):
                    continue
                way = frontier[0][1]  # nobody to learn from: look around from the nearest unexplored status
            for number, step in enumerate(way, start=1):
                try:
                    self._transition(walk.key, step, comment if arriving and number == len(way) else None)
                except JiraError as error:
                    if error.status != 400:
                        raise
                    if self._moved_meanwhile(walk):
                        raise TicketMoved(f"{walk.key} changed status since it was read") from error
                    if walk.current in learned_here:
                        raise
                    graph.forget(walk.current)  # learned elsewhere (or before an admin's change): learn it again
                    break
                walk.current = step.target.id
            else:
                if arriving:
                    return
        raise NoTransitionPath(f"hubsync found no way to a status {_describe(move)} in the workflow")

    def _graph(self, project: str, issue_type: str) -> WorkflowGraph:
        """The graph learned so far for a project's issue type, starting from the statuses the project lists."""
        cached = self._graphs.get((project, issue_type))
        if cached is not None:
            return cached
        per_type = self._http.call(OPERATION, "GET", f"/project/{project}/statuses") or []
        chosen = [entry for entry in per_type if str(entry.get("id")) == issue_type] or per_type
        statuses = {
            str(status["id"]): _status(status) for entry in chosen for status in entry.get("statuses") or []
        }
        graph = self._graphs[(project, issue_type)] = WorkflowGraph(statuses)
        return graph

    def _learn_from_other_issues(self, graph: WorkflowGraph, walk: _Walk, statuses: Sequence[str]) -> bool:
        """Read the transitions of unexplored statuses on other issues sitting in them: one search, then one read
        per status found. False when no other issue sits in any of them. Each read returns the issue's status with
        its transitions, and they are learned for that status: a person may have moved the issue on since the
        search found it, and another status's transitions learned as the searched one's would hide the way."""
        jql = (f"project = {jql_string(walk.project)} AND issuetype = {jql_id(walk.issue_type)} "
               f"AND status in ({', '.join(jql_id(status) for status in statuses)})")
        sitting: dict[str, str] = {}
        for issue in search_issues(self._http, self._dialect, OPERATION, jql, fields=("status",), pages=1):
            status = str(((issue.get("fields") or {}).get("status") or {}).get("id", ""))
            if issue.get("key") != walk.key and status in statuses:
                sitting.setdefault(status, issue["key"])
        for other in sitting.values():
            status, steps = self._status_and_transitions(other)
            graph.learn(status, steps)
        return bool(sitting)

    def _moved_meanwhile(self, walk: _Walk) -> bool:
        """Whether the issue is no longer where the walk believes (only asked after Jira refused a step)."""
        return self._status_and_transitions(walk.key)[0] != walk.current

    def _transitions_here(self, walk: _Walk) -> list[Step]:
        """The transitions of the walking issue's status, read on the issue itself with its status, so that a
        ticket someone moved since the sync read it is never mistaken for one still in the old status."""
        status, steps = self._status_and_transitions(walk.key)
        if status != walk.current:
            raise TicketMoved(f"{walk.key} changed status since it was read")
        return steps

    def _status_and_transitions(self, key: str) -> tuple[str, list[Step]]:
        issue = self._http.call(OPERATION, "GET", f"/issue/{key}", params={"fields": "status", "expand": "transitions"})
        return str((((issue or {}).get("fields") or {}).get("status") or {}).get("id", "")), _steps(issue or {})

    def _transition(self, key: str, step: Step, comment: Any) -> None:
        body: dict[str, Any] = {"transition": {"id": step.transition_id}}
        if comment is not None:
            body["update"] = {"comment": [{"add": {"body": comment}}]}
        self._http.call(OPERATION, "POST", f"/issue/{key}/transitions", json=body)


@dataclass
class _Walk:
    """One issue on its way: where it is, where it may go, and where it may stop on the way."""

    key: str
    project: str
    issue_type: str
    current: str  # status id
    targets: set[str]
    undecided: set[str]  # statuses whose disposition is OPEN: safe to pass through


def _steps(answer: Mapping[str, Any]) -> list[Step]:
    return [
        Step(str(transition["id"]), transition.get("name", ""), _status(transition["to"]))
        for transition in answer.get("transitions") or []
        if transition.get("isAvailable", True) and isinstance(transition.get("to"), Mapping)
    ]


def _status(shown: Mapping[str, Any]) -> Status:
    return Status(str(shown["id"]), shown.get("name", ""), category_of(shown))


def _targets(graph: WorkflowGraph, move: MoveTicket, meaning: Mapping[str, Disposition]) -> set[str]:
    if move.status:
        named = {s.id for s in graph.statuses.values() if s.name.casefold() == move.status.casefold()}
        if named:
            return named
    if move.disposition is not None:
        return {status for status, disposition in meaning.items() if disposition is move.disposition}
    return set()


def _describe(move: MoveTicket) -> str:
    wanted = []
    if move.status:
        wanted.append(f"named '{move.status}'")
    if move.disposition is not None:
        wanted.append(f"meaning {move.disposition.value}")
    return " or ".join(wanted) or "(none asked for)"

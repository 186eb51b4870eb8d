"""Jira Cloud's new workflow API as both of hubsync's workflow readers see it: the project check (`projects.py`)
and the workflow setup (`workflow_admin.py`) find a workflow by its exact name with `GET /workflows/search` and read
its transitions as a `WorkflowShape`; both read a project's statuses by issue type (`GET /project/{key}/statuses`).

The workflow API spells a status category its own way (`TODO`, `IN_PROGRESS`, `DONE`), and names statuses by
reference: the page's status list says which status (id, name, category) each reference is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hubsync.adapters.jira.tickets import category_of
from hubsync.domain.ports import StatusChoice, WorkflowEdge, WorkflowShape
from hubsync.domain.ticket import StatusCategory

PAGE_SIZE = 50
CATEGORY_NAMES = {StatusCategory.TO_DO: "TODO", StatusCategory.IN_PROGRESS: "IN_PROGRESS", StatusCategory.DONE: "DONE"}
CATEGORY_OF_NAME = {name: category for category, name in CATEGORY_NAMES.items()}

SearchPage = Callable[[Mapping[str, Any]], Mapping[str, Any]]  # GET /workflows/search with these parameters


def workflow_named(search: SearchPage, name: str) -> WorkflowShape | None:
    """The workflow of this exact name (the search matches names in part), with its transitions; None when there
    is none, or it has no initial transition."""
    start_at = 0
    while True:
        page = search({"queryString": name, "expand": "values.transitions", "startAt": start_at,
                       "maxResults": PAGE_SIZE})
        workflows = page.get("values") or []
        found = next((w for w in workflows if w.get("name") == name), None)
        if found is not None:
            return shape(found, page.get("statuses") or [])
        start_at += len(workflows)
        if not workflows or page.get("isLast", True):
            return None


def shape(workflow: Mapping[str, Any], statuses: list[Mapping[str, Any]]) -> WorkflowShape | None:
    """One searched workflow over status ids; None without an initial transition."""
    by_reference = {str(s.get("statusReference") or s["id"]): s for s in statuses}

    def status_id(reference: str) -> str:
        known = by_reference.get(reference)
        return str(known["id"]) if known is not None and known.get("id") else reference

    initial: str | None = None
    edges = []
    for transition in workflow.get("transitions") or []:
        target = status_id(str(transition.get("toStatusReference")))
        kind = transition.get("type")
        if kind == "INITIAL":
            initial = initial or target
            continue
        sources = (None if kind == "GLOBAL" else
                   frozenset(status_id(str(link["fromStatusReference"]))
                             for link in transition.get("links") or [] if link.get("fromStatusReference")))
        edges.append(WorkflowEdge(str(transition.get("name") or ""), sources, target))
    if initial is None:
        return None
    used = [str(ref["statusReference"]) for ref in workflow.get("statuses") or [] if ref.get("statusReference")]
    choices = []
    for reference in used:
        known = by_reference.get(reference) or {}
        category = CATEGORY_OF_NAME.get(str(known.get("statusCategory")), StatusCategory.TO_DO)
        choices.append(StatusChoice(status_id(reference), str(known.get("name") or reference), category))
    return WorkflowShape(str(workflow.get("name")), initial, tuple(choices), tuple(edges))


def statuses_by_issue_type(answer: Any) -> dict[str, list[StatusChoice]]:
    """`GET /project/{key}/statuses`: each issue type's statuses, by issue type id, in Jira's order."""
    return {
        str(issue_type.get("id")): [StatusChoice(str(s["id"]), str(s.get("name") or s["id"]), category_of(s))
                                    for s in issue_type.get("statuses") or []]
        for issue_type in answer or []
    }

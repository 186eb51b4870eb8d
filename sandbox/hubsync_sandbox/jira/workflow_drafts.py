"""A Jira Cloud `WorkflowCreateRequest` (the body of `POST /workflows/create`, the `payload` of its `/validation`)
checked against the site as Jira checks it, before anything is created.

What is wrong comes back as Jira's validation errors (`{type, code, level, message, elementReference}`), all of them
at once, so `/validation` can list them and `/create` can refuse with them; a request that is malformed (not the
shape the operation takes) raises `Malformed`, a 400 straight away, as Jira's JSON binding refuses it. When nothing
is wrong, the draft holds the statuses and workflows to create, new statuses numbered by the site's allocator.

The simulated site runs no workflow rules: a transition carrying conditions, validators, post functions,
triggers or a screen is reported (`UNSUPPORTED_RULE`) rather than created without them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from hubsync_sandbox.jira.model import DONE, IN_PROGRESS, TO_DO, Status, StatusCategory, Transition, Workflow

CATEGORY_BY_KEY: dict[str, StatusCategory] = {"TODO": TO_DO, "IN_PROGRESS": IN_PROGRESS, "DONE": DONE}
KEY_BY_CATEGORY: dict[str, str] = {category.key: key for key, category in CATEGORY_BY_KEY.items()}
MAX_NAME = 255
TRANSITION_TYPES = ("INITIAL", "GLOBAL", "DIRECTED")


class Malformed(ValueError):
    """The request is not the shape the operation takes; the message says what is wrong."""


@dataclass(frozen=True)
class Problem:
    """One validation error, as `WorkflowValidationError` describes it (every one here is an ERROR)."""

    type: str
    code: str
    message: str
    reference: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "code": self.code, "level": "ERROR", "message": self.message,
                "elementReference": dict(self.reference)}


@dataclass
class Draft:
    """What a create request would make: `statuses` by statusReference (`new` the ones it creates) and workflows."""

    problems: list[Problem]
    scope_project_id: str | None = None
    statuses: dict[str, Status] = field(default_factory=dict)
    new: set[str] = field(default_factory=set)
    workflows: list[Workflow] = field(default_factory=list)


@dataclass(frozen=True)
class Site:
    """What the draft is checked against: the site's statuses, workflow names and project ids."""

    statuses: Collection[Status]
    workflow_names: Collection[str]
    project_ids: Collection[str]


def category_key(status: Status) -> str:
    """`TODO`, `IN_PROGRESS` or `DONE`: a status's category as the workflow and status APIs spell it."""
    return KEY_BY_CATEGORY[status.category.key]


def scope_json(status: Status) -> dict[str, Any]:
    if status.project_id is None:
        return {"type": "GLOBAL"}
    return {"type": "PROJECT", "project": {"id": status.project_id}}


def same_scope(status: Status, project_id: str | None) -> bool:
    return status.project_id == project_id


def draft(payload: Any, site: Site, new_status_id: Callable[[], str] | None = None) -> Draft:
    """Check `payload` against `site`; when nothing is wrong and `new_status_id` is given, build what it creates
    (its new statuses numbered by `new_status_id`)."""
    body = _object(payload, "The request")
    problems: list[Problem] = []
    scope_project_id = _scope(body.get("scope"), site, problems)
    specs = _status_specs(body.get("statuses", []), site, scope_project_id, problems)
    workflows = [_workflow_spec(raw, specs, problems) for raw in _list(body.get("workflows", []), "workflows")]
    _unique_workflow_names(workflows, site, problems)
    if problems or new_status_id is None:
        return Draft(problems)
    statuses: dict[str, Status] = {}
    new: set[str] = set()
    for reference, spec in specs.items():
        if isinstance(spec, Status):
            statuses[reference] = spec
        else:
            name, category, description = spec
            statuses[reference] = Status(new_status_id(), name, category, description, scope_project_id)
            new.add(reference)
    return Draft([], scope_project_id, statuses, new,
                 [each.build(statuses, scope_project_id) for each in workflows])


# -- the parts of the request --------------------------------------------------------------------------------

StatusSpec = Status | tuple[str, StatusCategory, str]  # an existing status, or (name, category, description)


def _scope(raw: Any, site: Site, problems: list[Problem]) -> str | None:
    scope = _object(raw if raw is not None else {"type": "GLOBAL"}, "scope")
    kind = scope.get("type", "GLOBAL")
    if kind not in ("GLOBAL", "PROJECT"):
        raise Malformed(f"The scope type '{kind}' is not valid: GLOBAL or PROJECT.")
    if kind == "GLOBAL":
        return None
    project = scope.get("project")
    project_id = project.get("id") if isinstance(project, dict) else None
    if not isinstance(project_id, str) or project_id not in site.project_ids:
        problems.append(Problem("SCOPE", "INVALID_SCOPE", "The project of a PROJECT scope must exist."))
        return None
    return project_id


def _status_specs(raw: Any, site: Site, scope_project_id: str | None,
                  problems: list[Problem]) -> dict[str, StatusSpec]:
    specs: dict[str, StatusSpec] = {}
    new_names: set[str] = set()
    taken = {s.name.lower() for s in site.statuses if same_scope(s, scope_project_id)}
    for entry in _list(raw, "statuses"):
        item = _object(entry, "A status")
        name, category_name, reference = item.get("name"), item.get("statusCategory"), item.get("statusReference")
        if not isinstance(name, str) or not isinstance(reference, str) or category_name not in CATEGORY_BY_KEY:
            raise Malformed("Each status needs a name, a statusReference and a statusCategory (TODO, "
                            "IN_PROGRESS or DONE).")
        where = {"statusReference": reference}
        if reference in specs:
            problems.append(Problem("STATUS", "NON_UNIQUE_STATUS_REFERENCE",
                                    "Each status must have its own status reference.", where))
            continue
        status_id = item.get("id")
        if status_id is not None:
            existing = next((s for s in site.statuses if s.id == str(status_id)), None)
            if existing is None:
                problems.append(Problem("STATUS", "STATUS_NOT_FOUND",
                                        f"The status with ID '{status_id}' does not exist.", where))
                continue
            specs[reference] = existing  # an existing status keeps its own name and category
            continue
        if not name.strip():
            problems.append(Problem("STATUS", "EMPTY_STATUS_NAME", "A status must have a name.", where))
        elif len(name) > MAX_NAME:
            problems.append(Problem("STATUS", "STATUS_NAME_TOO_LONG",
                                    f"A status name must be at most {MAX_NAME} characters.", where))
        elif name.lower() in taken or name.lower() in new_names:
            problems.append(Problem("STATUS", "NON_UNIQUE_STATUS_NAME", "You must use a unique status name.", where))
        new_names.add(name.lower())
        description = _text(item.get("description"))
        specs[reference] = (name.strip(), CATEGORY_BY_KEY[category_name], description)
    return specs


@dataclass
class _TransitionSpec:
    id: str | None
    name: str
    kind: str
    to: str
    sources: list[str]


@dataclass
class _WorkflowSpec:
    name: str
    description: str
    status_refs: list[str]
    transitions: list[_TransitionSpec]

    def build(self, statuses: dict[str, Status], project_id: str | None) -> Workflow:
        """The workflow, its transitions numbered as Jira numbers them (11, 21, ...) where the request left
        them without an id."""
        used = {int(t.id) for t in self.transitions if t.id is not None and t.id.isdigit()}
        next_id = max([1, *used]) // 10 * 10 + 11
        built: list[Transition] = []
        create = ("1", "Create")
        initial = statuses[self.status_refs[0]]
        for spec in self.transitions:
            if spec.id is None:
                spec.id, next_id = str(next_id), next_id + 10
            if spec.kind == "INITIAL":
                initial, create = statuses[spec.to], (spec.id, spec.name)
                continue
            sources = None if spec.kind == "GLOBAL" else frozenset(statuses[ref].id for ref in spec.sources)
            built.append(Transition(spec.id, spec.name, statuses[spec.to], sources))
        return Workflow(self.name, initial, tuple(statuses[ref] for ref in self.status_refs), tuple(built),
                        self.description, create, project_id)


def _workflow_spec(raw: Any, specs: dict[str, StatusSpec], problems: list[Problem]) -> _WorkflowSpec:
    item = _object(raw, "A workflow")
    name = item.get("name")
    if not isinstance(name, str) or not isinstance(item.get("statuses"), list) or not isinstance(
            item.get("transitions"), list):
        raise Malformed("Each workflow needs a name, its statuses and its transitions.")
    if not name.strip():
        problems.append(Problem("WORKFLOW", "EMPTY_WORKFLOW_NAME", "A workflow must have a name."))
    refs: list[str] = []
    for entry in item["statuses"]:
        reference = _object(entry, "A workflow status").get("statusReference")
        if not isinstance(reference, str):
            raise Malformed("Each status of a workflow needs its statusReference.")
        if reference not in specs:
            problems.append(Problem("STATUS", "INVALID_STATUS_REFERENCE",
                                    "The workflow uses a status reference that no status of the request has.",
                                    {"statusReference": reference}))
        elif reference not in refs:
            refs.append(reference)
    if not item["statuses"]:
        problems.append(Problem("WORKFLOW", "EMPTY_WORKFLOW", "A workflow must have at least one status."))
    transitions = [_transition_spec(entry, refs, problems) for entry in item["transitions"]]
    _transition_set(transitions, problems)
    description = _text(item.get("description"))
    return _WorkflowSpec(name.strip(), description, refs, transitions)


def _transition_spec(raw: Any, refs: list[str], problems: list[Problem]) -> _TransitionSpec:
    item = _object(raw, "A transition")
    kind = item.get("type", "DIRECTED")
    transition_id, name, to = item.get("id"), item.get("name"), item.get("toStatusReference")
    if kind not in TRANSITION_TYPES or not isinstance(to, str) or not isinstance(transition_id, str | None):
        raise Malformed("Each transition needs a type (INITIAL, GLOBAL or DIRECTED) and a toStatusReference.")
    where = {"transitionId": transition_id} if transition_id else {}
    if not isinstance(name, str) or not name.strip():
        problems.append(Problem("TRANSITION", "EMPTY_TRANSITION_NAME", "A transition must have a name.", where))
    if to not in refs:
        problems.append(Problem("TRANSITION", "INVALID_TO_STATUS",
                                "The transition goes to a status that is not in the workflow.", where))
    sources: list[str] = []
    unknown_source = False
    for link in _list(item.get("links") or [], "links"):
        source = _object(link, "A transition link").get("fromStatusReference")
        if source is not None and source not in refs:
            unknown_source = True
            problems.append(Problem("TRANSITION", "INVALID_FROM_STATUS",
                                    "The transition starts from a status that is not in the workflow.", where))
        elif isinstance(source, str) and source not in sources:
            sources.append(source)
    if kind == "DIRECTED" and not sources and not unknown_source:
        problems.append(Problem("TRANSITION", "MISSING_FROM_STATUS",
                                "A directed transition must start from at least one status.", where))
    if _has_rules(item):
        problems.append(Problem("RULE", "UNSUPPORTED_RULE",
                                "The sandbox Jira runs no workflow rules: leave out conditions, validators, "
                                "post functions, triggers and transition screens.", where))
    return _TransitionSpec(transition_id, name.strip() if isinstance(name, str) else "", kind, to, sources)


def _transition_set(transitions: list[_TransitionSpec], problems: list[Problem]) -> None:
    initial = [t for t in transitions if t.kind == "INITIAL"]
    if not initial:
        problems.append(Problem("WORKFLOW", "MISSING_INITIAL_TRANSITION",
                                "A workflow must have an initial transition."))
    elif len(initial) > 1:
        problems.append(Problem("WORKFLOW", "MULTIPLE_INITIAL_TRANSITIONS",
                                "A workflow must have exactly one initial transition."))
    seen: set[str] = set()
    for transition in transitions:
        if transition.id is not None and transition.id in seen:
            problems.append(Problem("TRANSITION", "NON_UNIQUE_TRANSITION_ID",
                                    "Each transition of a workflow must have its own ID.",
                                    {"transitionId": transition.id}))
        if transition.id is not None:
            seen.add(transition.id)


def _unique_workflow_names(workflows: Iterable[_WorkflowSpec], site: Site, problems: list[Problem]) -> None:
    taken = {name.lower() for name in site.workflow_names}
    for workflow in workflows:
        if workflow.name and workflow.name.lower() in taken:
            problems.append(Problem("WORKFLOW", "NON_UNIQUE_WORKFLOW_NAME",
                                    f"A workflow with the name '{workflow.name}' already exists."))
        taken.add(workflow.name.lower())


def _has_rules(item: dict[str, Any]) -> bool:
    conditions = item.get("conditions")
    has_conditions = isinstance(conditions, dict) and bool(conditions.get("conditions")
                                                           or conditions.get("conditionGroups"))
    return has_conditions or bool(item.get("actions") or item.get("validators") or item.get("triggers")
                                  or item.get("transitionScreen"))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Malformed(f"{what} must be a JSON object.")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise Malformed(f"'{what}' must be a JSON array.")
    return value

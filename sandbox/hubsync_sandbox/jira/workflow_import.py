"""What a Jira Data Center admin does by hand to put a project on a workflow from XML, as control endpoints of the
Data Center simulator (its REST API, like Jira's, cannot):

    POST /_sandbox/statuses {"name": "Test fix", "category": "indeterminate"}    Administration > Issues > Statuses
         -> 201 the status as GET /rest/api/2/status shows it                    > Add status (category: new,
                                                                                  indeterminate or done)
    POST /_sandbox/workflows/import?project=OPS&name=hubsync%20risk%20workflow   Workflows > Import from XML; a
         body: the OSWorkflow XML                                                 workflow scheme "<name> scheme"
         -> 200 {"workflow", "statuses", "transitions", "moved"}                  with it; the project's Switch scheme

The import reads the XML as Jira keeps a workflow: an initial action (its result's step is where issues are
created), steps each on one site status (`<meta name="jira.status.id">`), actions under a step (transitions from
its status), common actions (shared by the steps that name them) and global actions (from any status), each
action going to its unconditional result's step. Of the post functions only Jira's Update Issue Field on the
resolution is run (`field.value` a resolution id, or empty to clear it): on an imported workflow an issue's
resolution changes only by them, as in Jira (`Workflow.resolution_by_post_functions`); conditions, validators and
the other post functions are not run. It is stricter than Jira, which imports a step on a status, or a post function
on a resolution, the site lacks and breaks later: here that is a 400 naming the step or the action. The switch maps
each status the project's issues may be in that the workflow lacks to the workflow's first status of the same
category (Jira's switch asks the admin for that mapping); `moved` names the issues moved, by key. Errors are
`{"error": ...}` with 400 (bad XML, unknown status or resolution, a workflow or scheme name taken) or 404 (no such
project)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import NoReturn
from xml.parsers import expat

from flask import Blueprint, Response, jsonify, request

from hubsync_sandbox.jira import render
from hubsync_sandbox.jira.model import STATUS_CATEGORIES, Project, ResolutionUpdate, Status, Transition, Workflow
from hubsync_sandbox.jira.world import JiraError, JiraWorld
from hubsync_sandbox.knobs import CONTROL_PREFIX

OSWORKFLOW_PUBLIC_ID = "-//OpenSymphony Group//DTD OSWorkflow 2.8//EN"
MAX_XML_BYTES = 1_000_000
UPDATE_FIELD_FUNCTION = "com.atlassian.jira.workflow.function.issue.UpdateIssueFieldFunction"


class WorkflowXmlError(ValueError):
    """The XML is not a workflow this site can import; the message says what and where."""


def parse_workflow_xml(
    text: bytes, name: str, site_statuses: Mapping[str, Status], site_resolutions: Collection[str]
) -> Workflow:
    """The workflow `text` describes, on the site's statuses (by id) and resolutions (their ids); raises
    `WorkflowXmlError`."""
    root = _parse(text)
    if root.tag != "workflow":
        _fail(f"the root element is <{root.tag}>, not <workflow>")
    steps = _steps(root, site_statuses)
    initial_actions = root.findall("initial-actions/action")
    if len(initial_actions) != 1:
        _fail(f"a workflow has one initial action (<initial-actions>), not {len(initial_actions)}")
    initial = _result_step(initial_actions[0], steps)
    builder = _Transitions(steps, site_resolutions)
    commons = {_action_id(action): action for action in root.findall("common-actions/action")}
    for action in root.findall("global-actions/action"):
        builder.add(action, sources=None)
    for step_id, (step, status) in steps.items():
        for child in step.findall("actions/*"):
            if child.tag == "action":
                builder.add(child, sources={status.id})
            elif child.tag == "common-action":
                common = commons.get(_int(child.get("id"), f"a <common-action> of step {step_id}"))
                if common is None:
                    _fail(f"step {step_id} names common action {child.get('id')}, which <common-actions> lacks")
                builder.add(common, sources={status.id})
    statuses = tuple(status for _, status in steps.values())
    return Workflow(name, initial, statuses, builder.transitions(), resolution_by_post_functions=True)


def admin_blueprint(world: JiraWorld) -> Blueprint:
    """The two control endpoints above, for a Data Center world."""
    bp = Blueprint("jira_datacenter_admin", __name__, url_prefix=CONTROL_PREFIX.rstrip("/"))
    categories = {category.key: category for category in STATUS_CATEGORIES}

    @bp.post("/statuses")
    def add_status() -> tuple[Response, int]:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or set(body) != {"name", "category"} or not isinstance(body["name"], str) \
                or body["category"] not in categories:
            return jsonify(error='body must be {"name": <text>, "category": "new", "indeterminate" or "done"}'), 400
        try:
            [status] = world.create_statuses(None, [(body["name"], categories[body["category"]], "")])
        except JiraError as exc:
            return jsonify(error="; ".join(exc.error_messages)), 400
        return jsonify(render.status(world, status)), 201

    @bp.post("/workflows/import")
    def import_workflow() -> tuple[Response, int]:
        project_key, name = request.args.get("project", ""), request.args.get("name", "").strip()
        if not project_key or not name:
            return jsonify(error="name the project and the workflow: ?project=<key>&name=<workflow name>"), 400
        text = request.get_data(cache=False)
        if len(text) > MAX_XML_BYTES:
            return jsonify(error=f"the XML is over {MAX_XML_BYTES} bytes"), 400
        try:
            project = world.project(project_key)
        except JiraError as exc:
            return jsonify(error="; ".join(exc.error_messages)), 404
        try:
            workflow, moved = _import_and_switch(world, project, text, name)
        except (WorkflowXmlError, JiraError) as exc:
            message = str(exc) if isinstance(exc, WorkflowXmlError) else "; ".join(exc.error_messages)
            return jsonify(error=message), 400
        return jsonify(workflow=workflow.name, statuses=[status.name for status in workflow.statuses],
                       transitions=len(workflow.transitions), moved=moved), 200

    return bp


def _import_and_switch(world: JiraWorld, project: Project, text: bytes, name: str) -> tuple[Workflow, dict[str, str]]:
    """Import the workflow, put it in a scheme of its own and switch the project to it as the site's admin, each
    issue whose status it lacks mapped to its first status of the same category (the initial one for To Do).
    Returns the workflow and the moved issues' new status names, by key."""
    with world.lock:
        workflow = parse_workflow_xml(text, name, {status.id: status for status in world.statuses()},
                                      {resolution.id for resolution in world.resolutions})
        by_category = {workflow.initial.category: workflow.initial}
        for status in workflow.statuses:
            by_category.setdefault(status.category, status)
        kept = {status.id for status in workflow.statuses}
        old = [status for status in project.workflow.statuses if status.id not in kept]
        mapping = {status.id: by_category.get(status.category, workflow.initial) for status in old}
        moved = {issue.key: mapping[issue.status.id].name for issue in world.issues.values()
                 if issue.project is project and issue.status.id in mapping}
        world.import_workflow(workflow)
        scheme = world.create_workflow_scheme(f"{name} scheme", f"{project.key} on {name}", name, {})
        overrides = {issue_type.id: {old_id: new.id for old_id, new in mapping.items()}
                     for issue_type in project.issue_types}
        admin = next(user for user in world.users if user.site_admin)
        world.switch_workflow_scheme(project.id, scheme.id, overrides, admin)
        return workflow, moved


@dataclass
class _Transitions:
    """The workflow's transitions as they are read: one per action id, a common action gathering its steps."""

    steps: Mapping[int, tuple[ET.Element, Status]]
    resolutions: Collection[str]
    _found: dict[int, tuple[str, Status, set[str] | None, ResolutionUpdate | None]] = field(default_factory=dict)
    _elements: dict[int, ET.Element] = field(default_factory=dict)

    def add(self, action: ET.Element, sources: set[str] | None) -> None:
        action_id = _action_id(action)
        if action_id in self._found:
            if self._elements[action_id] is not action or sources is None:
                _fail(f"action id {action_id} is used twice")
            known = self._found[action_id][2]
            assert known is not None  # only a common action is added again, always with its step's status
            known.update(sources)
            return
        name = (action.get("name") or "").strip()
        if not name:
            _fail(f"action {action_id} has no name")
        self._found[action_id] = (name, _result_step(action, self.steps), None if sources is None else set(sources),
                                  _resolution_update(action, self.resolutions))
        self._elements[action_id] = action

    def transitions(self) -> tuple[Transition, ...]:
        return tuple(
            Transition(str(action_id), name, target, None if sources is None else frozenset(sources),
                       resolution_update=update)
            for action_id, (name, target, sources, update) in self._found.items()
        )


def _parse(text: bytes) -> ET.Element:
    """The document's root; refuses a DOCTYPE other than OSWorkflow's (no internal subset, no entity)."""
    checker = expat.ParserCreate()
    checker.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def doctype(name: str, system_id: str | None, public_id: str | None, has_internal_subset: int) -> None:
        if name != "workflow" or has_internal_subset or public_id != OSWORKFLOW_PUBLIC_ID:
            _fail(f"the only DOCTYPE accepted is <!DOCTYPE workflow PUBLIC \"{OSWORKFLOW_PUBLIC_ID}\" ...>")

    def entity(*_: object) -> None:
        _fail("the XML declares an entity")

    checker.StartDoctypeDeclHandler = doctype
    checker.EntityDeclHandler = entity
    try:
        checker.Parse(text, True)
        return ET.fromstring(text)
    except (expat.ExpatError, ET.ParseError) as exc:
        raise WorkflowXmlError(f"the XML is not well-formed: {exc}") from None


def _steps(root: ET.Element, site_statuses: Mapping[str, Status]) -> dict[int, tuple[ET.Element, Status]]:
    steps: dict[int, tuple[ET.Element, Status]] = {}
    used: dict[str, int] = {}
    for step in root.findall("steps/step"):
        step_id = _int(step.get("id"), "a step's id")
        label = f"step {step_id} ({step.get('name', '')})"
        if step_id in steps:
            _fail(f"step id {step_id} is used twice")
        status_id = next((meta.text for meta in step.findall("meta") if meta.get("name") == "jira.status.id"), None)
        status_id = (status_id or "").strip()
        if not status_id:
            _fail(f"{label} has no <meta name=\"jira.status.id\">")
        status = site_statuses.get(status_id)
        if status is None:
            _fail(f"{label}: status id {status_id!r} does not exist on this site; create the status first")
        if status_id in used:
            _fail(f"{label}: status {status.name!r} is already step {used[status_id]}'s")
        used[status_id] = step_id
        steps[step_id] = (step, status)
    if not steps:
        _fail("the workflow has no <steps>")
    return steps


def _result_step(action: ET.Element, steps: Mapping[int, tuple[ET.Element, Status]]) -> Status:
    label = f"action {action.get('id')} ({action.get('name', '')})"
    result = action.find("results/unconditional-result")
    if result is None:
        _fail(f"{label} has no <unconditional-result>")
    step_id = _int(result.get("step"), f"the result step of {label}")
    if step_id not in steps:
        _fail(f"{label} leads to step {step_id}, which <steps> lacks")
    return steps[step_id][1]


def _resolution_update(action: ET.Element, resolutions: Collection[str]) -> ResolutionUpdate | None:
    """What the action's post functions do to the resolution (the last that names it wins: they run in order)."""
    found = None
    for function in action.findall("results/unconditional-result/post-functions/function"):
        args = {arg.get("name"): (arg.text or "").strip() for arg in function.findall("arg")}
        if args.get("class.name") != UPDATE_FIELD_FUNCTION or args.get("field.name") != "resolution":
            continue
        value = args.get("field.value", "")
        if value and value not in resolutions:
            _fail(f"action {action.get('id')} ({action.get('name', '')}) sets resolution id {value!r}, which does "
                  "not exist on this site")
        found = ResolutionUpdate(value or None)
    return found


def _action_id(action: ET.Element) -> int:
    return _int(action.get("id"), f"the id of action {action.get('name', '')!r}")


def _int(value: str | None, what: str) -> int:
    if value is None or not value.strip().isdigit():
        _fail(f"{what} is {value!r}, not a number")
    return int(value)


def _fail(message: str) -> NoReturn:
    raise WorkflowXmlError(message)

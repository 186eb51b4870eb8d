"""Set up hubsync's risk workflow (`domain/risk_workflow.py`, the only place it is spelled) on a Jira Cloud project.

    plan = plan_setup(admin, "OPS")        # reads only: what exists, what is missing, what stands in the way
    plan.steps / plan.problems             # each step it would take / why it cannot (nothing is then written)
    plan.already_set_up                    # nothing to write: a second run stops here
    outcome = apply_setup(admin, plan, Deadline.after(15))  # the steps in order, stopping at the first failure
    outcome.pending                        # Jira's switch still ran at the deadline (`outcome.switching`)

Statuses are reused by name (case-insensitively) when they exist in the category the workflow gives them, and
created otherwise; a same-named status in another category stops the setup rather than being used as it is. The
workflow is validated by Jira, then created; an existing workflow of the same name is reused when it has the same
statuses and transitions, and stops the setup when it differs. The project then gets a workflow scheme of its own
(no scheme another project uses is ever changed; one an earlier run made and did not switch to is reused) and is
switched onto it, the statuses of its issues mapped by name, else by category (`landing_status`).

Jira switches a project as a task that may outlast a web request (a Forge remote call ends after 25 s): a run
follows it until its deadline, then leaves it running and says so (`SetupOutcome.switching`; `switch_task` reads it
later). The CLI waits ten minutes, the configure page's route a few seconds. Jira refuses a switch while another
runs (its 409, site-wide): a run that meets that says a switch is under way (`SetupOutcome.under_way`) rather than
failing.

API-token (a Jira administrator's account) and Forge tenants (scope `manage:jira-configuration`) can; a Connect
app cannot (its scope makes Jira's status and workflow APIs inaccessible): `manual_steps` says how by hand. Data
Center has no REST API for workflows: its admins import `hubsync jira workflow-xml`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from hubsync.domain import risk_workflow as risk
from hubsync.domain.ports import (
    JiraTask,
    JiraUnavailable,
    NewStatus,
    ProjectChoice,
    ProjectNotFound,
    StatusChoice,
    StorePort,
    SwitchUnderWay,
    TaskNotFound,
    WorkflowAdminPort,
    WorkflowAdminRefused,
    WorkflowEdge,
    WorkflowSchemeInfo,
    WorkflowShape,
)
from hubsync.domain.tenant import AuthMode, JiraFlavour, Tenant, TenantNotReady, TenantWaiting
from hubsync.domain.ticket import Disposition, StatusCategory
from hubsync.service.commands import NoSingleTenant, one_tenant

WORKFLOW_DESCRIPTION = ("hubsync's risk workflow: how a security finding's ticket is fixed, has its risk accepted "
                        "or is marked a false positive")
CATEGORY_WORDS = {StatusCategory.TO_DO: "To Do", StatusCategory.IN_PROGRESS: "In Progress", StatusCategory.DONE: "Done"}
# What a status category means for a finding when its issue moves to the risk workflow: work not started or under
# way keeps it open; work done means it was fixed.
_CATEGORY_DISPOSITION = {
    StatusCategory.TO_DO: Disposition.OPEN,
    StatusCategory.IN_PROGRESS: Disposition.OPEN,
    StatusCategory.DONE: Disposition.FIXED,
}
TASK_POLL_S = 2.0  # how often a run reads Jira's switch task while it waits
CLI_WAIT_S = 600.0  # how long `hubsync jira setup-workflow` waits for the switch of a project with many issues


class SetupError(Exception):
    """The setup cannot go on; the message is one line an admin can act on."""


class SetupRefused(SetupError):
    """This tenant's kind of Jira cannot set the workflow up through hubsync; `manual_steps` says what to do."""

    def __init__(self, message: str, manual_steps: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.manual_steps = list(manual_steps)


class NoSuchProject(SetupError):
    """No project was named and the policy has none, or Jira has no such project (or hides it from hubsync)."""


class SetupUnavailable(SetupError):
    """Jira could not be asked now (unreachable, failing, a Forge token not handed yet): try again later."""


class NoSuchTask(SetupError):
    """Jira has no task of that id (it keeps a finished one for 14 days)."""


@dataclass(frozen=True)
class Deadline:
    """When a run stops waiting for Jira's switch task, on `clock`; `sleep` spends the waits (tests pass fakes)."""

    at: float
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep

    @classmethod
    def after(cls, seconds: float, clock: Callable[[], float] = time.monotonic,
              sleep: Callable[[float], None] = time.sleep) -> Deadline:
        return cls(clock() + seconds, clock, sleep)

    def left(self) -> float:
        return self.at - self.clock()


class StepKind(StrEnum):
    REUSE_STATUS = "reuse-status"
    CREATE_STATUS = "create-status"
    REUSE_WORKFLOW = "reuse-workflow"
    VALIDATE_WORKFLOW = "validate-workflow"
    CREATE_WORKFLOW = "create-workflow"
    REUSE_SCHEME = "reuse-scheme"
    CREATE_SCHEME = "create-scheme"
    SWITCH_PROJECT = "switch-project"


WRITES = frozenset({StepKind.CREATE_STATUS, StepKind.CREATE_WORKFLOW, StepKind.CREATE_SCHEME, StepKind.SWITCH_PROJECT})


@dataclass(frozen=True)
class Step:
    kind: StepKind
    text: str  # what the step does, in words


@dataclass(frozen=True)
class StepOutcome:
    step: Step
    ok: bool
    text: str  # what happened
    details: tuple[str, ...] = ()  # Jira's errors, one per item


@dataclass(frozen=True)
class SetupPlan:
    project: ProjectChoice
    steps: tuple[Step, ...]
    problems: tuple[str, ...]  # why the setup cannot go on; with any, nothing is written
    scheme: WorkflowSchemeInfo  # the project's scheme now
    found: Mapping[str, StatusChoice]  # risk status key -> the site's status reused for it
    scheme_name: str
    ready_scheme: WorkflowSchemeInfo | None = None  # a scheme of that name an earlier run left, to switch onto
    status_moves: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # issue type -> old id -> risk key

    @property
    def already_set_up(self) -> bool:
        return not self.problems and not any(step.kind in WRITES for step in self.steps)

    def to_json(self) -> dict[str, Any]:
        return {
            "project": {"id": self.project.id, "key": self.project.key, "name": self.project.name},
            "alreadySetUp": self.already_set_up,
            "steps": [{"kind": step.kind.value, "text": step.text} for step in self.steps],
            "problems": list(self.problems),
        }


@dataclass(frozen=True)
class SetupOutcome:
    plan: SetupPlan
    outcomes: tuple[StepOutcome, ...]  # the steps done (a switch left running is not among them)
    switching: JiraTask | None = None  # Jira's switch task, still running when the run stopped waiting
    under_way: bool = False  # Jira refused the switch: one started earlier is still running

    @property
    def ok(self) -> bool:
        return all(outcome.ok for outcome in self.outcomes)

    @property
    def pending(self) -> bool:
        """Jira is still switching the project: neither done nor failed yet."""
        return self.switching is not None or self.under_way

    @property
    def message(self) -> str:
        if self.switching is not None:
            return task_words(self.switching)
        if self.under_way:
            return ("A switch of workflow scheme is already under way in Jira (a switch started earlier is still "
                    f"running, of project {self.plan.project.key} or another): nothing more was switched")
        return ""

    def to_json(self) -> dict[str, Any]:
        body = self.plan.to_json() | {
            "ok": self.ok,
            "pending": self.pending,
            "outcomes": [
                {"kind": each.step.kind.value, "ok": each.ok, "text": each.text, "details": list(each.details)}
                for each in self.outcomes
            ],
        }
        if self.pending:
            body |= {"message": self.message, "task": task_json(self.switching) if self.switching else None}
        return body


def task_words(task: JiraTask) -> str:
    """What Jira's switch task is doing, or how it ended, in words for the page or a log line."""
    if task.running:
        return f"Jira is moving the project's issues onto the risk workflow: {task.progress}% done"
    if task.complete:
        return "Jira moved the project's issues onto the risk workflow"
    return f"Jira's task {task.id} switching the project ended {task.status}" + (
        f": {task.message}" if task.message else "")


def task_json(task: JiraTask) -> dict[str, Any]:
    return {"id": task.id, "status": task.status, "progress": task.progress, "message": task_words(task),
            "running": task.running, "ok": task.complete}


# -- the tenant and its project ---------------------------------------------------------------------------------


def check_platform(tenant: Tenant) -> None:
    """Refuse, before any call, a tenant whose Jira cannot be set up through hubsync."""
    if tenant.jira_flavour is JiraFlavour.DATA_CENTER:
        raise SetupRefused(f"tenant {tenant.name} is on Jira Data Center, whose REST API cannot create workflows: "
                           "write the workflow with `hubsync jira workflow-xml > risk.xml` and import it (README, "
                           "\"The risk workflow on Data Center\")")
    if tenant.auth_mode is AuthMode.CONNECT:
        raise SetupRefused(f"tenant {tenant.name} is a Connect app, which Jira does not let create statuses or "
                           "workflows: set the workflow up by hand in Jira", manual_steps())
    if tenant.auth_mode not in (AuthMode.API_TOKEN, AuthMode.FORGE):
        raise SetupRefused(f"tenant {tenant.name}: only API-token and Forge tenants of Jira Cloud can set up the "
                           "risk workflow")


def project_of(tenant: Tenant, project: str | None) -> str:
    """The project asked for, else the one the tenant's policy files tickets in."""
    key = (project or str(tenant.policy.get("project_key") or "")).strip()
    if not key:
        raise NoSuchProject(f"tenant {tenant.name} has no project in its policy yet: name one with --project")
    return key.upper()


def manual_steps() -> list[str]:
    """How a Jira administrator sets the workflow up by hand, from its one definition."""
    statuses = ", ".join(f"{each.name} ({CATEGORY_WORDS[each.category]})" for each in risk.STATUSES)
    moves = "; ".join(f"{t.name}: {risk.status(t.source).name} → {risk.status(t.target).name}"
                      for t in risk.TRANSITIONS)
    landing = ", ".join(f"{words} → {landing_status(category).name}" for category, words in CATEGORY_WORDS.items())
    return [
        f"Jira settings > Issues > Statuses: add the statuses that are missing: {statuses}.",
        f"Jira settings > Issues > Workflows > Create workflow, named {risk.NAME!r}: add those statuses, start "
        f"it at {risk.status(risk.INITIAL).name}, and add the transitions: {moves}. Publish it.",
        f"Jira settings > Issues > Workflow schemes > Add workflow scheme, named after the project: assign "
        f"{risk.NAME!r} to all issue types.",
        f"Project settings > Workflows > Switch scheme: choose that scheme and map the statuses of the issues "
        f"already there ({landing}).",
    ]


def landing_status(category: StatusCategory) -> risk.WorkflowStatus:
    """Where an issue in a status the workflow lacks moves: to do starts over at the initial status; otherwise the
    first status of its category whose disposition is what that category means for a finding."""
    if category is StatusCategory.TO_DO:
        return risk.status(risk.INITIAL)
    wanted = _CATEGORY_DISPOSITION[category]
    return next(s for s in risk.STATUSES if s.category is category and s.disposition is wanted)


def scheme_name(project: ProjectChoice) -> str:
    return f"{project.key}: {risk.NAME}"


# -- plan ---------------------------------------------------------------------------------------------------------


def plan_setup(admin: WorkflowAdminPort, project_key: str) -> SetupPlan:
    """What setting the workflow up on the project takes, read from Jira without writing anything."""
    project = admin.project(project_key)
    steps: list[Step] = []
    problems: list[str] = []
    site = {status.name.casefold(): status for status in admin.statuses_named([s.name for s in risk.STATUSES])}
    found: dict[str, StatusChoice] = {}
    for wanted in risk.STATUSES:
        existing = site.get(wanted.name.casefold())
        category = CATEGORY_WORDS[wanted.category]
        if existing is None:
            steps.append(Step(StepKind.CREATE_STATUS, f"create status {wanted.name!r} ({category})"))
        elif existing.category is not wanted.category:
            problems.append(f"status {existing.name!r} exists in category {CATEGORY_WORDS[existing.category]}, the "
                            f"workflow needs it in {category}: change its category or rename it in Jira settings > "
                            "Issues > Statuses")
        else:
            found[wanted.key] = existing
            steps.append(Step(StepKind.REUSE_STATUS, f"reuse status {existing.name!r} ({category}, id {existing.id})"))

    existing_workflow = admin.workflow(risk.NAME)
    if existing_workflow is None:
        steps.append(Step(StepKind.VALIDATE_WORKFLOW, f"validate workflow {risk.NAME!r} with Jira"))
        steps.append(Step(StepKind.CREATE_WORKFLOW, f"create workflow {risk.NAME!r} ({len(risk.STATUSES)} "
                                                    f"statuses, {len(risk.TRANSITIONS)} transitions)"))
    elif len(found) == len(risk.STATUSES) and (difference := _difference(existing_workflow, design(found))) is None:
        steps.append(Step(StepKind.REUSE_WORKFLOW, f"reuse workflow {risk.NAME!r}: same statuses and transitions"))
    else:
        why = difference if len(found) == len(risk.STATUSES) else "it lacks statuses of the risk workflow"
        problems.append(f"a workflow named {risk.NAME!r} exists but differs ({why}): rename or delete it in Jira "
                        "settings > Issues > Workflows, then run again")

    scheme = admin.project_scheme(project.id)
    moves: dict[str, dict[str, str]] = {}
    ready: WorkflowSchemeInfo | None = None
    if not _uses_workflow(scheme):
        name = scheme_name(project)
        left = admin.scheme_named(name)  # an earlier run that stopped before its switch
        if left is None:
            steps.append(Step(StepKind.CREATE_SCHEME,
                              f"create workflow scheme {name!r} with workflow {risk.NAME!r} for every issue type"))
        elif _uses_workflow(left):
            ready = left
            steps.append(Step(StepKind.REUSE_SCHEME, f"reuse workflow scheme {name!r} (id {left.id}): it gives "
                                                     f"every issue type workflow {risk.NAME!r}"))
        else:
            problems.append(f"a workflow scheme named {name!r} exists with other workflows: rename or delete it in "
                            "Jira settings > Issues > Workflow schemes, then run again")
        now = admin.project_statuses(project.key)
        moves = _status_moves(now, found)
        names = {status.id: status.name for each in now.values() for status in each}
        moved = sorted({f"{names[old]} → {risk.status(key).name}" for each in moves.values()
                        for old, key in each.items()})
        mapping = f", issues moved {', '.join(moved)}" if moved else ""
        steps.append(Step(StepKind.SWITCH_PROJECT, f"switch project {project.key} from workflow scheme "
                                                   f"{scheme.name!r} onto it{mapping}"))
    return SetupPlan(project, tuple(steps), tuple(problems), scheme, found, scheme_name(project), ready, moves)


def design(ids_of: Mapping[str, StatusChoice]) -> WorkflowShape:
    """The workflow to create, over the site's statuses for each risk status key; transitions of one name into one
    status are one transition from several."""
    sources: dict[tuple[str, str], set[str]] = {}
    for move in risk.TRANSITIONS:
        sources.setdefault((move.name, move.target), set()).add(ids_of[move.source].id)
    return WorkflowShape(
        name=risk.NAME,
        initial=ids_of[risk.INITIAL].id,
        statuses=tuple(StatusChoice(ids_of[s.key].id, s.name, s.category) for s in risk.STATUSES),
        edges=tuple(WorkflowEdge(name, frozenset(ids), ids_of[target].id) for (name, target), ids in sources.items()),
    )


def _difference(existing: WorkflowShape, wanted: WorkflowShape) -> str | None:
    """How an existing workflow differs from the wanted one, in words; None when it does not."""
    names = {s.id: s.name for s in (*wanted.statuses, *existing.statuses)}
    have, want = {s.id for s in existing.statuses}, {s.id for s in wanted.statuses}
    if have != want:
        extra, lacking = sorted(names[i] for i in have - want), sorted(names[i] for i in want - have)
        return "; ".join(part for part in (
            f"statuses it lacks: {', '.join(lacking)}" if lacking else "",
            f"statuses it has besides: {', '.join(extra)}" if extra else "",
        ) if part)
    if existing.initial != wanted.initial:
        return f"it starts at {names.get(existing.initial, existing.initial)}"
    have_moves, want_moves = _moves(existing), _moves(wanted)
    if have_moves != want_moves:
        spelled = {edge.name.casefold(): edge.name for edge in (*existing.edges, *wanted.edges)}
        changed = sorted({spelled[name] for name, _, _ in have_moves ^ want_moves})
        return f"transitions that differ: {', '.join(changed)}"
    return None


def _moves(shape: WorkflowShape) -> set[tuple[str, str | None, str]]:
    return {(edge.name.casefold(), source, edge.target)
            for edge in shape.edges for source in (sorted(edge.sources) if edge.sources is not None else [None])}


def _uses_workflow(scheme: WorkflowSchemeInfo) -> bool:
    """Whether every issue type of the scheme uses the risk workflow."""
    return scheme.default_workflow == risk.NAME and all(
        workflow == risk.NAME for workflow in scheme.issue_type_workflows.values()
    )


def _status_moves(
    statuses: Mapping[str, list[StatusChoice]], found: Mapping[str, StatusChoice]
) -> dict[str, dict[str, str]]:
    """Where the issues of each status the project has now go (issue type -> old status id -> risk status key): a
    status the workflow reuses stays; one of the same name goes there; any other lands by its category."""
    reused = {status.id for status in found.values()}
    by_name = {s.name.casefold(): s.key for s in risk.STATUSES}
    moves: dict[str, dict[str, str]] = {}
    for issue_type, now in statuses.items():
        for status in now:
            if status.id in reused:
                continue
            key = by_name.get(status.name.casefold()) or landing_status(status.category).key
            moves.setdefault(issue_type, {})[status.id] = key
    return moves


# -- apply --------------------------------------------------------------------------------------------------------


def apply_setup(
    admin: WorkflowAdminPort,
    plan: SetupPlan,
    until: Deadline,
    on_step: Callable[[StepOutcome], None] | None = None,
    on_progress: Callable[[JiraTask], None] | None = None,
) -> SetupOutcome:
    """Carry out the plan's steps in order; the first that fails ends the run (its outcome says why). Jira's switch
    task is followed `until` the deadline, then left running (`SetupOutcome.switching`)."""
    if plan.problems:
        raise SetupError(plan.problems[0])
    found = dict(plan.found)
    outcomes: list[StepOutcome] = []
    scheme = plan.ready_scheme

    def record(outcome: StepOutcome) -> bool:
        outcomes.append(outcome)
        if on_step is not None:
            on_step(outcome)
        return outcome.ok

    creates = [s for s in plan.steps if s.kind is StepKind.CREATE_STATUS]
    if creates:
        missing = [s for s in risk.STATUSES if s.key not in found]
        made = {status.name.casefold(): status for status in admin.create_statuses(
            [NewStatus(s.name, s.category, "hubsync risk workflow") for s in missing])}
        for wanted, step in zip(missing, creates, strict=True):
            status = made.get(wanted.name.casefold())
            if status is None:
                record(StepOutcome(step, False, f"Jira did not return status {wanted.name!r} it was asked to create"))
                return SetupOutcome(plan, tuple(outcomes))
            found[wanted.key] = status
            record(StepOutcome(step, True, f"created status {status.name!r} (id {status.id})"))
    for step in plan.steps:
        if step.kind in (StepKind.REUSE_STATUS, StepKind.REUSE_WORKFLOW, StepKind.REUSE_SCHEME):
            record(StepOutcome(step, True, step.text.replace("reuse ", "reused ", 1)))
        elif step.kind is StepKind.VALIDATE_WORKFLOW:
            errors = admin.validate_workflow(design(found), WORKFLOW_DESCRIPTION)
            text = (f"Jira found {len(errors)} error(s) in workflow {risk.NAME!r}" if errors
                    else f"Jira validated workflow {risk.NAME!r}")
            if not record(StepOutcome(step, not errors, text, tuple(errors))):
                break
        elif step.kind is StepKind.CREATE_WORKFLOW:
            admin.create_workflow(design(found), WORKFLOW_DESCRIPTION)
            record(StepOutcome(step, True, f"created workflow {risk.NAME!r}"))
        elif step.kind is StepKind.CREATE_SCHEME:
            scheme = admin.create_scheme(plan.scheme_name, f"hubsync's risk workflow for {plan.project.key}",
                                         risk.NAME)
            record(StepOutcome(step, True, f"created workflow scheme {scheme.name!r} (id {scheme.id})"))
        elif step.kind is StepKind.SWITCH_PROJECT and scheme is not None:
            mappings = {issue_type: {old: found[key].id for old, key in moves.items()}
                        for issue_type, moves in plan.status_moves.items()}
            try:
                task = admin.switch_scheme(plan.project.id, scheme.id, mappings)
            except SwitchUnderWay:
                return SetupOutcome(plan, tuple(outcomes), under_way=True)
            task = follow_task(admin, task, until, on_progress)
            if task.running:
                return SetupOutcome(plan, tuple(outcomes), switching=task)
            record(StepOutcome(step, task.complete,
                               f"switched project {plan.project.key} onto workflow scheme {scheme.name!r}"
                               if task.complete else task_words(task)))
    return SetupOutcome(plan, tuple(outcomes))


def follow_task(admin: WorkflowAdminPort, task: JiraTask, until: Deadline,
                on_progress: Callable[[JiraTask], None] | None = None) -> JiraTask:
    """Read Jira's task every few seconds while it runs and the deadline allows; the task as last read."""
    while task.running and (left := until.left()) > 0:
        until.sleep(min(TASK_POLL_S, left))
        task = admin.task(task.id)
        if on_progress is not None:
            on_progress(task)
    return task


# -- one call for the CLI and the web route -----------------------------------------------------------------------


def setup_risk_workflow(
    tenant: Tenant,
    admin_of: Callable[[Tenant], WorkflowAdminPort],
    project: str | None,
    *,
    dry_run: bool,
    wait_s: float,
    on_step: Callable[[StepOutcome], None] | None = None,
    on_progress: Callable[[JiraTask], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> SetupPlan | SetupOutcome:
    """The plan (`dry_run`, already set up, or stopped by a problem) or the outcome of carrying it out, the whole
    run within about `wait_s` seconds once Jira's switch has started (then `pending`). Raises `SetupRefused` for a
    tenant that cannot, `SetupError` with words an admin can act on for anything else."""
    until = Deadline.after(wait_s, clock, sleep)
    check_platform(tenant)
    key = project_of(tenant, project)
    with _asking_jira(tenant):
        try:
            admin = admin_of(tenant)
            plan = plan_setup(admin, key)
            if dry_run or plan.problems or plan.already_set_up:
                return plan
            return apply_setup(admin, plan, until, on_step, on_progress)
        except ProjectNotFound:
            raise NoSuchProject(f"Jira has no project {key}, or does not show it to hubsync's account") from None


def switch_task(tenant: Tenant, admin_of: Callable[[Tenant], WorkflowAdminPort], task_id: str) -> JiraTask:
    """Jira's task of this id now: a page follows the switch a setup left running. Raises `NoSuchTask`, and what
    `setup_risk_workflow` raises."""
    check_platform(tenant)
    with _asking_jira(tenant):
        try:
            return admin_of(tenant).task(task_id)
        except TaskNotFound:
            raise NoSuchTask(f"Jira has no task {task_id} (it keeps a finished one for 14 days)") from None


@contextmanager
def _asking_jira(tenant: Tenant) -> Iterator[None]:
    """Jira's and the tenant's failures as `SetupError`s in words an admin can act on."""
    try:
        yield
    except WorkflowAdminRefused as exc:
        raise SetupError(refused_words(tenant, str(exc))) from None
    except (JiraUnavailable, TenantWaiting) as exc:
        raise SetupUnavailable(str(exc)) from None
    except TenantNotReady as exc:
        raise SetupError(str(exc)) from None
    except TaskNotFound as exc:
        raise SetupUnavailable(f"Jira no longer knows its task {exc}") from None


def refused_words(tenant: Tenant, jira_says: str) -> str:
    if tenant.auth_mode is AuthMode.FORGE:
        return (f"Jira refused the Forge app ({jira_says}): setting up workflows needs the scope "
                "manage:jira-configuration in the app's manifest (redeploy and upgrade the installation)")
    return (f"Jira refused the account {tenant.jira_user} ({jira_says}): setting up workflows needs a Jira "
            "administrator (the Administer Jira global permission); use an administrator's API token")


# -- `hubsync jira setup-workflow` ---------------------------------------------------------------------------------


def setup_workflow_command(
    store: StorePort,
    admin_of: Callable[[Tenant], WorkflowAdminPort],
    *,
    tenant: str | None,
    project: str | None,
    dry_run: bool,
    out: Callable[[str], None],
    err: Callable[[str], None],
    wait_s: float = CLI_WAIT_S,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """One line per step as it happens, and Jira's progress while it switches the project; 0 when set up (or
    already), 1 when something stopped it or Jira still switches after `wait_s`, 2 when this tenant cannot (the
    manual steps follow)."""
    shown: list[int] = []

    def progress(task: JiraTask) -> None:
        if task.running and task.progress not in shown:
            shown.append(task.progress)
            out(f"  {task_words(task)}")

    try:
        chosen = one_tenant(store, tenant)
        result = setup_risk_workflow(chosen, admin_of, project, dry_run=dry_run, wait_s=wait_s,
                                     on_step=lambda outcome: _print_outcome(outcome, out), on_progress=progress,
                                     clock=clock, sleep=sleep)
    except SetupRefused as exc:
        err(f"hubsync: {exc}")
        for number, step in enumerate(exc.manual_steps, 1):
            out(f"{number}. {step}")
        return 2
    except (SetupError, NoSingleTenant) as exc:
        err(f"hubsync: {exc}")
        return 1
    plan = result.plan if isinstance(result, SetupOutcome) else result
    key = plan.project.key
    if isinstance(result, SetupOutcome):
        if result.pending:
            task = f" (Jira's task {result.switching.id})" if result.switching else ""
            err(f"hubsync: {key}: {result.message}{task}; run again later: it says \"already set up\" once the "
                "project is on the risk workflow")
            return 1
        if not result.ok:
            err(f"hubsync: {key}: the risk workflow is not set up: {result.outcomes[-1].text}")
            return 1
        out(f"{key}: the risk workflow is set up")
        return 0
    if plan.problems:
        for problem in plan.problems:
            out(f"problem: {problem}")
        err(f"hubsync: {key}: the risk workflow cannot be set up ({len(plan.problems)} problem(s) above); nothing "
            "was changed")
        return 1
    if plan.already_set_up:
        out(f"{key}: already set up (workflow {risk.NAME!r} on workflow scheme {plan.scheme.name!r})")
        return 0
    out(f"{key}: dry run, nothing changed; the steps it would take:")
    for planned in plan.steps:
        out(f"  {planned.text}")
    return 0


def _print_outcome(outcome: StepOutcome, out: Callable[[str], None]) -> None:
    out(f"{'ok' if outcome.ok else 'FAILED'}: {outcome.text}")
    for detail in outcome.details:
        out(f"    {detail}")

"""Setting up the risk workflow on a project, against an in-memory Jira site's administration (a fake port)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hubsync.domain import risk_workflow as risk
from hubsync.domain.ports import JiraUnavailable, StatusChoice, WorkflowSchemeInfo
from hubsync.domain.tenant import AuthMode, JiraFlavour, Tenant
from hubsync.service.workflow_setup import (
    Deadline,
    NoSuchTask,
    SetupError,
    SetupOutcome,
    SetupPlan,
    SetupRefused,
    StepKind,
    apply_setup,
    design,
    landing_status,
    manual_steps,
    plan_setup,
    setup_risk_workflow,
    setup_workflow_command,
    switch_task,
)
from tests.fakes.clock import FakeClock
from tests.fakes.store import FakeStore
from tests.fakes.workflow_admin import DOING, DONE, TODO, FakeAdmin


def tenant(auth: AuthMode = AuthMode.API_TOKEN, flavour: JiraFlavour = JiraFlavour.CLOUD) -> Tenant:
    return Tenant("t1", "acme", "https://acme.atlassian.net", flavour, auth, "ext", jira_user="sofia@example.com",
                  jira_secret="token", policy={"project_key": "OPS"})


def run(admin: FakeAdmin, *, dry_run: bool = False, who: Tenant | None = None) -> SetupPlan | SetupOutcome:
    return setup_risk_workflow(who or tenant(), lambda _: admin, None, dry_run=dry_run, wait_s=15)


def test_a_fresh_project_gets_statuses_workflow_scheme_and_switch_in_that_order() -> None:
    admin = FakeAdmin()
    result = run(admin)
    assert isinstance(result, SetupOutcome) and result.ok
    assert admin.writes == ["create_statuses", "create_workflow", "create_scheme", "switch_scheme"]
    created = {s.name for s in admin.statuses[3:]}
    assert created == {s.name for s in risk.STATUSES}
    workflow = admin.workflows[risk.NAME]
    by_id = {s.id: s.name for s in admin.statuses}
    assert by_id[workflow.initial] == risk.status(risk.INITIAL).name
    moves = {(edge.name, by_id[source], by_id[edge.target]) for edge in workflow.edges for source in edge.sources or ()}
    assert moves == {(t.name, risk.status(t.source).name, risk.status(t.target).name) for t in risk.TRANSITIONS}
    scheme = admin.project_scheme("10001")
    assert scheme.name == f"OPS: {risk.NAME}" and scheme.default_workflow == risk.NAME


def test_issues_already_there_move_by_their_status_category() -> None:
    admin = FakeAdmin()
    run(admin)
    by_id = {s.id: s.name for s in admin.statuses}
    for issue_type in admin.issue_types:
        moved = {by_id[old]: by_id[new] for old, new in admin.switched[issue_type].items()}
        assert moved == {"To Do": landing_status(TODO).name, "In Progress": landing_status(DOING).name,
                         "Done": landing_status(DONE).name}
    assert (landing_status(TODO), landing_status(DOING), landing_status(DONE)) == (
        risk.status("open"), risk.status("allocated"), risk.status("resolved"))


def test_a_second_run_is_already_set_up_and_writes_nothing() -> None:
    admin = FakeAdmin()
    run(admin)
    admin.writes.clear()
    again = run(admin)
    assert isinstance(again, SetupPlan) and again.already_set_up and not again.problems
    assert admin.writes == []
    assert {step.kind for step in again.steps} == {StepKind.REUSE_STATUS, StepKind.REUSE_WORKFLOW}


def test_a_dry_run_plans_every_step_and_writes_nothing() -> None:
    admin = FakeAdmin()
    plan = run(admin, dry_run=True)
    assert isinstance(plan, SetupPlan) and not plan.already_set_up
    assert admin.writes == []
    kinds = [step.kind for step in plan.steps]
    assert kinds.count(StepKind.CREATE_STATUS) == len(risk.STATUSES)
    assert kinds[-4:] == [StepKind.VALIDATE_WORKFLOW, StepKind.CREATE_WORKFLOW, StepKind.CREATE_SCHEME,
                          StepKind.SWITCH_PROJECT]
    assert "To Do → Open" in plan.steps[-1].text
    assert plan.to_json()["steps"][0] == {"kind": "create-status", "text": plan.steps[0].text}


def test_existing_statuses_are_reused_whatever_their_case() -> None:
    admin = FakeAdmin()
    admin.statuses.append(StatusChoice("500", "OPEN", TODO))
    plan = plan_setup(admin, "OPS")
    assert plan.found["open"].id == "500"
    run(admin)
    assert admin.workflows[risk.NAME].initial == "500"
    assert sum(1 for s in admin.statuses if s.name.casefold() == "open") == 1
    assert "500" not in admin.switched["10001"]  # issues already there would stay, not move


def test_a_same_named_status_in_another_category_stops_the_setup_before_any_write() -> None:
    admin = FakeAdmin()
    admin.statuses.append(StatusChoice("600", "Resolved", TODO))
    plan = run(admin)
    assert isinstance(plan, SetupPlan)
    assert plan.problems and "Resolved" in plan.problems[0] and "To Do" in plan.problems[0]
    assert admin.writes == []
    with pytest.raises(SetupError):
        apply_setup(admin, plan, Deadline.after(15))


def test_a_workflow_of_the_same_name_that_differs_stops_the_setup() -> None:
    admin = FakeAdmin()
    run(admin)
    shape = admin.workflows[risk.NAME]
    admin.workflows[risk.NAME] = replace(shape, edges=shape.edges[1:])
    admin.project_scheme_id["10001"] = "1"
    admin.writes.clear()
    plan = run(admin)
    assert isinstance(plan, SetupPlan)
    assert plan.problems and "differs" in plan.problems[0] and shape.edges[0].name in plan.problems[0]
    assert admin.writes == []


def test_an_identical_workflow_is_reused_and_only_the_project_is_moved() -> None:
    admin = FakeAdmin()
    run(admin)
    admin.project_scheme_id["10001"] = "1"  # someone moved the project back to the default scheme
    admin.writes.clear()
    outcome = run(admin)
    assert isinstance(outcome, SetupOutcome) and outcome.ok
    assert StepKind.REUSE_WORKFLOW in [o.step.kind for o in outcome.outcomes]
    assert admin.writes == ["switch_scheme"]


def test_validation_errors_are_reported_per_item_and_nothing_more_is_written() -> None:
    admin = FakeAdmin()
    admin.validation_errors = ["transition Approve risk: bad", "status Open: worse"]
    lines: list[str] = []
    outcome = setup_risk_workflow(tenant(), lambda _: admin, None, dry_run=False, wait_s=15,
                                  on_step=lambda each: lines.append(each.text))
    assert isinstance(outcome, SetupOutcome) and not outcome.ok
    assert outcome.outcomes[-1].details == ("transition Approve risk: bad", "status Open: worse")
    assert admin.writes == ["create_statuses"]


def test_a_design_groups_transitions_of_one_name_into_one_status() -> None:
    ids = {s.key: StatusChoice(str(i), s.name, s.category) for i, s in enumerate(risk.STATUSES)}
    shape = design(ids)
    reopen_to_open = [e for e in shape.edges if e.name == "Reopen" and e.target == ids["open"].id]
    assert len(reopen_to_open) == 1 and len(reopen_to_open[0].sources or ()) > 1


def test_connect_is_refused_up_front_with_the_manual_steps() -> None:
    admin = FakeAdmin()
    admin.refuse = True  # any call would fail: none is made
    with pytest.raises(SetupRefused) as refused:
        run(admin, who=tenant(AuthMode.CONNECT))
    assert "Connect" in str(refused.value)
    assert refused.value.manual_steps == manual_steps()
    assert any(risk.NAME in step for step in manual_steps())
    assert all(s.name in manual_steps()[0] for s in risk.STATUSES)


def test_data_center_points_to_the_workflow_xml() -> None:
    with pytest.raises(SetupRefused, match="workflow-xml"):
        run(FakeAdmin(), who=tenant(AuthMode.PAT, JiraFlavour.DATA_CENTER))


def test_a_refusal_says_the_account_must_be_an_administrator() -> None:
    admin = FakeAdmin()
    admin.refuse = True
    with pytest.raises(SetupError, match=r"sofia@example\.com.*Jira administrator"):
        run(admin)
    with pytest.raises(SetupError, match="manage:jira-configuration"):
        run(admin, who=tenant(AuthMode.FORGE))


def test_an_unknown_project_or_an_unreachable_jira_is_one_setup_error() -> None:
    with pytest.raises(SetupError, match="no project NOPE"):
        setup_risk_workflow(tenant(), lambda _: FakeAdmin(), "nope", dry_run=True, wait_s=15)

    def unreachable(_: Tenant) -> FakeAdmin:
        raise JiraUnavailable("Jira did not answer GET /project/OPS: ConnectionError")

    with pytest.raises(SetupError, match="did not answer"):
        setup_risk_workflow(tenant(), unreachable, None, dry_run=True, wait_s=15)


def test_without_a_project_in_the_policy_one_must_be_named() -> None:
    with pytest.raises(SetupError, match="--project"):
        setup_risk_workflow(replace(tenant(), policy={}), lambda _: FakeAdmin(), None, dry_run=True, wait_s=15)


def test_a_scheme_an_earlier_run_left_unswitched_is_reused() -> None:
    admin = FakeAdmin()
    plan = plan_setup(admin, "OPS")
    admin.switch_fails = True
    with pytest.raises(JiraUnavailable):
        apply_setup(admin, plan, Deadline.after(15))
    assert admin.writes == ["create_statuses", "create_workflow", "create_scheme"]
    admin.switch_fails = False

    outcome = run(admin)
    assert isinstance(outcome, SetupOutcome) and outcome.ok
    assert [o.step.kind for o in outcome.outcomes][-2:] == [StepKind.REUSE_SCHEME, StepKind.SWITCH_PROJECT]
    assert admin.writes[3:] == ["switch_scheme"]
    assert admin.project_scheme("10001").name == f"OPS: {risk.NAME}"


def test_a_scheme_of_that_name_with_other_workflows_stops_the_setup() -> None:
    admin = FakeAdmin()
    admin.schemes["9"] = WorkflowSchemeInfo("9", f"ops: {risk.NAME}", "jira", {}, frozenset())
    plan = run(admin)
    assert isinstance(plan, SetupPlan) and "workflow scheme" in plan.problems[0]
    assert admin.writes == []


# -- Jira's switch task: followed within the budget, then left running ---------------------------------------------


class Seconds:
    """A monotonic clock that moves only when the run sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_switch_that_outlasts_the_budget_is_pending_with_jiras_task() -> None:
    admin, clock = FakeAdmin(), Seconds()
    admin.switch_reads = 20  # Jira answers RUNNING to 20 reads of the task
    seen: list[int] = []
    outcome = setup_risk_workflow(tenant(), lambda _: admin, None, dry_run=False, wait_s=15,
                                  on_progress=lambda task: seen.append(task.progress), clock=clock, sleep=clock.sleep)
    assert isinstance(outcome, SetupOutcome) and outcome.ok and outcome.pending and not outcome.under_way
    assert clock.now == 15 and len(clock.slept) == len(seen) == 8  # every 2 s, the last wait cut to the budget
    assert seen == sorted(seen) and outcome.switching is not None and outcome.switching.running
    assert outcome.switching.progress == seen[-1] > 0
    assert outcome.message == f"Jira is moving the project's issues onto the risk workflow: {seen[-1]}% done"
    assert StepKind.SWITCH_PROJECT not in [o.step.kind for o in outcome.outcomes]  # not done, not failed
    body = outcome.to_json()
    assert body["pending"] is True and body["task"]["id"] == outcome.switching.id and body["task"]["running"]
    assert admin.project_scheme("10001").name == "Default Workflow Scheme"  # Jira has not switched yet


def test_a_switch_that_ends_within_the_budget_is_followed_to_its_end() -> None:
    admin, clock = FakeAdmin(), Seconds()
    admin.switch_reads = 3
    outcome = setup_risk_workflow(tenant(), lambda _: admin, None, dry_run=False, wait_s=15, clock=clock,
                                  sleep=clock.sleep)
    assert isinstance(outcome, SetupOutcome) and outcome.ok and not outcome.pending
    assert outcome.outcomes[-1].text == f"switched project OPS onto workflow scheme 'OPS: {risk.NAME}'"
    assert clock.now == 8 and "pending" not in [k for k, v in outcome.to_json().items() if v]


def test_a_switch_task_that_fails_is_a_failed_step_with_jiras_words() -> None:
    admin, clock = FakeAdmin(), Seconds()
    admin.switch_reads, admin.switch_failure = 1, "Issue OPS-3 could not be migrated"
    outcome = setup_risk_workflow(tenant(), lambda _: admin, None, dry_run=False, wait_s=15, clock=clock,
                                  sleep=clock.sleep)
    assert isinstance(outcome, SetupOutcome) and not outcome.ok and not outcome.pending
    assert outcome.outcomes[-1].step.kind is StepKind.SWITCH_PROJECT
    assert outcome.outcomes[-1].text.endswith("ended FAILED: Issue OPS-3 could not be migrated")


def test_a_second_run_while_the_switch_runs_says_it_is_under_way_and_switches_nothing() -> None:
    admin = FakeAdmin()
    admin.switch_reads = 5
    first = setup_risk_workflow(tenant(), lambda _: admin, None, dry_run=False, wait_s=0)
    assert isinstance(first, SetupOutcome) and first.switching is not None

    again = run(admin)
    assert isinstance(again, SetupOutcome) and again.pending and again.under_way and again.switching is None
    assert [o.step.kind for o in again.outcomes][-1] is StepKind.REUSE_SCHEME  # the scheme the first run made
    assert "a switch started earlier is still running" in again.message
    assert admin.writes.count("switch_scheme") == 1
    assert again.to_json()["task"] is None

    for _ in range(5):
        assert switch_task(tenant(), lambda _: admin, first.switching.id).running
    assert switch_task(tenant(), lambda _: admin, first.switching.id).complete
    assert isinstance(done := run(admin, dry_run=True), SetupPlan) and done.already_set_up


def test_a_task_jira_does_not_have_is_no_such_task_and_connect_cannot_ask() -> None:
    with pytest.raises(NoSuchTask, match="no task 999"):
        switch_task(tenant(), lambda _: FakeAdmin(), "999")
    with pytest.raises(SetupRefused):
        switch_task(tenant(AuthMode.CONNECT), lambda _: FakeAdmin(), "999")


# -- `hubsync jira setup-workflow` ---------------------------------------------------------------------------------


def command(admin: FakeAdmin, auth: AuthMode = AuthMode.API_TOKEN, *, dry_run: bool = False,
            tenants: int = 1, wait_s: float = 600, clock: Seconds | None = None) -> tuple[int, list[str], list[str]]:
    store = FakeStore(FakeClock())
    with store.transaction() as uow:
        for number in range(tenants):
            uow.tenants.create(name=f"acme-{number}", jira_base_url="https://acme.atlassian.net",
                               jira_flavour=JiraFlavour.CLOUD, auth_mode=auth, jira_user="sofia@example.com",
                               jira_secret="token", policy={"project_key": "OPS"})
    out: list[str] = []
    err: list[str] = []
    seconds = clock or Seconds()
    status = setup_workflow_command(store, lambda _: admin, tenant=None, project=None, dry_run=dry_run,
                                    out=out.append, err=err.append, wait_s=wait_s, clock=seconds,
                                    sleep=seconds.sleep)
    return status, out, err


def test_the_command_prints_a_line_per_step_then_already_set_up() -> None:
    admin = FakeAdmin()
    status, out, err = command(admin, dry_run=True)
    assert (status, err) == (0, []) and out[0] == "OPS: dry run, nothing changed; the steps it would take:"
    assert len(out) == 1 + len(plan_setup(admin, "OPS").steps) and admin.writes == []

    status, out, err = command(admin)
    assert (status, err) == (0, []) and out[-1] == "OPS: the risk workflow is set up"
    assert all(line.startswith("ok: ") for line in out[:-1])

    status, out, err = command(admin)
    assert (status, err, len(out)) == (0, [], 1) and out[0].startswith("OPS: already set up")


def test_the_command_refuses_connect_with_the_manual_steps_and_exit_2() -> None:
    status, out, err = command(FakeAdmin(), AuthMode.CONNECT)
    assert status == 2 and len(err) == 1 and "Connect" in err[0]
    assert out == [f"{number}. {step}" for number, step in enumerate(manual_steps(), 1)]


def test_the_command_says_what_stops_it_in_one_error_line() -> None:
    admin = FakeAdmin()
    admin.statuses.append(StatusChoice("600", "Resolved", TODO))
    status, out, err = command(admin)
    assert status == 1 and len(err) == 1 and "nothing was changed" in err[0]
    assert out[0].startswith("problem: status 'Resolved'") and admin.writes == []

    status, out, err = command(FakeAdmin(), tenants=2)
    assert (status, out) == (1, []) and err == ["hubsync: several tenants, pass --tenant with one of: acme-0, acme-1"]


def test_the_command_says_when_jira_still_switches_after_its_wait() -> None:
    admin = FakeAdmin()
    admin.switch_reads = 3
    status, out, err = command(admin, wait_s=0)
    assert status == 1 and len(err) == 1 and "switch_scheme" in admin.writes
    assert out[-1].startswith("ok: created workflow scheme")  # the switch is neither done nor failed
    assert err[0].startswith("hubsync: OPS: Jira is moving the project's issues onto the risk workflow: 0% done "
                             "(Jira's task 10100); run again later")

    status, _, err = command(admin)  # a second run while the task runs
    assert status == 1 and "a switch started earlier is still running" in err[0]


def test_the_command_prints_jiras_progress_while_it_waits() -> None:
    admin, clock = FakeAdmin(), Seconds()
    admin.switch_reads = 3
    status, out, err = command(admin, clock=clock)
    assert (status, err) == (0, [])
    assert out[-5:] == [
        "  Jira is moving the project's issues onto the risk workflow: 25% done",
        "  Jira is moving the project's issues onto the risk workflow: 50% done",
        "  Jira is moving the project's issues onto the risk workflow: 75% done",
        f"ok: switched project OPS onto workflow scheme 'OPS: {risk.NAME}'",
        "OPS: the risk workflow is set up",
    ]

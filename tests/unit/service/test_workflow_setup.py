"""Setting up the risk workflow on a project, against an in-memory Jira site's administration (a fake port)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hubsync.domain import risk_workflow as risk
from hubsync.domain.ports import JiraUnavailable, StatusChoice, WorkflowSchemeInfo
from hubsync.domain.tenant import AuthMode, JiraFlavour, Tenant
from hubsync.service.workflow_setup import (
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
)
from tests.fakes.clock import FakeClock
from tests.fakes.store import FakeStore
from tests.fakes.workflow_admin import DOING, DONE, TODO, FakeAdmin


def tenant(auth: AuthMode = AuthMode.API_TOKEN, flavour: JiraFlavour = JiraFlavour.CLOUD) -> Tenant:
    return Tenant("t1", "acme", "https://acme.atlassian.net", flavour, auth, "ext", jira_user="sofia@example.com",
                  jira_secret="token", policy={"project_key": "OPS"})


def run(admin: FakeAdmin, *, dry_run: bool = False, who: Tenant | None = None) -> SetupPlan | SetupOutcome:
    return setup_risk_workflow(who or tenant(), lambda _: admin, None, dry_run=dry_run)


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
        apply_setup(admin, plan)


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
    outcome = setup_risk_workflow(tenant(), lambda _: admin, None, dry_run=False,
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
        setup_risk_workflow(tenant(), lambda _: FakeAdmin(), "nope", dry_run=True)

    def unreachable(_: Tenant) -> FakeAdmin:
        raise JiraUnavailable("Jira did not answer GET /project/OPS: ConnectionError")

    with pytest.raises(SetupError, match="did not answer"):
        setup_risk_workflow(tenant(), unreachable, None, dry_run=True)


def test_without_a_project_in_the_policy_one_must_be_named() -> None:
    with pytest.raises(SetupError, match="--project"):
        setup_risk_workflow(replace(tenant(), policy={}), lambda _: FakeAdmin(), None, dry_run=True)


def test_a_scheme_an_earlier_run_left_unswitched_is_reused() -> None:
    admin = FakeAdmin()
    plan = plan_setup(admin, "OPS")
    admin.switch_fails = True
    with pytest.raises(JiraUnavailable):
        apply_setup(admin, plan)
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


# -- `hubsync jira setup-workflow` ---------------------------------------------------------------------------------


def command(admin: FakeAdmin, auth: AuthMode = AuthMode.API_TOKEN, *, dry_run: bool = False,
            tenants: int = 1) -> tuple[int, list[str], list[str]]:
    store = FakeStore(FakeClock())
    with store.transaction() as uow:
        for number in range(tenants):
            uow.tenants.create(name=f"acme-{number}", jira_base_url="https://acme.atlassian.net",
                               jira_flavour=JiraFlavour.CLOUD, auth_mode=auth, jira_user="sofia@example.com",
                               jira_secret="token", policy={"project_key": "OPS"})
    out: list[str] = []
    err: list[str] = []
    status = setup_workflow_command(store, lambda _: admin, tenant=None, project=None, dry_run=dry_run,
                                    out=out.append, err=err.append)
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

"""Setting up the risk workflow on the simulated Jira Cloud site's stock OPS project, through hubsync's adapter and
service: as an API-token Jira administrator and as a Forge app through the API gateway. A dry run writes nothing,
the setup moves the project's issues by category, a second run is "already set up" and writes nothing; a
developer's token and a Forge app without `manage:jira-configuration` are refused with words that say why. Every
exchange is checked against Atlassian's OpenAPI document (`jira_sandbox`, with HUBSYNC_SPECS_DIR set)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
import requests

from hubsync.adapters.jira.auth import ApiToken, ForgeAppToken
from hubsync.adapters.jira.workflow_admin import JiraWorkflowAdmin
from hubsync.domain import risk_workflow as risk
from hubsync.domain.ports import JiraTask, JiraUnavailable, WorkflowAdminPort
from hubsync.domain.tenant import AuthMode, JiraFlavour, Tenant
from hubsync.domain.ticket import StatusCategory
from hubsync.service.workflow_setup import (
    SetupError,
    SetupOutcome,
    SetupPlan,
    landing_status,
    setup_risk_workflow,
    switch_task,
)
from hubsync_sandbox.forge import ForgePlatform, ForgeSettings
from hubsync_sandbox.jira import seed
from hubsync_sandbox.jira.world import JiraWorld
from tests.fixtures.jira import JiraSandbox
from tests.unit.sandbox.forge.forge_remote import StandInRemote, manifest


class Recorder:
    """WSGI middleware that keeps the method and path of every REST request the site receives."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        with self._lock:
            self.requests.append((environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")))
        return self.app(environ, start_response)

    def writes(self) -> list[tuple[str, str]]:
        with self._lock:
            return [(method, path) for method, path in self.requests if method not in ("GET", "HEAD")
                    and "/rest/" in path and "/_sandbox/" not in path]


def api_token_tenant(sandbox: JiraSandbox, email: str, token: str) -> Tenant:
    return Tenant("t1", "acme", sandbox.url, JiraFlavour.CLOUD, AuthMode.API_TOKEN, "ext", jira_user=email,
                  jira_secret=token, policy={"project_key": "OPS"})


def admin_of(tenant: Tenant) -> WorkflowAdminPort:
    auth = ForgeAppToken(tenant.jira_secret or "") if tenant.auth_mode is AuthMode.FORGE else ApiToken(
        tenant.jira_user or "", tenant.jira_secret or "")
    return JiraWorkflowAdmin(tenant.jira_base_url, auth, sleep=lambda _: None)


@pytest.fixture
def stock_site(jira_sandbox: Callable[..., JiraSandbox], monkeypatch: pytest.MonkeyPatch) -> JiraSandbox:
    """A site with none of the risk workflow's statuses: its SEC project too has the stock To Do / In Progress /
    Done workflow."""
    monkeypatch.setattr(seed, "risk_workflow", lambda: replace(seed.simplified_workflow(), name="SEC workflow"))
    return jira_sandbox("cloud")


@pytest.fixture
def recorded(stock_site: JiraSandbox) -> Recorder:
    recorder = Recorder(stock_site.app.wsgi_app)
    stock_site.app.wsgi_app = recorder  # type: ignore[method-assign]
    return recorder


@pytest.fixture
def sofia(stock_site: JiraSandbox) -> Tenant:
    """The site's Jira administrator, with an API token of her own."""
    user = stock_site.world.user_by_email(seed.SANDBOX_JIRA_ADMIN_EMAIL)
    assert user is not None and user.site_admin
    return api_token_tenant(stock_site, seed.SANDBOX_JIRA_ADMIN_EMAIL, seed.SANDBOX_JIRA_ADMIN_API_TOKEN)


def ops_issue(world: JiraWorld, summary: str, status: str | None = None) -> str:
    bot = world.user_by_email(seed.SANDBOX_JIRA_USER)
    assert bot is not None
    issue = world.create_issue({"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": summary}, bot)
    if status is not None:
        move = next(t for t in world.transitions(issue.key) if t.to.name == status)
        world.transition_issue(issue.key, move.id, bot)
    return issue.key


def test_an_administrators_api_token_sets_up_ops_once(stock_site: JiraSandbox, recorded: Recorder,
                                                       sofia: Tenant) -> None:
    world = stock_site.world
    todo, doing, done = ops_issue(world, "to do"), ops_issue(world, "doing", "In Progress"), ops_issue(
        world, "done", "Done")

    plan = setup_risk_workflow(sofia, admin_of, None, dry_run=True, wait_s=15)
    assert isinstance(plan, SetupPlan) and not plan.problems and not plan.already_set_up
    assert recorded.writes() == []
    landing = {name: landing_status(category).name for name, category in
               (("To Do", StatusCategory.TO_DO), ("In Progress", StatusCategory.IN_PROGRESS),
                ("Done", StatusCategory.DONE))}
    moves = ", ".join(f"{old} → {new}" for old, new in sorted(landing.items()))
    assert next(s.text for s in plan.steps if s.kind == "switch-project").endswith(f"issues moved {moves}")

    outcome = setup_risk_workflow(sofia, admin_of, None, dry_run=False, wait_s=15)
    assert isinstance(outcome, SetupOutcome) and outcome.ok, outcome.outcomes
    project = world.project("OPS")
    assert project.workflow.name == risk.NAME
    assert {s.name for s in project.workflow.statuses} == {s.name for s in risk.STATUSES}
    assert [world.get_issue(key).status.name for key in (todo, doing, done)] == list(landing.values())
    assert world.project("SEC").workflow.name == "SEC workflow"  # the other project's scheme is untouched
    written = [path.rsplit("/rest/api/3", 1)[1] for _, path in recorded.writes()]
    assert written == ["/statuses", "/workflows/create/validation", "/workflows/create", "/workflowscheme",
                       "/workflowscheme/project/switch"]

    before = len(recorded.writes())
    again = setup_risk_workflow(sofia, admin_of, None, dry_run=False, wait_s=15)
    assert isinstance(again, SetupPlan) and again.already_set_up
    assert len(recorded.writes()) == before


def test_a_run_stopped_before_its_switch_is_finished_by_the_next(stock_site: JiraSandbox, sofia: Tenant) -> None:
    class SwitchFails(JiraWorkflowAdmin):
        def switch_scheme(self, *args: Any) -> JiraTask:
            raise JiraUnavailable("the connection dropped")

    def stopping(tenant: Tenant) -> WorkflowAdminPort:
        return SwitchFails(tenant.jira_base_url, ApiToken(tenant.jira_user or "", tenant.jira_secret or ""))

    with pytest.raises(SetupError, match="connection dropped"):
        setup_risk_workflow(sofia, stopping, None, dry_run=False, wait_s=15)
    assert stock_site.world.project("OPS").workflow.name != risk.NAME

    outcome = setup_risk_workflow(sofia, admin_of, None, dry_run=False, wait_s=15)
    assert isinstance(outcome, SetupOutcome) and outcome.ok, outcome.outcomes
    assert [o.step.kind for o in outcome.outcomes][-3:] == ["reuse-workflow", "reuse-scheme", "switch-project"]
    assert stock_site.world.project("OPS").workflow.name == risk.NAME


class Seconds:
    """A monotonic clock that moves only when the run sleeps: the wait budget without the wait."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_switch_jira_runs_past_the_budget_is_left_running_and_followed_to_its_end(
    stock_site: JiraSandbox, recorded: Recorder, sofia: Tenant
) -> None:
    world = stock_site.world
    doing = ops_issue(world, "doing", "In Progress")
    knob = requests.post(f"{stock_site.url}/_sandbox/switch-tasks", json={"running_reads": 3}, timeout=5)
    assert knob.status_code == 200 and knob.json() == {"running_reads": 3, "failure": None}
    clock = Seconds()

    outcome = setup_risk_workflow(sofia, admin_of, None, dry_run=False, wait_s=4, clock=clock, sleep=clock.sleep)
    assert isinstance(outcome, SetupOutcome) and outcome.ok and outcome.pending, outcome.outcomes
    assert outcome.switching is not None and (outcome.switching.status, outcome.switching.progress) == ("RUNNING", 50)
    assert world.project("OPS").workflow.name != risk.NAME  # Jira switches when its task ends

    again = setup_risk_workflow(sofia, admin_of, None, dry_run=False, wait_s=4, clock=clock, sleep=clock.sleep)
    assert isinstance(again, SetupOutcome) and again.under_way and again.switching is None
    switches = [path for _, path in recorded.writes() if path.endswith("/workflowscheme/project/switch")]
    assert len(switches) == 2 and len(world.tasks) == 1  # Jira refused the second (409): one task, one switch

    task = switch_task(sofia, admin_of, outcome.switching.id)
    assert (task.status, task.progress) == ("RUNNING", 75)
    assert switch_task(sofia, admin_of, task.id).complete
    assert world.project("OPS").workflow.name == risk.NAME
    assert world.get_issue(doing).status.name == landing_status(StatusCategory.IN_PROGRESS).name
    done = setup_risk_workflow(sofia, admin_of, None, dry_run=True, wait_s=4)
    assert isinstance(done, SetupPlan) and done.already_set_up


def test_a_switch_task_that_fails_changes_nothing_and_says_why(stock_site: JiraSandbox, sofia: Tenant) -> None:
    stock_site.world.switch_task_reads, stock_site.world.switch_task_failure = 1, "Issue OPS-1 could not be moved"
    outcome = setup_risk_workflow(sofia, admin_of, None, dry_run=False, wait_s=0)
    assert isinstance(outcome, SetupOutcome) and outcome.switching is not None
    assert switch_task(sofia, admin_of, outcome.switching.id).running
    failed = switch_task(sofia, admin_of, outcome.switching.id)
    assert (failed.status, failed.message) == ("FAILED", "Issue OPS-1 could not be moved")
    assert stock_site.world.project("OPS").workflow.name != risk.NAME
    with pytest.raises(SetupError, match="no task 12345"):
        switch_task(sofia, admin_of, "12345")


def test_a_developers_api_token_is_told_an_administrator_is_needed(stock_site: JiraSandbox,
                                                                  recorded: Recorder) -> None:
    bot = api_token_tenant(stock_site, seed.SANDBOX_JIRA_USER, seed.SANDBOX_JIRA_API_TOKEN)
    with pytest.raises(SetupError, match="needs a Jira administrator"):
        setup_risk_workflow(bot, admin_of, "OPS", dry_run=False, wait_s=15)
    assert recorded.writes() == []


# -- Forge --------------------------------------------------------------------------------------------------------


@pytest.fixture
def forge(jira_sandbox: Callable[..., JiraSandbox]) -> Iterator[tuple[JiraSandbox, ForgePlatform, StandInRemote]]:
    platforms: list[ForgePlatform] = []

    def blueprints(world: JiraWorld) -> list[Any]:
        from hubsync_sandbox.forge import forge_blueprint

        platforms.append(ForgePlatform(world, ForgeSettings(retry_interval_s=0.1)))
        return [forge_blueprint(platforms[0])]

    jira = jira_sandbox("cloud", extra_blueprints=blueprints)
    remote = StandInRemote().start()
    remote.jwks_url = platforms[0].jwks_url
    yield jira, platforms[0], remote
    platforms[0].wait_idle(10)
    platforms[0].stop()
    remote.stop()


def forge_tenant(platform: ForgePlatform, remote: StandInRemote, app_manifest: str) -> Tenant:
    platform.install(app_manifest, remote_base_url=remote.url)
    assert platform.wait_idle(10)
    return Tenant("t2", "forge-site", platform.api_base_url, JiraFlavour.CLOUD, AuthMode.FORGE, "ext",
                  jira_secret=platform.system_token(), policy={"project_key": "OPS"})


def test_a_forge_app_token_sets_up_ops_then_finds_it_set_up(
    forge: tuple[JiraSandbox, ForgePlatform, StandInRemote],
) -> None:
    jira, platform, remote = forge
    tenant = forge_tenant(platform, remote, manifest())
    ops_issue(jira.world, "doing", "In Progress")

    outcome = setup_risk_workflow(tenant, admin_of, None, dry_run=False, wait_s=15)
    assert isinstance(outcome, SetupOutcome) and outcome.ok, outcome.outcomes
    assert jira.world.project("OPS").workflow.name == risk.NAME
    again = setup_risk_workflow(tenant, admin_of, None, dry_run=True, wait_s=15)
    assert isinstance(again, SetupPlan) and again.already_set_up


def test_a_forge_app_without_the_scope_is_told_which_scope(
    forge: tuple[JiraSandbox, ForgePlatform, StandInRemote],
) -> None:
    _, platform, remote = forge
    tenant = forge_tenant(platform, remote, manifest().replace(" manage:jira-configuration,", ""))
    with pytest.raises(SetupError, match="manage:jira-configuration"):
        setup_risk_workflow(tenant, admin_of, None, dry_run=True, wait_s=15)

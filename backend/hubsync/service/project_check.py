"""The project check as a use case: read what Jira says about the policy's project, then let the domain judge it
(`hubsync.domain.project_check`). The configure page runs it on the form's policy, a settings save runs it when
the project or issue type changes, and `hubsync jira check` runs it on each tenant's saved policy."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from hubsync.domain.policy import Policy
from hubsync.domain.policy_schema import InvalidPolicy, load_policy
from hubsync.domain.ports import JiraProjectsPort, JiraUnavailable, ProjectNotFound, StorePort
from hubsync.domain.project_check import CheckState, ProjectCheck, ProjectFacts, check_project, issue_type_of
from hubsync.domain.tenant import AuthMode, JiraFlavour, Tenant, TenantNotReady, TenantWaiting
from hubsync.domain.validation import field_errors
from hubsync.service.commands import chosen_tenants
from hubsync.service.settings import InvalidSettings

MARKS = {CheckState.OK: "✓", CheckState.FAILED: "✗", CheckState.UNKNOWN: "?"}


class UserLookup(Protocol):
    def find_user(self, query: str, project_key: str | None = None) -> str | None:
        """The one active person `query` names (an id, a name or an email), assignable in `project_key`."""


class CannotCheckProject(Exception):
    """Jira could not be asked (unreachable, or it refused a read); the message says so, fit for an admin."""


def run_project_check(tenant: Tenant, projects: JiraProjectsPort, users: UserLookup, policy: Policy) -> ProjectCheck:
    """Read the project's issue types, create screen, statuses, workflow, the site's priorities and the default
    assignee, and check them. Raises `CannotCheckProject` when Jira does not answer."""
    try:
        facts = _read_facts(projects, users, policy)
    except JiraUnavailable as exc:
        raise CannotCheckProject(f"Jira could not be asked about project {policy.project_key}: {exc}") from exc
    return check_project(policy, dataclasses.replace(facts, workflow_hidden=_why_workflow_hidden(tenant)))


def _why_workflow_hidden(tenant: Tenant) -> str:
    """Why Jira shows this tenant no workflow, in the terms of its kind of tenant."""
    if tenant.jira_flavour is JiraFlavour.DATA_CENTER:
        return "Jira Data Center has no REST API for a workflow's transitions"
    return {
        AuthMode.CONNECT: "Jira does not let Connect apps read workflows",
        AuthMode.FORGE: "Jira refused the Forge app's request; its manifest asks manage:jira-configuration for it",
    }.get(tenant.auth_mode, "reading workflows takes a Jira administrator's account, which hubsync's is not")


def _read_facts(projects: JiraProjectsPort, users: UserLookup, policy: Policy) -> ProjectFacts:
    key = policy.project_key
    priorities = tuple(projects.priorities())
    try:
        issue_types = tuple(projects.issue_types(key))
    except ProjectNotFound:
        return ProjectFacts(None, priorities)
    assignee_found = (users.find_user(policy.default_assignee, key) is not None
                      if policy.default_assignee else None)
    chosen = issue_type_of(policy, issue_types)
    if chosen is None:
        return ProjectFacts(issue_types, priorities, assignee_found=assignee_found)
    return ProjectFacts(
        issue_types,
        priorities,
        create_fields=tuple(projects.create_fields(key, chosen.id)),
        statuses=tuple(projects.statuses(key, chosen.id)),
        workflow=projects.workflow(key, chosen.id),
        assignee_found=assignee_found,
    )


def policy_to_check(data: Any, saved: Mapping[str, Any] | None) -> Policy:
    """The policy "Check project" checks: the form's, unsaved (`{"policy": {...}}`), or without one the `saved`
    policy. Raises `InvalidSettings` with messages by field path (`policy.project_key`), as a save does."""
    if data is not None and not isinstance(data, Mapping):
        raise InvalidSettings({"": ["the body must be a JSON object: {\"policy\": {...}}, or none"]})
    unknown = sorted(set(data or {}) - {"policy"})
    if unknown:
        raise InvalidSettings({"": [f"{', '.join(map(str, unknown))}: not something the check takes"]})
    form = (data or {}).get("policy")
    if form is None and not saved:
        raise InvalidSettings({"policy.project_key": ["no policy saved yet: choose a project to check"]})
    try:
        return load_policy(form if form is not None else saved or {})
    except InvalidPolicy as problem:
        raise InvalidSettings(field_errors(problem.messages, "policy")) from None


def project_changes(stored: Mapping[str, Any] | None, policy: Policy) -> bool:
    """Whether saving `policy` over the `stored` one changes the project or its issue type (a first save does, and
    so does replacing a stored policy that no longer loads): then the save is checked first."""
    try:
        before = load_policy(stored) if stored else None
    except InvalidPolicy:
        return True
    return before is None or (before.project_key, before.issue_type.casefold()) != (
        policy.project_key, policy.issue_type.casefold())


def check_tenants_command(
    store: StorePort,
    projects_of: Callable[[Tenant], JiraProjectsPort],
    users_of: Callable[[Tenant], UserLookup],
    *,
    tenant: str | None,
    out: Callable[[str], None],
    err: Callable[[str], None],
) -> int:
    """`hubsync jira check`: each chosen tenant's saved policy checked, one line per item. Exit status 0 when no
    item failed, 1 when one did, 2 when a tenant could not be checked at all (none chosen, no policy, no Jira)."""
    chosen = chosen_tenants(store, tenant, err)
    if not chosen:
        return 2
    status = 0
    for each in chosen:
        try:
            policy = load_policy(each.policy) if each.policy else None
        except InvalidPolicy as exc:
            err(f"tenant {each.name}: its saved policy is not valid ({'; '.join(exc.lines)}): fix it on the "
                "configure page first")
            status = 2
            continue
        if policy is None:
            err(f"tenant {each.name}: no policy saved yet: choose the project on the configure page first")
            status = 2
            continue
        try:
            report = run_project_check(each, projects_of(each), users_of(each), policy)
        except (CannotCheckProject, TenantNotReady, TenantWaiting) as exc:
            err(f"tenant {each.name}: {exc}")
            status = 2
            continue
        out(report_lines(each, report))
        status = max(status, 0 if report.ok else 1)
    return status


def report_lines(tenant: Tenant, report: ProjectCheck) -> str:
    failed = len(report.failed)
    unknown = sum(item.state is CheckState.UNKNOWN for item in report.items)
    lines = [f"tenant {tenant.name}: project {report.project_key}, issue type {report.issue_type}"]
    lines += [f"  {MARKS[item.state]} {item.name}: {item.message}" for item in report.items]
    verdict = "nothing failed" if not failed else f"{failed} failed"
    lines.append(f"  {verdict}" + (f", {unknown} to check by hand" if unknown else ""))
    return "\n".join(lines)

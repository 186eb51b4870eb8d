"""The seeded Jira site: the SEC project on the SecDevOps risk workflow, the OPS project on a stock workflow,
priorities, resolutions and a handful of users, with the credentials the sandbox prints for hubsync.
"""

from __future__ import annotations

from hubsync.domain import risk_workflow as risk
from hubsync.domain.ticket import StatusCategory as StatusCategoryKey
from hubsync_sandbox.jira.model import (
    DONE,
    IN_PROGRESS,
    TO_DO,
    IssueType,
    Priority,
    Project,
    Resolution,
    Status,
    Transition,
    User,
    Workflow,
    WorkflowScheme,
)

# The account hubsync itself uses. Cloud: Basic email + API token. Data Center: Basic name + password, or PAT.
SANDBOX_JIRA_USER = "hubsync-bot@example.com"
SANDBOX_JIRA_API_TOKEN = "sandbox-api-token-0f3b9c2d7e"
SANDBOX_JIRA_USERNAME = "hubsync-bot"
SANDBOX_JIRA_PASSWORD = "sandbox-password-hubsync"
SANDBOX_JIRA_PAT = "sandbox-pat-NjQ3MTc4OTk1NzA3OnubSyncBot"
# Who gets a ticket when the AWS account names nobody (the reference solution's JIRA_DEFAULT_ASSIGNEE).
SANDBOX_JIRA_DEFAULT_ASSIGNEE_EMAIL = "sam.triage@example.com"
# The security engineer, also the site's Jira administrator (the one who configures apps); developers are not.
SANDBOX_JIRA_ADMIN_EMAIL = "sofia.security@example.com"
# Her own API token: what `hubsync jira setup-workflow` needs on Cloud, the Jira administrator's rights.
SANDBOX_JIRA_ADMIN_API_TOKEN = "sandbox-api-token-sofia"
# Her Data Center login (name ssecurity): a personal access token (Bearer) and a password (Basic), what a Jira
# administrator gives once to register hubsync's admin webhook on a Data Center site.
SANDBOX_JIRA_ADMIN_PAT = "sandbox-pat-MzQ1Njc4OTAxMjM0OnSofiaAdmin"
SANDBOX_JIRA_ADMIN_PASSWORD = "sandbox-password-sofia"
# A user who may browse but not change issues: requests as this user get 403 on writes.
SANDBOX_JIRA_VIEWER_EMAIL = "victor.viewer@example.com"
SANDBOX_JIRA_VIEWER_API_TOKEN = "sandbox-api-token-viewer"


def users() -> list[User]:
    """Cloud account ids use both of Atlassian's formats (24 hex digits, and `712020:<uuid>`)."""
    return [
        User(
            account_id="712020:5f0c3a2e-8d41-4b6a-9e27-1c3d5b7a9f01",
            name=SANDBOX_JIRA_USERNAME,
            display_name="hubsync bot",
            email=SANDBOX_JIRA_USER,
            api_token=SANDBOX_JIRA_API_TOKEN,
            password=SANDBOX_JIRA_PASSWORD,
            pat=SANDBOX_JIRA_PAT,
        ),
        User(
            account_id="5b10ac8d82e05b22cc7d4ef5",
            name="striage",
            display_name="Sam Triage",
            email=SANDBOX_JIRA_DEFAULT_ASSIGNEE_EMAIL,
        ),
        User(
            account_id="5d8f2a7c41e3b90c0a7e6d21",
            name="alice",
            display_name="Alice Developer",
            email="alice@example.com",
        ),
        User(
            account_id="5e1a9b3c72d4f80b1c2d3e44",
            name="bob",
            display_name="Bob Developer",
            email="bob@example.com",
        ),
        User(
            account_id="712020:a3c1e5f7-2b4d-4c6e-8f10-9a8b7c6d5e4f",
            name="carol",
            display_name="Carol Developer",
            email="carol@example.com",
        ),
        User(
            account_id="5f3e2d1c0b9a887766554433",
            name="ssecurity",
            display_name="Sofia Security",
            email=SANDBOX_JIRA_ADMIN_EMAIL,
            api_token=SANDBOX_JIRA_ADMIN_API_TOKEN,
            password=SANDBOX_JIRA_ADMIN_PASSWORD,
            pat=SANDBOX_JIRA_ADMIN_PAT,
            site_admin=True,
        ),
        User(
            account_id="60a1b2c3d4e5f60718293a4b",
            name="vviewer",
            display_name="Victor Viewer",
            email=SANDBOX_JIRA_VIEWER_EMAIL,
            can_write=False,
            api_token=SANDBOX_JIRA_VIEWER_API_TOKEN,
            password="sandbox-password-viewer",
        ),
    ]


PRIORITIES = (
    Priority("1", "Highest", "#d04437"),
    Priority("2", "High", "#f15C75"),
    Priority("3", "Medium", "#f79232"),
    Priority("4", "Low", "#707070"),
    Priority("5", "Lowest", "#999999"),
)
DEFAULT_PRIORITY_ID = "3"

RESOLUTIONS = (
    Resolution("1", "Fixed", "A fix for this issue is checked into the tree and tested."),
    Resolution("2", "Won't Fix", "The problem described is an issue which will never be fixed."),
    Resolution("3", "Duplicate", "The problem is a duplicate of an existing issue."),
    Resolution("10000", "Done", "Work has been completed on this issue."),
    Resolution("10001", "Won't Do", "This issue won't be actioned."),
)
DEFAULT_RESOLUTION_ID = "10000"

ISSUE_TYPES = (
    IssueType("10001", "Task", "A small, distinct piece of work."),
    IssueType("10002", "Bug", "A problem or error."),
)

# Fields the create and edit screens show (the transition screens into Done add `resolution`).
CREATE_SCREEN = frozenset(
    {"project", "issuetype", "summary", "description", "labels", "priority", "assignee", "reporter"}
)
EDIT_SCREEN = frozenset({"issuetype", "summary", "description", "labels", "priority", "assignee", "reporter"})
RESOLUTION_SCREEN = frozenset({"resolution"})


# The seeded SEC project's Jira ids for the risk workflow's statuses and transitions (the reference solution's).
_RISK_STATUS_IDS = {
    "open": "1", "request": "10002", "expired": "10003", "not_approved": "10004", "approved": "10005",
    "allocated": "10006", "test": "10007", "resolved": "5", "marked_fp": "10008", "accepted_fp": "10009",
}
_RISK_TRANSITION_IDS = {
    ("open", "marked_fp"): "11", ("open", "allocated"): "81", ("open", "request"): "101", ("request", "open"): "111",
    ("request", "approved"): "121", ("request", "not_approved"): "141", ("expired", "request"): "171",
    ("expired", "open"): "181", ("not_approved", "allocated"): "151", ("approved", "request"): "131",
    ("approved", "expired"): "161", ("allocated", "test"): "51", ("allocated", "open"): "91",
    ("test", "resolved"): "61", ("test", "allocated"): "71", ("resolved", "allocated"): "41",
    ("marked_fp", "open"): "21", ("marked_fp", "accepted_fp"): "191", ("accepted_fp", "open"): "31",
}
_CATEGORIES = {StatusCategoryKey.TO_DO: TO_DO, StatusCategoryKey.IN_PROGRESS: IN_PROGRESS, StatusCategoryKey.DONE: DONE}


def risk_workflow() -> Workflow:
    """hubsync's risk workflow (`hubsync.domain.risk_workflow`), as the seeded SEC project has it: the reference
    solution's status and transition ids; transitions into a done status show the resolution screen."""
    statuses = {
        each.key: Status(_RISK_STATUS_IDS[each.key], each.name, _CATEGORIES[each.category])
        for each in risk.STATUSES
    }
    transitions = tuple(
        Transition(
            _RISK_TRANSITION_IDS[(move.source, move.target)], move.name, statuses[move.target],
            frozenset({statuses[move.source].id}),
            RESOLUTION_SCREEN if statuses[move.target].category is DONE else frozenset(),
        )
        for move in risk.TRANSITIONS
    )
    return Workflow("SecDevOps Risk Workflow", statuses[risk.INITIAL], tuple(statuses.values()), transitions)


def simplified_workflow() -> Workflow:
    """Jira's simplified To Do / In Progress / Done workflow: every status reachable from every other."""
    todo = Status("10000", "To Do", TO_DO)
    doing = Status("3", "In Progress", IN_PROGRESS)
    done = Status("10001", "Done", DONE)
    transitions = (
        Transition("11", "To Do", todo),
        Transition("21", "In Progress", doing),
        Transition("31", "Done", done, screen_fields=RESOLUTION_SCREEN),
    )
    return Workflow("Software Simplified Workflow for Project OPS", todo, (todo, doing, done), transitions)


def projects(users_by_name: dict[str, User]) -> list[Project]:
    return [
        Project("10000", "SEC", "Security Findings", risk_workflow(), ISSUE_TYPES, users_by_name["ssecurity"]),
        Project("10001", "OPS", "Operations", simplified_workflow(), ISSUE_TYPES, users_by_name["striage"]),
    ]


def workflow_schemes(projects: list[Project]) -> dict[str, WorkflowScheme]:
    """Each project on a scheme of its own (by project id) whose default workflow is the project's workflow."""
    return {
        project.id: WorkflowScheme(10000 + index, f"{project.key}: {project.workflow.name} Scheme",
                                   project.workflow.name, description=f"The workflow scheme of {project.name}.")
        for index, project in enumerate(projects)
    }

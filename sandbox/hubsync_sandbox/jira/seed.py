"""The seeded Jira site: the SEC project on the SecDevOps risk workflow, the OPS project on a stock workflow,
priorities, resolutions and a handful of users, with the credentials the sandbox prints for hubsync.
"""

from __future__ import annotations

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


def risk_workflow() -> Workflow:
    """The SecDevOps risk workflow of the reference solution (its status ids and transition ids)."""
    s = {
        "open": Status("1", "Open", TO_DO),
        "request": Status("10002", "Request risk acceptance", IN_PROGRESS),
        "expired": Status("10003", "Risk approval expired", IN_PROGRESS),
        "not_approved": Status("10004", "Risk not approved", DONE),
        "approved": Status("10005", "Risk approved", DONE),
        "allocated": Status("10006", "Allocated for fix", IN_PROGRESS),
        "test": Status("10007", "Test fix", IN_PROGRESS),
        "resolved": Status("5", "Resolved", DONE),
        "marked_fp": Status("10008", "Marked as false positive", IN_PROGRESS),
        "accepted_fp": Status("10009", "Accepted false positive", DONE),
    }

    def move(tid: str, name: str, source: str, target: str) -> Transition:
        to = s[target]
        screen = RESOLUTION_SCREEN if to.category is DONE else frozenset()
        return Transition(tid, name, to, frozenset({s[source].id}), screen)

    transitions = (
        move("11", "Mark as false positive", "open", "marked_fp"),
        move("81", "Allocate for fix", "open", "allocated"),
        move("101", "Request risk acceptance", "open", "request"),
        move("111", "Reopen", "request", "open"),
        move("121", "Approve risk", "request", "approved"),
        move("141", "Deny risk approval", "request", "not_approved"),
        move("171", "Request risk acceptance", "expired", "request"),
        move("181", "Reopen", "expired", "open"),
        move("151", "Move to be fix", "not_approved", "allocated"),
        move("131", "Reopen", "approved", "request"),
        move("161", "Expire risk approval", "approved", "expired"),
        move("51", "Mark for testing", "allocated", "test"),
        move("91", "Reopen", "allocated", "open"),
        move("61", "Mark as resolved", "test", "resolved"),
        move("71", "To In-progress", "test", "allocated"),
        move("41", "Reopen", "resolved", "allocated"),
        move("21", "Reopen", "marked_fp", "open"),
        move("191", "Accept false positive", "marked_fp", "accepted_fp"),
        move("31", "Reopen", "accepted_fp", "open"),
    )
    return Workflow("SecDevOps Risk Workflow", s["open"], tuple(s.values()), transitions)


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

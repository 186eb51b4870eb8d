"""The things a Jira site is made of: users, projects, workflows, issues, as plain dataclasses.

Only `world.py` mutates them, under its lock; everything else reads them there or renders them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Flavour = Literal["cloud", "datacenter"]


@dataclass(frozen=True)
class StatusCategory:
    id: int
    key: str
    name: str
    color_name: str


TO_DO = StatusCategory(2, "new", "To Do", "blue-gray")
IN_PROGRESS = StatusCategory(4, "indeterminate", "In Progress", "yellow")
DONE = StatusCategory(3, "done", "Done", "green")
STATUS_CATEGORIES = (TO_DO, IN_PROGRESS, DONE)


@dataclass(frozen=True)
class Status:
    id: str
    name: str
    category: StatusCategory
    description: str = ""
    project_id: str | None = None  # the project a PROJECT-scoped status belongs to; None: a GLOBAL status


@dataclass(frozen=True)
class ResolutionUpdate:
    """A transition's Update Issue Field post function on the resolution: set it to `resolution_id`, or clear it
    (None)."""

    resolution_id: str | None


@dataclass(frozen=True)
class Transition:
    """A workflow transition; `sources` None means global (available from every other status). `resolution_update`
    counts only in a workflow whose resolution is set by post functions (`Workflow.resolution_by_post_functions`)."""

    id: str
    name: str
    to: Status
    sources: frozenset[str] | None = None
    screen_fields: frozenset[str] = frozenset()
    resolution_update: ResolutionUpdate | None = None

    @property
    def is_global(self) -> bool:
        return self.sources is None

    @property
    def has_screen(self) -> bool:
        return bool(self.screen_fields)

    def available_from(self, status: Status) -> bool:
        if self.sources is None:
            return status.id != self.to.id
        return status.id in self.sources


@dataclass(frozen=True)
class Workflow:
    """A workflow: issues are created in `initial` (by its INITIAL transition, `create_transition`: id, name).

    An issue's resolution follows the status category on the workflows the simulator seeds or creates over REST (a
    transition into a done status sets the one its screen was given, or "Done"; any other transition clears it),
    standing in for their resolution screens. On a workflow imported from XML (`resolution_by_post_functions`) only
    the transitions' post functions change it, as in Jira: a transition without one leaves it as it was."""

    name: str
    initial: Status
    statuses: tuple[Status, ...]
    transitions: tuple[Transition, ...]
    description: str = ""
    create_transition: tuple[str, str] = ("1", "Create")
    project_id: str | None = None  # the project of a PROJECT-scoped workflow; None: GLOBAL
    resolution_by_post_functions: bool = False

    @property
    def id(self) -> str:
        """Jira Cloud gives a workflow a UUID; names are unique on a site, so one derived from the name is stable."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"jira-workflow:{self.name}"))

    def status(self, status_id: str) -> Status | None:
        return next((status for status in self.statuses if status.id == status_id), None)


@dataclass
class WorkflowScheme:
    """Which workflow each issue type of a project uses: `issue_type_mappings` (issue type id -> workflow name),
    `default_workflow` for the rest."""

    id: int
    name: str
    default_workflow: str
    issue_type_mappings: dict[str, str] = field(default_factory=dict)
    description: str = ""

    def workflow_for(self, issue_type_id: str) -> str:
        return self.issue_type_mappings.get(issue_type_id, self.default_workflow)


@dataclass
class Task:
    """A long-running task Jira runs: GET /task/{id} reports it. It ends at once, or on the read after `reads`
    reads of it."""

    id: str
    description: str
    submitted_by: User
    submitted: datetime
    reads: int = 0  # how many reads it answers RUNNING to (the world's knob when it was submitted)
    reads_left: int = 0
    status: str = "RUNNING"  # then COMPLETE or FAILED
    progress: int = 0  # percent
    message: str = ""
    finished: datetime | None = None


@dataclass(frozen=True)
class IssueType:
    id: str
    name: str
    description: str = ""


@dataclass(frozen=True)
class Priority:
    id: str
    name: str
    color: str


@dataclass(frozen=True)
class Resolution:
    id: str
    name: str
    description: str = ""


@dataclass
class User:
    """A Jira user. Cloud knows it by `account_id`; Data Center by `name` (login) and `key`."""

    account_id: str
    name: str
    display_name: str
    email: str
    account_type: Literal["atlassian", "app"] = "atlassian"
    active: bool = True
    can_write: bool = True  # False: may browse but not create, edit, transition or comment
    site_admin: bool = False  # holds the global permission ADMINISTER (a Jira administrator)
    api_token: str | None = None  # Cloud Basic auth (email:token)
    password: str | None = None  # Data Center Basic auth (name:password)
    pat: str | None = None  # Data Center Bearer personal access token

    @property
    def key(self) -> str:
        """Data Center's user key; Jira gives new users a key equal to their lower-cased name."""
        return self.name.lower()


@dataclass
class Project:
    id: str
    key: str
    name: str
    workflow: Workflow
    issue_types: tuple[IssueType, ...]
    lead: User
    next_number: int = 1


@dataclass
class Comment:
    id: str
    author: User
    body: Any  # ADF dict on Cloud, wiki text on Data Center
    created: datetime
    updated: datetime


@dataclass
class ChangeGroup:
    """One entry of an issue's changelog: who changed which fields, when."""

    id: str
    author: User
    created: datetime
    items: list[dict[str, Any]]


@dataclass
class RemoteLink:
    id: int
    global_id: str | None
    application: dict[str, Any] | None
    relationship: str | None
    object: dict[str, Any]


@dataclass
class Issue:
    id: str
    key: str
    project: Project
    issue_type: IssueType
    status: Status
    summary: str
    description: Any  # None, ADF dict (Cloud) or wiki text (Data Center)
    labels: list[str]
    priority: Priority
    assignee: User | None
    reporter: User
    creator: User
    created: datetime
    updated: datetime
    status_category_changed: datetime
    resolution: Resolution | None = None
    resolution_date: datetime | None = None
    comments: list[Comment] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    remote_links: list[RemoteLink] = field(default_factory=list)
    changelog: list[ChangeGroup] = field(default_factory=list)
    indexed_at: float = 0.0  # monotonic time of creation, for the search-consistency knob


@dataclass
class InstalledApp:
    """A Connect app installed on this Jira site (populated by connect.py)."""

    key: str
    base_url: str
    client_key: str
    shared_secret: str
    descriptor: dict
    enabled: bool = True

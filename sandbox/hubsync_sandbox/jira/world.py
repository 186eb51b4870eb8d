"""The in-memory Jira site behind the simulator: its state and every operation on it, thread-safe.

The REST layer (rest.py) and the Connect platform side (connect.py) both act on one `JiraWorld`. Operations take
REST-shaped `fields` (as a client sends them, in the world's flavour: ADF or wiki text, accountId or name) and
raise `JiraError`, which the REST layer renders as Jira's `{"errorMessages": [...], "errors": {...}}`.
After each issue create/update/delete the world calls its `listeners` (outside the lock) with the Jira webhook
payload of the change.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from hubsync_sandbox.jira import adf, jql, render, seed, workflow_drafts
from hubsync_sandbox.jira.model import (
    DONE,
    STATUS_CATEGORIES,
    ChangeGroup,
    Comment,
    Flavour,
    InstalledApp,
    Issue,
    IssueType,
    Priority,
    Project,
    RemoteLink,
    Resolution,
    Status,
    StatusCategory,
    Task,
    Transition,
    User,
    Workflow,
    WorkflowScheme,
)
from hubsync_sandbox.jira.search_index import SearchIndex
from hubsync_sandbox.jira.workflow_drafts import Draft, Malformed

__all__ = ["Flavour", "InstalledApp", "JiraError", "JiraWorld", "Transition", "User"]

log = logging.getLogger(__name__)

ISSUE_NOT_FOUND = "Issue does not exist or you do not have permission to see it."
MAX_PROPERTY_VALUE_CHARS = 32768
MAX_PROPERTY_KEY_CHARS = 255
CLOUD_VERSION = "1001.0.0-SNAPSHOT"
DATA_CENTER_VERSION = "10.3.6"


class JiraError(Exception):
    """A request Jira refuses; rendered as `{"errorMessages": [...], "errors": {...}}` with `status`."""

    def __init__(self, status: int, error_messages: Iterable[str] = (), errors: dict[str, str] | None = None):
        self.status = status
        self.error_messages = list(error_messages)
        self.errors = dict(errors or {})
        super().__init__(f"{status}: {self.error_messages} {self.errors}")

    def body(self) -> dict[str, Any]:
        return {"errorMessages": self.error_messages, "errors": self.errors}


def not_on_screen(field: str) -> str:
    return f"Field '{field}' cannot be set. It is not on the appropriate screen, or unknown."


class JiraWorld:
    """One Jira site, seeded. `base_url` may be set after construction (once the server's port is known)."""

    def __init__(
        self,
        flavour: Flavour,
        base_url: str,
        *,
        clock: Callable[[], datetime] | None = None,
        version: str | None = None,
    ) -> None:
        if flavour not in ("cloud", "datacenter"):
            raise ValueError(f"unknown Jira flavour {flavour!r}")
        self.flavour: Flavour = flavour
        # What serverInfo reports, e.g. "10.3.6" or "9.12.0" on Data Center, whose REST API for admin webhooks
        # depends on it (admin_webhooks.py); Cloud's is fixed. May be changed while the site runs (a knob).
        self.version = version or (CLOUD_VERSION if flavour == "cloud" else DATA_CENTER_VERSION)
        version_numbers(self.version)  # a ValueError now, not on the first serverInfo
        self.base_url = base_url.rstrip("/")
        self.lock = threading.RLock()
        self.connect_apps: dict[str, InstalledApp] = {}
        self.listeners: list[Callable[[dict], None]] = []
        # Bearer tokens accepted at Atlassian's API gateway (`/ex/jira/<cloudId>/rest/...`): the Forge platform
        # side (hubsync_sandbox.forge) sets a resolver that names the user a token acts as and the scopes the
        # app holds, or raises LookupError saying why it refuses the token. None: the gateway refuses every token.
        self.gateway_tokens: Callable[[str], tuple[User, frozenset[str]]] | None = None
        self.search_delay_ms = 0  # new issues stay out of search results this long (eventual consistency)
        # Custom fields a project's create screen requires, without a default (a knob): project key → {id: name}.
        self.required_fields: dict[str, dict[str, str]] = {}
        self._clock = clock or (lambda: datetime.now(UTC))
        self.users: list[User] = seed.users()
        by_name = {user.name: user for user in self.users}
        self.projects: dict[str, Project] = {project.key: project for project in seed.projects(by_name)}
        # Workflow administration (Cloud's REST API): every workflow, status and scheme the site has, by name,
        # id and id; which scheme each project (by id) uses; the tasks scheme switches ran.
        self.workflows: dict[str, Workflow] = {p.workflow.name: p.workflow for p in self.projects.values()}
        self._statuses: dict[str, Status] = {s.id: s for w in self.workflows.values() for s in w.statuses}
        self.project_schemes: dict[str, int] = {}
        self.workflow_schemes: dict[int, WorkflowScheme] = {}
        for project_id, scheme in seed.workflow_schemes(list(self.projects.values())).items():
            self.project_schemes[project_id] = scheme.id
            self.workflow_schemes[scheme.id] = scheme
        self.tasks: dict[str, Task] = {}
        # A scheme switch's task answers RUNNING to this many reads of it (a knob: a project with many issues), its
        # change made when it then completes; with `switch_task_failure` (Jira's words) it fails instead, changing
        # nothing.
        self.switch_task_reads = 0
        self.switch_task_failure: str | None = None
        self._switches: dict[str, Callable[[], None]] = {}  # running task id -> the switch it makes on completion
        self._next_status_id = max(int(status_id) for status_id in self._statuses) + 1
        self.priorities: tuple[Priority, ...] = seed.PRIORITIES
        self.resolutions: tuple[Resolution, ...] = seed.RESOLUTIONS
        self.issues: dict[str, Issue] = {}  # by key
        self._issues_by_id: dict[str, Issue] = {}
        self._deleted_by_id: dict[str, Issue] = {}  # as they were when deleted: what webhook filters match
        # What searches read instead of scanning every issue: told of every change to an issue (`_indexed`).
        self._index: SearchIndex[tuple[Issue, ...]] = SearchIndex()
        self._next_issue_id = 10000
        self._next_comment_id = 10000
        self._next_link_id = 10000
        self._next_changelog_id = 10000

    # -- basics ----------------------------------------------------------------------------------
    @property
    def api_version(self) -> str:
        """The REST version this flavour serves: 3 on Cloud, 2 on Data Center."""
        return "3" if self.flavour == "cloud" else "2"

    @property
    def rest_base(self) -> str:
        return f"{self.base_url}/rest/api/{self.api_version}"

    @property
    def cloud_id(self) -> str:
        """The site's cloudId: stable for the site (the same one Connect's lifecycle payloads carry)."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, self.base_url))

    def now(self) -> datetime:
        return self._clock()

    def statuses(self) -> list[Status]:
        """Every status of the site: its workflows' and those created since, used or not, once each."""
        with self.lock:
            return list(self._statuses.values())

    # -- users -----------------------------------------------------------------------------------
    def app_user(self, app_key: str, display_name: str | None = None) -> User:
        """The user an app acts as; Jira creates one per app, of account type `app` (a Connect app's name comes
        from its descriptor; a Forge app passes its own)."""
        name = f"addon_{app_key}"
        with self.lock:
            existing = self.user_by_name(name)
            if existing is not None:
                return existing
            digest = hashlib.sha256(app_key.encode()).hexdigest()
            app = self.connect_apps.get(app_key)
            user = User(
                account_id=f"557058:{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}",
                name=name,
                display_name=display_name or (str(app.descriptor.get("name") or app_key) if app else app_key),
                email="",
                account_type="app",
            )
            self.users.append(user)
            return user

    def user_by_account_id(self, account_id: str) -> User | None:
        return next((user for user in self.users if user.account_id == account_id), None)

    def user_by_name(self, name: str) -> User | None:
        """Data Center's login name or user key (case-insensitive, as Jira compares them)."""
        lowered = name.lower()
        return next((u for u in self.users if u.name.lower() == lowered or u.key == lowered), None)

    def user_by_email(self, email: str) -> User | None:
        lowered = email.lower()
        return next((user for user in self.users if user.email and user.email.lower() == lowered), None)

    def user_by_login(self, login: str) -> User | None:
        """The user a Basic-auth login names: an email address on Cloud, a user name on Data Center."""
        return self.user_by_email(login) if self.flavour == "cloud" else self.user_by_name(login)

    def find_users(self, query: str) -> list[User]:
        """Active human users whose display name, email or name starts with `query` (word-wise), as
        Jira's user picker matches. An empty query matches everyone."""
        lowered = query.strip().lower()

        def hit(user: User) -> bool:
            if not lowered:
                return True
            words = [*user.display_name.lower().split(), user.email.lower(), user.name.lower()]
            if self.flavour == "cloud":
                words.append(user.account_id.lower())
            return any(word.startswith(lowered) for word in words) or user.display_name.lower().startswith(lowered)

        return [user for user in self.users if user.active and user.account_type == "atlassian" and hit(user)]

    def assignable_users(self, project_key: str, query: str) -> list[User]:
        self.project(project_key)
        return [user for user in self.find_users(query) if user.can_write]

    def _user_from_ref(self, field: str, ref: Any) -> User:
        """A user named in a request: `{"accountId"}` on Cloud, `{"name"}` (or `{"key"}`) on Data Center."""
        if not isinstance(ref, dict):
            raise JiraError(400, errors={field: f"Specify a valid value for {field}"})
        if self.flavour == "cloud":
            account_id = ref.get("accountId", ref.get("id"))
            if not isinstance(account_id, str):
                raise JiraError(400, errors={field: f"Specify a valid value for {field}"})
            user = self.user_by_account_id(account_id)
            if user is None:
                raise JiraError(400, errors={field: "Specified user does not exist or you do not have required "
                                                    "permissions"})
            return user
        login = ref.get("name", ref.get("key"))
        if not isinstance(login, str):
            raise JiraError(400, errors={field: f"Specify a valid value for {field}"})
        user = self.user_by_name(login)
        if user is None:
            raise JiraError(400, errors={field: f"User '{login}' does not exist."})
        return user

    # -- metadata --------------------------------------------------------------------------------
    def project(self, key_or_id: str) -> Project:
        with self.lock:
            for project in self.projects.values():
                if key_or_id in (project.id, project.key) or key_or_id.upper() == project.key:
                    return project
        raise JiraError(404, [f"No project could be found with key '{key_or_id}'."])

    def _named(self, field: str, ref: Any, choices: Iterable[Any]) -> Any:
        """A priority / issue type / resolution referenced as `{"id"}` or `{"name"}`."""
        if isinstance(ref, dict) and isinstance(ref.get("id"), str):
            found = next((c for c in choices if c.id == ref["id"]), None)
            if found is None:
                raise JiraError(400, errors={field: f"Specify a valid '{field}' id"})
            return found
        if isinstance(ref, dict) and isinstance(ref.get("name"), str):
            found = next((c for c in choices if c.name.lower() == ref["name"].lower()), None)
            if found is None:
                raise JiraError(400, errors={field: f"Specify a valid '{field}' name"})
            return found
        raise JiraError(400, errors={field: f"Specify the {field} (id or name) in the object format"})

    def priority_by_id(self, priority_id: str) -> Priority:
        return self._named("priority", {"id": priority_id}, self.priorities)

    # -- issues: reading -------------------------------------------------------------------------
    def get_issue(self, key_or_id: str) -> Issue:
        with self.lock:
            issue = self.issues.get(key_or_id.upper()) or self._issues_by_id.get(key_or_id)
            if issue is None:
                raise JiraError(404, [ISSUE_NOT_FOUND])
            return issue

    def transitions(self, key: str) -> list[Transition]:
        with self.lock:
            issue = self.get_issue(key)
            return [t for t in issue.project.workflow.transitions if t.available_from(issue.status)]

    # -- issues: writing -------------------------------------------------------------------------
    def create_issue(
        self,
        fields: dict[str, Any],
        actor: User,
        properties: list[dict] | None = None,
        update: dict[str, list[dict]] | None = None,
    ) -> Issue:
        """Create an issue in its workflow's initial status; `update` takes `set` (and `add` on labels)."""
        with self.lock:
            self._require_write(actor, 400, "You do not have permission to create issues in this project.")
            merged = self._merge_update(fields, update, current_labels=[])
            custom = {name: merged.pop(name) for name in list(merged) if name.startswith("customfield_")}
            values = self._field_values(merged, seed.CREATE_SCREEN, issue=None)
            checked_properties = self._checked_properties(properties or [])
            errors = self._custom_field_errors(values.get("project"), custom)
            if "project" not in values:
                errors["project"] = "Specify a valid project ID or key"
            if "issuetype" not in values:
                errors["issuetype"] = "Specify an issue type"
            if not values.get("summary"):
                errors["summary"] = "You must specify a summary of the issue."
            if errors:
                raise JiraError(400, errors=errors)
            project: Project = values["project"]
            if values["issuetype"] not in project.issue_types:
                raise JiraError(400, errors={"issuetype": "The issue type selected is invalid."})
            now = self.now()
            issue_id = str(self._next_issue_id)
            self._next_issue_id += 1
            issue = Issue(
                id=issue_id,
                key=f"{project.key}-{project.next_number}",
                project=project,
                issue_type=values["issuetype"],
                status=project.workflow.initial,
                summary=values["summary"],
                description=values.get("description"),
                labels=values.get("labels", []),
                priority=values.get("priority") or self.priority_by_id(seed.DEFAULT_PRIORITY_ID),
                assignee=values.get("assignee"),
                reporter=values.get("reporter") or actor,
                creator=actor,
                created=now,
                updated=now,
                status_category_changed=now,
                properties=checked_properties,
                indexed_at=time.monotonic(),
            )
            project.next_number += 1
            self.issues[issue.key] = issue
            self._issues_by_id[issue.id] = issue
            self._indexed(issue)
            payload = self._payload("jira:issue_created", "issue_created", issue, actor)
        self._notify(payload)
        return issue

    def _custom_field_errors(self, project: Project | None, values: dict[str, Any]) -> dict[str, str]:
        """A create's custom fields: each must be on the project's screen (only required ones are: the knob), and
        each required one must have a value. The simulated site keeps no custom field values."""
        required = self.required_fields.get(project.key, {}) if project is not None else {}
        errors = {name: not_on_screen(name) for name in values if name not in required}
        for field_id, name in required.items():
            value = values.get(field_id)
            if value is None or (isinstance(value, str) and not value.strip()):
                errors[field_id] = f"{name} is required."
        return errors

    def require_field(self, project_key: str, field_id: str, name: str) -> None:
        """The knob: `project_key`'s create screen requires the custom field `field_id` and gives it no default."""
        with self.lock:
            key = self.project(project_key).key  # a 404 for a project the site does not have
            self.required_fields.setdefault(key, {})[field_id] = name

    def edit_issue(
        self,
        key: str,
        fields: dict[str, Any],
        actor: User,
        update: dict[str, list[dict]] | None = None,
        properties: list[dict] | None = None,
    ) -> None:
        """Set `fields`, apply `update` operations (`set`, and `add`/`remove` on labels) and set `properties`,
        all or nothing."""
        with self.lock:
            issue = self.get_issue(key)
            self._require_write(actor, 403, "You do not have permission to edit issues in this project.")
            merged = self._merge_update(fields, update, current_labels=issue.labels)
            values = self._field_values(merged, seed.EDIT_SCREEN, issue=issue)
            if "issuetype" in values and values["issuetype"] not in issue.project.issue_types:
                raise JiraError(400, errors={"issuetype": "The issue type selected is invalid."})
            issue.properties.update(self._checked_properties(properties or []))
            items = self._apply(issue, values)
            if items:
                issue.updated = self.now()
            self._indexed(issue)
            if not items:
                return
            event_type = "issue_assigned" if [i["field"] for i in items] == ["assignee"] else "issue_updated"
            payload = self._payload("jira:issue_updated", event_type, issue, actor, items)
        self._notify(payload)

    def transition_issue(
        self,
        key: str,
        transition_id: str,
        actor: User,
        fields: dict[str, Any] | None = None,
        comment: str | dict | None = None,
    ) -> None:
        with self.lock:
            issue = self.get_issue(key)
            self._require_write(actor, 400, "You do not have permission to transition this issue.")
            transition = next((t for t in self.transitions(key) if t.id == str(transition_id)), None)
            if transition is None:
                raise JiraError(400, [f"Transition id '{transition_id}' is not valid for this issue."])
            fields = fields or {}
            if not isinstance(fields, dict):
                raise JiraError(400, ["'fields' must be a JSON object."])
            unknown = {name: not_on_screen(name) for name in fields if name not in transition.screen_fields}
            if unknown:
                raise JiraError(400, errors=unknown)
            resolution = self._resolution_after(issue, transition, fields)
            if comment is not None:
                self._check_rich_text("comment", comment)
            now = self.now()
            items = [_change("status", issue.status.id, issue.status.name, transition.to.id, transition.to.name)]
            if resolution is not issue.resolution:
                items.append(_change("resolution", *_id_name(issue.resolution), *_id_name(resolution)))
            if issue.status.category is not transition.to.category:
                issue.status_category_changed = now
            issue.status = transition.to
            issue.resolution = resolution
            issue.resolution_date = now if resolution else None
            issue.updated = now
            if comment is not None:
                issue.comments.append(self._new_comment(actor, comment, now))
            self._indexed(issue)
            payload = self._payload("jira:issue_updated", "issue_generic", issue, actor, items)
        self._notify(payload)

    def _resolution_after(self, issue: Issue, transition: Transition, fields: dict[str, Any]) -> Resolution | None:
        """The issue's resolution once `transition` is done (see `Workflow` for the two ways it is set)."""
        if issue.project.workflow.resolution_by_post_functions:
            update = transition.resolution_update
            if update is None:
                return issue.resolution
            if update.resolution_id is None:
                return None
            return self._named("resolution", {"id": update.resolution_id}, self.resolutions)
        if transition.to.category is not DONE:
            return None
        return self._named("resolution", fields.get("resolution") or {"id": seed.DEFAULT_RESOLUTION_ID},
                           self.resolutions)

    def add_comment(self, key: str, body: Any, actor: User) -> Comment:
        with self.lock:
            issue = self.get_issue(key)
            self._require_write(actor, 400, "You do not have the permission to comment on this issue.")
            self._check_rich_text("comment", body)
            now = self.now()
            comment = self._new_comment(actor, body, now)
            issue.comments.append(comment)
            issue.updated = now
            self._indexed(issue)
            payload = self._payload("jira:issue_updated", "issue_commented", issue, actor)
            payload["comment"] = render.comment(self, issue, comment)
        self._notify(payload)
        return comment

    def delete_issue(self, key: str, actor: User) -> None:
        with self.lock:
            issue = self.get_issue(key)
            self._require_write(actor, 403, "You do not have permission to delete issues in this project.")
            payload = self._payload("jira:issue_deleted", "issue_deleted", issue, actor)
            del self.issues[issue.key]
            del self._issues_by_id[issue.id]
            self._index.remove(issue.id)
            self._deleted_by_id[issue.id] = issue
        self._notify(payload)

    # -- issue properties ------------------------------------------------------------------------
    def set_property(self, key: str, property_key: str, value: Any, actor: User) -> bool:
        """Set an issue property; True if it was created (Jira answers 201), False if replaced (200)."""
        with self.lock:
            issue = self.get_issue(key)
            self._require_write(actor, 403, "You do not have permission to edit issues in this project.")
            checked = self._checked_properties([{"key": property_key, "value": value}])
            created = property_key not in issue.properties
            issue.properties.update(checked)
            self._indexed(issue)
            return created

    def get_property(self, key: str, property_key: str) -> Any:
        with self.lock:
            issue = self.get_issue(key)
            if property_key not in issue.properties:
                raise JiraError(404, [f"The property with key '{property_key}' does not exist."])
            return issue.properties[property_key]

    def delete_property(self, key: str, property_key: str, actor: User) -> None:
        with self.lock:
            issue = self.get_issue(key)
            self._require_write(actor, 403, "You do not have permission to edit issues in this project.")
            if property_key not in issue.properties:
                raise JiraError(404, [f"The property with key '{property_key}' does not exist."])
            del issue.properties[property_key]
            self._indexed(issue)

    # -- remote links ----------------------------------------------------------------------------
    def upsert_remote_link(self, key: str, link: dict[str, Any], actor: User) -> tuple[RemoteLink, bool]:
        """Create a remote link, or replace the one with the same `globalId`; True if created."""
        with self.lock:
            issue = self.get_issue(key)
            self._require_write(actor, 403, "You do not have permission to link issues in this project.")
            obj = link.get("object")
            errors = {}
            if not isinstance(obj, dict) or not isinstance(obj.get("url"), str) or not obj["url"]:
                errors["url"] = "'url' is required."
            if not isinstance(obj, dict) or not isinstance(obj.get("title"), str) or not obj["title"]:
                errors["title"] = "'title' is required."
            if errors:
                raise JiraError(400, errors=errors)
            global_id = link.get("globalId")
            if global_id is not None and (not isinstance(global_id, str) or len(global_id) > 255):
                raise JiraError(400, errors={"globalId": "The global id must be a string of at most 255 "
                                                         "characters."})
            existing = next((rl for rl in issue.remote_links if global_id and rl.global_id == global_id), None)
            if existing is not None:
                existing.application = link.get("application")
                existing.relationship = link.get("relationship")
                existing.object = dict(obj)  # type: ignore[arg-type]
                return existing, False
            created = RemoteLink(self._next_link_id, global_id, link.get("application"),
                                 link.get("relationship"), dict(obj))  # type: ignore[arg-type]
            self._next_link_id += 1
            issue.remote_links.append(created)
            return created, True

    def remote_links(self, key: str, global_id: str | None = None) -> list[RemoteLink]:
        with self.lock:
            links = self.get_issue(key).remote_links
            return [rl for rl in links if global_id is None or rl.global_id == global_id]

    def remote_link(self, key: str, link_id: str) -> RemoteLink:
        with self.lock:
            for link in self.get_issue(key).remote_links:
                if str(link.id) == link_id:
                    return link
        raise JiraError(404, [f"No remote link with id '{link_id}' exists on issue '{key}'."])

    def delete_remote_links(self, key: str, actor: User, *, global_id: str | None = None,
                            link_id: str | None = None) -> None:
        with self.lock:
            issue = self.get_issue(key)
            self._require_write(actor, 403, "You do not have permission to link issues in this project.")
            doomed = [rl for rl in issue.remote_links
                      if (global_id is not None and rl.global_id == global_id)
                      or (link_id is not None and str(rl.id) == link_id)]
            if not doomed:
                raise JiraError(404, ["No remote link with this global id exists on this issue."
                                      if global_id is not None else f"No remote link with id '{link_id}'."])
            issue.remote_links = [rl for rl in issue.remote_links if rl not in doomed]

    # -- workflow administration (Data Center: a workflow imported from XML) --------------------------
    def import_workflow(self, workflow: Workflow) -> None:
        """Add a workflow made outside the REST API, on statuses the site has; its name must be new."""
        with self.lock:
            if any(name.lower() == workflow.name.lower() for name in self.workflows):
                raise JiraError(400, [f"A workflow with the name '{workflow.name}' already exists."])
            unknown = [status.name for status in workflow.statuses if status.id not in self._statuses]
            if unknown:
                raise JiraError(400, [f"The site has no status {', '.join(unknown)}."])
            self.workflows[workflow.name] = workflow

    # -- workflow administration (Jira Cloud) ----------------------------------------------------
    def project_by_id(self, project_id: str) -> Project | None:
        return next((project for project in self.projects.values() if project.id == project_id), None)

    def create_statuses(self, project_id: str | None, specs: list[tuple[str, StatusCategory, str]]) -> list[Status]:
        """Statuses in a scope (a project's, or GLOBAL when `project_id` is None). A name already taken in that
        scope, or given twice, refuses the whole request, as Jira does."""
        with self.lock:
            if project_id is not None and self.project_by_id(project_id) is None:
                raise JiraError(400, [f"The project with ID '{project_id}' does not exist."])
            taken = {status.name.lower() for status in self._statuses.values() if status.project_id == project_id}
            for name, _category, _description in specs:
                if not name.strip():
                    raise JiraError(400, ["The name of a status must not be empty."])
                if len(name) > workflow_drafts.MAX_NAME:
                    raise JiraError(400, [f"The name is too long, maxSize={workflow_drafts.MAX_NAME}"])
                if name.strip().lower() in taken:
                    raise JiraError(400, [f"A status with the name '{name.strip()}' already exists in this scope."])
                taken.add(name.strip().lower())
            created = [Status(self._new_status_id(), name.strip(), category, description, project_id)
                       for name, category, description in specs]
            self._statuses.update((status.id, status) for status in created)
            return created

    def search_statuses(self, project_id: str | None, text: str = "", category: str | None = None) -> list[Status]:
        """The statuses of a scope (a project's, or the GLOBAL ones) whose name holds `text`, in id order."""
        with self.lock:
            found = [s for s in self._statuses.values()
                     if s.project_id == project_id and text.lower() in s.name.lower()
                     and (category is None or workflow_drafts.category_key(s) == category)]
        return sorted(found, key=lambda status: int(status.id))

    def workflow_draft(self, payload: Any) -> Draft:
        """What `POST /workflows/create` would make of `payload`, and what is wrong with it (nothing created)."""
        with self.lock:
            return self._draft(payload, build=False)

    def create_workflows(self, payload: Any) -> Draft:
        """Create the statuses and workflows of a `WorkflowCreateRequest`; anything its validation reports
        refuses the whole request (400, one message per problem)."""
        with self.lock:
            created = self._draft(payload, build=True)
            if created.problems:
                raise JiraError(400, [problem.message for problem in created.problems])
            self._statuses.update((created.statuses[ref].id, created.statuses[ref]) for ref in created.new)
            self.workflows.update((workflow.name, workflow) for workflow in created.workflows)
            return created

    def _draft(self, payload: Any, *, build: bool) -> Draft:
        site = workflow_drafts.Site(list(self._statuses.values()), list(self.workflows),
                                    [project.id for project in self.projects.values()])
        try:
            return workflow_drafts.draft(payload, site, self._new_status_id if build else None)
        except Malformed as exc:
            raise JiraError(400, [str(exc)]) from None

    def _new_status_id(self) -> str:
        status_id = str(self._next_status_id)
        self._next_status_id += 1
        return status_id

    def search_workflows(self, text: str = "", *, active: bool | None = None, scope: str | None = None
                         ) -> list[Workflow]:
        """Workflows whose name holds `text` (case-insensitive), by name; `active`: used by a project's scheme
        or not; `scope`: GLOBAL or PROJECT."""
        with self.lock:
            used = self.active_workflow_names()
            return sorted(
                (w for w in self.workflows.values()
                 if text.lower() in w.name.lower()
                 and (active is None or (w.name in used) == active)
                 and (scope is None or (w.project_id is None) == (scope == "GLOBAL"))),
                key=lambda workflow: workflow.name.lower(),
            )

    def active_workflow_names(self) -> set[str]:
        with self.lock:
            return {self.workflow_schemes[scheme_id].workflow_for(issue_type.id)
                    for project_id, scheme_id in self.project_schemes.items()
                    for issue_type in self._project_by_id_or_400(project_id).issue_types}

    def create_workflow_scheme(self, name: Any, description: Any, default_workflow: Any, mappings: Any
                               ) -> WorkflowScheme:
        """A new (inactive) scheme; its name must be new, its workflows and issue types must exist."""
        with self.lock:
            if not isinstance(name, str) or not name.strip():
                raise JiraError(400, errors={"name": "The name of the workflow scheme must be given."})
            if len(name) > workflow_drafts.MAX_NAME:
                raise JiraError(400, errors={"name": "The name of the workflow scheme is too long."})
            if any(s.name.lower() == name.strip().lower() for s in self.workflow_schemes.values()):
                raise JiraError(400, errors={"name": f"A workflow scheme with the name '{name.strip()}' already "
                                                     "exists."})
            if not isinstance(mappings, dict) or not all(isinstance(v, str) for v in mappings.values()):
                raise JiraError(400, ["issueTypeMappings must map issue type IDs to workflow names."])
            if not isinstance(default_workflow, str):
                raise JiraError(400, ["defaultWorkflow must be the name of a workflow."])
            issue_type_ids = {issue_type.id for issue_type in seed.ISSUE_TYPES}
            for issue_type_id, workflow_name in {"": default_workflow, **mappings}.items():
                if issue_type_id and issue_type_id not in issue_type_ids:
                    raise JiraError(400, [f"The issue type with ID '{issue_type_id}' does not exist."])
                if workflow_name not in self.workflows:
                    raise JiraError(400, [f"The workflow '{workflow_name}' does not exist."])
            scheme = WorkflowScheme(max(self.workflow_schemes) + 1, name.strip(), default_workflow, dict(mappings),
                                    description if isinstance(description, str) else "")
            self.workflow_schemes[scheme.id] = scheme
            return scheme

    def workflow_scheme(self, scheme_id: str) -> WorkflowScheme:
        with self.lock:
            scheme = self.workflow_schemes.get(int(scheme_id)) if scheme_id.isdigit() else None
            if scheme is None:
                raise JiraError(404, [f"The workflow scheme with ID '{scheme_id}' was not found."])
            return scheme

    def switch_workflow_scheme(self, project_id: Any, scheme_id: Any, overrides: dict[str, dict[str, str]],
                               actor: User) -> Task:
        """Put a project on a scheme, moving each issue whose status the new workflow lacks to the status
        `overrides` names for its issue type and status (issue type id -> old status id -> new status id).
        An issue left without one refuses the switch, naming it. The task answers RUNNING to `switch_task_reads`
        reads of it, then completes (the change made then); while one runs, another switch is refused with a 409."""
        with self.lock:
            if self._switches:
                raise JiraError(409, ["A workflow scheme switch task is already running."])
            project = self._project_by_id_or_400(str(project_id))
            scheme = self.workflow_schemes.get(int(scheme_id)) if str(scheme_id).isdigit() else None
            if scheme is None:
                raise JiraError(400, [f"The workflow scheme with ID '{scheme_id}' does not exist."])
            names = {scheme.workflow_for(issue_type.id) for issue_type in project.issue_types}
            if len(names) != 1:
                raise JiraError(400, [f"The sandbox site runs one workflow per project: the scheme must give every "
                                      f"issue type of {project.key} the same workflow."])
            workflow = self.workflows[names.pop()]
            moves, unmapped = self._status_moves(project, workflow, overrides)
            if unmapped:
                raise JiraError(400, [
                    f"Issues of type '{type_name}' in status '{status_name}' ({', '.join(keys)}) need a status "
                    f"mapping: the workflow '{workflow.name}' has no such status."
                    for (type_name, status_name), keys in unmapped.items()
                ])
            task = Task(str(10000 + len(self.tasks)), f"Switching project {project.key} to workflow scheme "
                        f"'{scheme.name}'", actor, self.now(), self.switch_task_reads, self.switch_task_reads)
            self.tasks[task.id] = task
            self._switches[task.id] = lambda: self._switch(project, scheme, workflow, moves)
            if not task.reads:
                self._finish(task)
            return task

    def _switch(self, project: Project, scheme: WorkflowScheme, workflow: Workflow,
                moves: list[tuple[Issue, Status]]) -> None:
        now = self.now()
        for issue, status in moves:
            if issue.status.category is not status.category:
                issue.status_category_changed = now
            issue.status = status
            self._indexed(issue)
        project.workflow = workflow
        self.project_schemes[project.id] = scheme.id

    def _finish(self, task: Task) -> None:
        switch = self._switches.pop(task.id)
        if self.switch_task_failure is None:
            switch()
            task.status, task.progress = "COMPLETE", 100
        else:
            task.status, task.message = "FAILED", self.switch_task_failure
        task.finished = self.now()

    def read_task(self, task_id: str) -> Task:
        """The task as GET /task/{id} reads it: a running one is one read nearer its end."""
        with self.lock:
            task = self.task(task_id)
            if task.status == "RUNNING" and task.reads_left:
                task.reads_left -= 1
                task.progress = 100 * (task.reads - task.reads_left) // (task.reads + 1)
            elif task.status == "RUNNING":
                self._finish(task)
            return task

    def _status_moves(self, project: Project, workflow: Workflow, overrides: dict[str, dict[str, str]]
                      ) -> tuple[list[tuple[Issue, Status]], dict[tuple[str, str], list[str]]]:
        moves: list[tuple[Issue, Status]] = []
        unmapped: dict[tuple[str, str], list[str]] = {}
        for issue in sorted((i for i in self.issues.values() if i.project is project), key=lambda i: int(i.id)):
            if workflow.status(issue.status.id) is not None:
                continue
            new_id = overrides.get(issue.issue_type.id, {}).get(issue.status.id)
            if new_id is None:
                unmapped.setdefault((issue.issue_type.name, issue.status.name), []).append(issue.key)
                continue
            target = workflow.status(new_id)
            if target is None:
                raise JiraError(400, [f"The status with ID '{new_id}' is not in the workflow '{workflow.name}'."])
            moves.append((issue, target))
        return moves, unmapped

    def _project_by_id_or_400(self, project_id: str) -> Project:
        project = self.project_by_id(project_id)
        if project is None:
            raise JiraError(400, [f"The project with ID '{project_id}' does not exist."])
        return project

    def task(self, task_id: str) -> Task:
        with self.lock:
            task = self.tasks.get(task_id)
        if task is None:
            raise JiraError(404, [f"The task with ID '{task_id}' does not exist."])
        return task

    # -- search ----------------------------------------------------------------------------------
    def search(
        self,
        query: str | jql.Query,
        *,
        actor: User | None = None,
        consistent: bool = True,
        reconcile_ids: Collection[str] = (),
    ) -> Sequence[Issue]:
        """The issues matching a JQL query, in its order. `consistent=False` applies the search delay knob
        (new issues stay hidden for `search_delay_ms`), except to issues named in `reconcile_ids`, as Cloud's
        `reconcileIssues` promises read-after-write consistency for them."""
        parsed = jql.parse(query) if isinstance(query, str) else query
        with self.lock:
            self._check_values(parsed)
            context = jql.Context(self.now(), _user_names(actor) if actor else frozenset())
            found = self._matching(parsed, context)
            if consistent or not self.search_delay_ms:
                return found
            hidden_after = time.monotonic() - self.search_delay_ms / 1000
            return [issue for issue in found if issue.indexed_at <= hidden_after or issue.id in reconcile_ids]

    def _matching(self, query: jql.Query, context: jql.Context) -> tuple[Issue, ...]:
        """Every issue the query matches, in its order: the issues its selective clauses index name (all of them
        when none does) that match it, sorted; remembered until the next change to any issue, so that each page
        of a paged search costs the same (a condition on a date changes with the time: never remembered)."""
        remembered = None if jql.dated(query.where) else (query, context.current_user)
        if remembered is not None and (found := self._index.result(remembered)) is not None:
            return found
        ids = self._index.candidates(query.where, context)
        pool = self.issues.values() if ids is None else [self._issues_by_id[issue_id] for issue_id in ids]
        found = tuple(ordered([issue for issue in pool if jql.matches(query.where, _IssueSubject(issue), context)],
                              query.order_by))
        if remembered is not None:
            self._index.remember(remembered, found)
        return found

    def issue_matches(self, query: jql.Query, issue_id: str) -> bool:
        """Whether the issue with this id (live, or as it was when deleted) matches `query`'s condition, as a
        webhook's JQL filter is matched: no check of the values the query names, no search delay."""
        with self.lock:
            issue = self._issues_by_id.get(issue_id) or self._deleted_by_id.get(issue_id)
            if issue is None:
                return False
            return jql.matches(query.where, _IssueSubject(issue), jql.Context(self.now(), frozenset()))

    def search_keys(self, jql: str, *, consistent: bool = True) -> list[str]:
        """Keys of the issues a JQL query matches; `consistent=True` (default) ignores the search delay."""
        return [issue.key for issue in self.search(jql, consistent=consistent)]

    # -- internals -------------------------------------------------------------------------------
    def _indexed(self, issue: Issue) -> None:
        """Tell the search index of an issue's change (every change: searches remember their results until one)."""
        self._index.put(issue.id, _IssueSubject(issue))

    def _require_write(self, actor: User, status: int, message: str) -> None:
        """Refuse a change by a user without the permission, with the status Jira's spec documents for the
        operation (400 where it lists no 403)."""
        if not actor.can_write or not actor.active:
            raise JiraError(status, [message])

    def _field_values(self, fields: dict[str, Any], screen: frozenset[str], issue: Issue | None) -> dict[str, Any]:
        """Resolve REST field values to world objects, collecting every error as Jira does."""
        if not isinstance(fields, dict):
            raise JiraError(400, ["Can not deserialize the fields: expected an object."])
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        for name, raw in fields.items():
            if name not in screen:
                errors[name] = not_on_screen(name)
                continue
            try:
                values[name] = self._field_value(name, raw, values.get("project") or (issue and issue.project))
            except JiraError as exc:
                errors.update(exc.errors)
        if errors:
            raise JiraError(400, errors=errors)
        return values

    def _field_value(self, name: str, raw: Any, project: Project | None) -> Any:
        if name == "project":
            ref = raw.get("key", raw.get("id")) if isinstance(raw, dict) else raw
            try:
                return self.project(str(ref))
            except JiraError:
                raise JiraError(400, errors={"project": "Specify a valid project ID or key"}) from None
        if name == "issuetype":
            return self._named("issuetype", raw, project.issue_types if project else seed.ISSUE_TYPES)
        if name == "summary":
            if not isinstance(raw, str) or not raw.strip():
                raise JiraError(400, errors={"summary": "You must specify a summary of the issue."})
            if "\n" in raw or "\r" in raw:
                raise JiraError(400, errors={"summary": "The summary is invalid because it contains newline "
                                                        "characters."})
            if len(raw) > 255:
                raise JiraError(400, errors={"summary": "Summary must be less than 255 characters."})
            return raw
        if name == "description":
            if raw is not None:
                self._check_rich_text("description", raw)
            return raw
        if name == "labels":
            if not isinstance(raw, list) or not all(isinstance(label, str) for label in raw):
                raise JiraError(400, errors={"labels": "Specify the labels as a list of strings."})
            for label in raw:
                if not label or any(char.isspace() for char in label):
                    raise JiraError(400, errors={"labels": f"The label '{label}' contains spaces which is "
                                                           "invalid."})
                if len(label) > 255:
                    raise JiraError(400, errors={"labels": "The label must not exceed 255 characters."})
            return list(dict.fromkeys(raw))
        if name == "priority":
            return self._named("priority", raw, self.priorities)
        if name in ("assignee", "reporter"):
            if raw is None:
                if name == "reporter":
                    raise JiraError(400, errors={"reporter": "Reporter is required."})
                return None
            user = self._user_from_ref(name, raw)
            if name == "assignee" and (user.account_type != "atlassian" or not user.active):
                raise JiraError(400, errors={"assignee": f"User '{user.display_name}' cannot be assigned "
                                                         "issues."})
            return user
        raise JiraError(400, errors={name: not_on_screen(name)})

    def _merge_update(
        self, fields: dict[str, Any], update: dict[str, Any] | None, current_labels: list[str]
    ) -> dict[str, Any]:
        """`fields` plus the values the `update` operations lead to."""
        if not isinstance(fields, dict) or not isinstance(update or {}, dict):
            raise JiraError(400, ["'fields' and 'update' must be JSON objects."])
        merged = dict(fields)
        for name, operations in (update or {}).items():
            if name in fields:
                raise JiraError(400, errors={name: f"Field '{name}' cannot be set in both 'fields' and 'update'."})
            merged[name] = self._apply_operations(current_labels, name, operations)
        return merged

    def _apply_operations(self, current_labels: list[str], name: str, operations: Any) -> Any:
        """The field value an `update` operation list leads to."""
        if not isinstance(operations, list):
            raise JiraError(400, errors={name: "Operations must be given as a list."})
        value: Any = list(current_labels) if name == "labels" else None
        for operation in operations:
            if not isinstance(operation, dict) or len(operation) != 1:
                raise JiraError(400, errors={name: "Each operation must name one verb."})
            ((verb, argument),) = operation.items()
            if verb == "set":
                value = argument
            elif name == "labels" and verb == "add" and isinstance(argument, str):
                value = [*value, argument] if argument not in value else value
            elif name == "labels" and verb == "remove" and isinstance(argument, str):
                value = [label for label in value if label != argument]
            else:
                raise JiraError(400, errors={name: f"Field '{name}' does not support operation '{verb}'"})
        return value

    def _apply(self, issue: Issue, values: dict[str, Any]) -> list[dict[str, Any]]:
        """Write resolved values into the issue; the changelog items of what actually changed."""
        items = []
        for name, value in values.items():
            if name == "summary" and value != issue.summary:
                items.append(_change("summary", None, issue.summary, None, value))
                issue.summary = value
            elif name == "description" and value != issue.description:
                items.append(_change("description", None, _text(issue.description), None, _text(value)))
                issue.description = value
            elif name == "labels" and value != issue.labels:
                items.append(_change("labels", None, " ".join(issue.labels), None, " ".join(value)))
                issue.labels = value
            elif name == "priority" and value is not issue.priority:
                items.append(_change("priority", *_id_name(issue.priority), *_id_name(value)))
                issue.priority = value
            elif name == "issuetype" and value is not issue.issue_type:
                items.append(_change("issuetype", *_id_name(issue.issue_type), *_id_name(value)))
                issue.issue_type = value
            elif name in ("assignee", "reporter") and value is not getattr(issue, name):
                items.append(_change(name, *self._user_id_name(getattr(issue, name)),
                                     *self._user_id_name(value)))
                setattr(issue, name, value)
        return items

    def _user_id_name(self, user: User | None) -> tuple[str | None, str | None]:
        if user is None:
            return None, None
        return (user.account_id if self.flavour == "cloud" else user.name), user.display_name

    def _check_rich_text(self, field: str, value: Any) -> None:
        if self.flavour == "cloud" and not adf.is_document(value):
            raise JiraError(400, errors={field: adf.NOT_A_DOCUMENT})
        if self.flavour == "datacenter" and not isinstance(value, str):
            raise JiraError(400, errors={field: adf.NOT_A_STRING})
        if field == "comment" and not (adf.plain_text(value) if isinstance(value, dict) else value).strip():
            raise JiraError(400, errors={"comment": "Comment body can not be empty!"})

    def _checked_properties(self, properties: list[dict]) -> dict[str, Any]:
        checked: dict[str, Any] = {}
        if not isinstance(properties, list):
            raise JiraError(400, ["Issue properties must be a list of key/value pairs."])
        for prop in properties:
            key = prop.get("key") if isinstance(prop, dict) else None
            value = prop.get("value") if isinstance(prop, dict) else None
            if not isinstance(key, str) or not key:
                raise JiraError(400, ["The property key cannot be empty."])
            if len(key) > MAX_PROPERTY_KEY_CHARS:
                raise JiraError(400, [f"The property key can't be longer than {MAX_PROPERTY_KEY_CHARS} "
                                      "characters."])
            if value is None:
                raise JiraError(400, ["The property value cannot be empty."])
            if len(json.dumps(value)) > MAX_PROPERTY_VALUE_CHARS:
                raise JiraError(400, [f"The property value can't be longer than {MAX_PROPERTY_VALUE_CHARS} "
                                      "characters."])
            checked[key] = value
        return checked

    def _new_comment(self, actor: User, body: Any, now: datetime) -> Comment:
        comment = Comment(str(self._next_comment_id), actor, body, now, now)
        self._next_comment_id += 1
        return comment

    def _check_values(self, query: jql.Query) -> None:
        """Refuse values the site does not know, with Jira's message (labels may be anything)."""
        known: dict[str, set[str]] = {
            "project": {n for p in self.projects.values() for n in (p.key.lower(), p.id, p.name.lower())},
            "status": {n for s in self.statuses() for n in (s.id, s.name.lower())},
            "statuscategory": {n for c in STATUS_CATEGORIES for n in (str(c.id), c.key, c.name.lower())},
            "issuetype": {n for t in seed.ISSUE_TYPES for n in (t.id, t.name.lower())},
            "priority": {n for p in self.priorities for n in (p.id, p.name.lower())},
            "resolution": {n for r in self.resolutions for n in (r.id, r.name.lower())},
            "assignee": {n for u in self.users for n in _user_names(u)},
            "reporter": {n for u in self.users for n in _user_names(u)},
        }
        for clause in jql.clauses(query.where):
            field = clause.field
            for value in jql.literal_values(clause.operand):
                if field == "key" and self.issues.get(value.upper()) is None and value not in self._issues_by_id:
                    raise jql.JqlError(f"An issue with key '{value}' does not exist for field 'key'.")
                if isinstance(field, str) and field in known and value.lower() not in known[field]:
                    raise jql.JqlError(f"The value '{value}' does not exist for the field '{field}'.")

    def _payload(
        self, event: str, event_type: str, issue: Issue, actor: User, items: list[dict] | None = None
    ) -> dict[str, Any]:
        payload = render.webhook_payload(self, event, event_type, issue, actor)
        if items is not None:
            change_id = str(self._next_changelog_id)
            payload["changelog"] = {"id": change_id, "items": items}
            issue.changelog.append(ChangeGroup(change_id, actor, issue.updated, items))  # the change's own moment
            self._next_changelog_id += 1
        return payload

    def _notify(self, payload: dict[str, Any]) -> None:
        for listener in list(self.listeners):
            try:
                listener(payload)
            except Exception:
                log.exception("Jira world listener failed on %s", payload.get("webhookEvent"))


def version_numbers(version: str) -> list[int]:
    """`versionNumbers` of serverInfo: major, minor and revision of a version such as "9.12.0" or
    "1001.0.0-SNAPSHOT"."""
    parts = version.split("-", 1)[0].split(".")
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        raise ValueError(f"a Jira version is <major>.<minor>.<revision>, e.g. 9.12.0, not {version!r}")
    return [int(part) for part in parts]


def _change(field: str, from_: str | None, from_string: str | None, to: str | None, to_string: str | None
            ) -> dict[str, Any]:
    return {"field": field, "fieldtype": "jira", "fieldId": field, "from": from_, "fromString": from_string,
            "to": to, "toString": to_string}


def _id_name(thing: Priority | IssueType | Resolution | None) -> tuple[str | None, str | None]:
    return (thing.id, thing.name) if thing is not None else (None, None)


def _text(value: Any) -> str | None:
    return adf.plain_text(value) if isinstance(value, dict) else value


def _user_names(user: User) -> frozenset[str]:
    names = {user.account_id, user.name, user.key, user.email}
    return frozenset(name.lower() for name in names if name)


class _IssueSubject:
    """An issue as JQL sees it."""

    __slots__ = ("issue",)

    def __init__(self, issue: Issue) -> None:
        self.issue = issue

    def names(self, field: jql.FieldRef) -> list[frozenset[str]]:
        issue = self.issue
        if isinstance(field, jql.PropertyRef):
            return [frozenset({value}) for value in _property_values(issue.properties, field)]
        if field == "labels":
            return [frozenset({label.lower()}) for label in issue.labels]
        if field in ("assignee", "reporter"):
            user = getattr(issue, field)
            return [_user_names(user)] if user else []
        names = _NAMED[field](issue)
        return [frozenset(name.lower() for name in names)] if names else []

    def moment(self, field: str) -> datetime | None:
        return self.issue.created if field == "created" else self.issue.updated


# The names each single-valued field of an issue goes by in JQL.
_NAMED: dict[str, Callable[[Issue], tuple[str, ...] | None]] = {
    "project": lambda issue: (issue.project.key, issue.project.id, issue.project.name),
    "status": lambda issue: (issue.status.id, issue.status.name),
    "statuscategory": lambda issue: (str(issue.status.category.id), issue.status.category.key,
                                     issue.status.category.name),
    "key": lambda issue: (issue.key, issue.id),
    "issuetype": lambda issue: (issue.issue_type.id, issue.issue_type.name),
    "priority": lambda issue: (issue.priority.id, issue.priority.name),
    "resolution": lambda issue: (issue.resolution.id, issue.resolution.name) if issue.resolution else None,
}


def _property_values(properties: dict[str, Any], ref: jql.PropertyRef) -> list[str]:
    if ref.key not in properties:
        return []
    value = properties[ref.key]
    for step in ref.path.split(".") if ref.path else []:
        if not isinstance(value, dict) or step not in value:
            return []
        value = value[step]
    scalars = value if isinstance(value, list) else [value]
    return [json.dumps(s).lower() if isinstance(s, bool) else str(s).lower()
            for s in scalars if s is not None and not isinstance(s, dict | list)]


def _sort_value(issue: Issue, field: str) -> Any:
    if field == "key":
        return (issue.project.key, int(issue.key.rsplit("-", 1)[1]))
    if field in ("created", "updated"):
        return getattr(issue, field)
    if field == "priority":
        return -int(issue.priority.id)  # Highest (id 1) is the greatest, as ORDER BY priority DESC shows
    attribute = {"project": issue.project.key, "status": issue.status.name, "labels": " ".join(issue.labels),
                 "issuetype": issue.issue_type.name, "statuscategory": issue.status.category.name,
                 "resolution": issue.resolution.name if issue.resolution else "",
                 "assignee": issue.assignee.display_name if issue.assignee else "",
                 "reporter": issue.reporter.display_name}
    return attribute[field]


def ordered(issues: list[Issue], order_by: tuple[jql.OrderKey, ...]) -> list[Issue]:
    """Sort by the ORDER BY keys (stable sorts, last key first); without any, newest key first."""
    result = sorted(issues, key=lambda issue: int(issue.id), reverse=True)
    for order_key in reversed(order_by):
        result.sort(key=lambda issue, f=order_key.field: _sort_value(issue, f), reverse=order_key.descending)
    return result

"""`JiraPort` over Jira's REST API: Cloud (v3) or Data Center (v2), through one session, in few requests.

Reads batch keys and labels into JQL searches; creates go 50 to a bulk request; moves walk the shortest path of
the project's workflow (learned as it is used, see `moves.py`) to a status of the wanted disposition.
`request_counts` tells how many HTTP requests each operation made.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from requests import Session
from requests.auth import AuthBase

from hubsync.adapters.jira.dialect import Dialect, Flavour
from hubsync.adapters.jira.moves import DispositionOf, WorkflowWalker
from hubsync.adapters.jira.search import PAGE_SIZE, jql_list, jql_string, search_issues
from hubsync.adapters.jira.tickets import (
    TICKET_FIELDS,
    create_body,
    has_marker,
    lozenge_property,
    ticket_from_issue,
)
from hubsync.adapters.jira.transport import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT_S,
    JiraError,
    JiraTransport,
    messages_of,
)
from hubsync.domain.document import Document
from hubsync.domain.plan import MoveTicket
from hubsync.domain.ports import CreatedTicket, TicketDraft, TicketsNotCreated
from hubsync.domain.rendering import Lozenge
from hubsync.domain.ticket import MARKER_PROPERTY, FindingMarker, Ticket

BULK_CREATE_LIMIT = 50  # Jira's maximum per POST /issue/bulk
KEYS_PER_SEARCH = 50
DEFAULT_USER_TTL_S = 600.0
DEFAULT_ADMIN_TTL_S = 60.0  # short: a Jira admin whose rights are revoked loses hubsync's settings within a minute
LABELS_PER_SEARCH = 50
# Tickets `linked_tickets` considers: those with the marker property. Jira indexes an issue property for JQL only
# when an app declares it (Connect `jiraEntityProperties`, Forge `jira:entityProperty`); where none does, pass e.g.
# `labels = security-hub`.
# Either way only tickets that carry the marker (property or label) are returned.
LINKED_JQL = f"issue.property[{MARKER_PROPERTY}].key IS NOT EMPTY"
CLOUD_ACCOUNT_ID = re.compile(r"^(?:[0-9a-f]{24}|\d+:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")


class JiraClient:
    """hubsync's view of one Jira site. `flavour` is `cloud` (REST v3, ADF, accountIds) or `datacenter` (REST v2,
    wiki markup, user names); `auth` one of `auth.ApiToken`, `auth.PersonalAccessToken`, `auth.ConnectJwt`."""

    def __init__(
        self,
        base_url: str,
        flavour: Flavour,
        auth: AuthBase,
        *,
        session: Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_retries: int = DEFAULT_MAX_RETRIES,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        linked_jql: str = LINKED_JQL,
        page_size: int = PAGE_SIZE,
        user_ttl_s: float = DEFAULT_USER_TTL_S,
        monotonic: Callable[[], float] = time.monotonic,
        glance_property: str | None = None,
        admin_ttl_s: float = DEFAULT_ADMIN_TTL_S,
    ) -> None:
        self.dialect = Dialect(flavour)
        self._http = JiraTransport(base_url, self.dialect.api_version, auth, session=session, sleep=sleep,
                                   max_retries=max_retries, timeout_s=timeout_s)
        self._linked_jql = linked_jql
        self._page_size = page_size
        self._walker = WorkflowWalker(self._http, self.dialect)  # keeps what it learns of each workflow
        self._user_ttl_s = user_ttl_s
        self._glance_property = glance_property  # the app's glance status property; None: no glance to keep
        self._monotonic = monotonic
        self._users: dict[tuple[str, str | None], tuple[str | None, float]] = {}
        self._users_lock = threading.Lock()
        self._admin_ttl_s = admin_ttl_s
        self._admins: dict[str, tuple[bool, float]] = {}  # accountId -> (is admin, until); under _users_lock

    @property
    def request_counts(self) -> dict[str, int]:
        """HTTP requests made so far, by operation (`get_tickets`, `create_tickets`, `move`, ...), retries included."""
        return dict(self._http.requests_made)

    def close(self) -> None:
        self._http.close()

    # -- reading ---------------------------------------------------------------------------------------------------

    def get_tickets(self, keys: Sequence[str]) -> dict[str, Ticket]:
        """Current tickets by key; a deleted ticket is absent.

        Keys are searched 50 at a time. Jira refuses a whole `key in (...)` search (400) when one key no longer
        exists, and its search may not show a just-created issue yet; the keys of such a batch are read one by
        one (GET is authoritative, and 404 means deleted). A deleted ticket breaks its link, so this costs once."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, Ticket] = {}
        for batch in _chunks(wanted, KEYS_PER_SEARCH):
            if len(batch) > 1:
                try:
                    for issue in self._search("get_tickets", f"key in ({jql_list(batch)})"):
                        found[issue["key"]] = ticket_from_issue(issue, self.dialect)
                except JiraError as error:
                    if error.status != 400:
                        raise
            for key in batch:
                if key not in found and (read := self._read_issue("get_tickets", key)) is not None:
                    found[key] = ticket_from_issue(read, self.dialect)
        return {key: found[key] for key in wanted if key in found}

    def find_by_markers(self, labels: Sequence[str]) -> dict[str, Ticket]:
        """Tickets carrying these marker labels, by label; where several carry one, the oldest (the original)."""
        found: dict[str, Ticket] = {}
        for batch in _chunks(list(dict.fromkeys(labels)), LABELS_PER_SEARCH):
            wanted = {label.casefold(): label for label in batch}
            for issue in self._search("find_by_markers", f"labels in ({jql_list(batch)}) ORDER BY created ASC"):
                ticket = ticket_from_issue(issue, self.dialect)
                for label in ticket.labels:
                    asked = wanted.get(label.casefold())
                    if asked is not None and asked not in found:
                        found[asked] = ticket
        return found

    def linked_tickets(self, project_key: str) -> Iterator[Ticket]:
        """Every ticket of a project that carries hubsync's marker, page by page (constant memory)."""
        jql = f"project = {jql_string(project_key)} AND ({self._linked_jql}) ORDER BY key ASC"
        for issue in self._search("linked_tickets", jql):
            ticket = ticket_from_issue(issue, self.dialect)
            if has_marker(ticket):
                yield ticket

    def find_user(self, query: str, project_key: str | None = None) -> str | None:
        """The accountId (Cloud) or name (Data Center) of the one active person whose email, accountId or name
        is exactly `query` — assignable in `project_key` when given. None when nobody, or several, match.
        Answers are remembered for `user_ttl_s` (every new finding of an account asks about the same owner);
        a failed lookup is not."""
        query = query.strip()
        if not query:
            return None
        cache_key = (query.casefold(), project_key)
        with self._users_lock:
            hit = self._users.get(cache_key)
        if hit is not None and self._monotonic() < hit[1]:
            return hit[0]
        user = self._find_user(query, project_key)
        with self._users_lock:
            self._users[cache_key] = (user, self._monotonic() + self._user_ttl_s)
        return user

    def is_site_admin(self, account_id: str) -> bool:
        """Whether the person with this Cloud accountId holds the global permission ADMINISTER (a Jira
        administrator). Asked with `POST /permissions/check`, which a Connect app's server may ask about anyone.
        Answers are remembered for `admin_ttl_s`; Jira's refusal raises `JiraError` and an unreachable Jira
        `JiraUnreachable`, as every call of this client, and neither is remembered. No accountId is
        nobody: Jira would answer for the caller, that is for hubsync itself. Cloud only (Data Center has no
        operation that checks another person's global permissions)."""
        if not self.dialect.cloud:
            raise ValueError("is_site_admin needs Jira Cloud: Data Center cannot check another person's permissions")
        account_id = account_id.strip()
        if not account_id:
            return False
        with self._users_lock:
            hit = self._admins.get(account_id)
        if hit is not None and self._monotonic() < hit[1]:
            return hit[0]
        body = {"accountId": account_id, "globalPermissions": ["ADMINISTER"]}
        answer = self._http.call("is_site_admin", "POST", "/permissions/check", json=body)
        granted = answer.get("globalPermissions") if isinstance(answer, Mapping) else None
        admin = isinstance(granted, list) and "ADMINISTER" in granted
        with self._users_lock:
            self._admins[account_id] = (admin, self._monotonic() + self._admin_ttl_s)
        return admin

    def _find_user(self, query: str, project_key: str | None) -> str | None:
        if self.dialect.cloud:
            params = {"accountId": query} if CLOUD_ACCOUNT_ID.match(query) else {"query": query}
        else:
            params = {"username": query}
        path = "/user/search"
        if project_key:
            path, params = "/user/assignable/search", {**params, "project": project_key}
        users = self._http.call("find_user", "GET", path, params={**params, "maxResults": 100}) or []
        matching = {
            self.dialect.user_id(user)
            for user in users
            if query.casefold() in self.dialect.user_ids(user)
            and user.get("active", True)
            and user.get("accountType", "atlassian") == "atlassian"
        }
        matching.discard(None)
        return matching.pop() if len(matching) == 1 else None

    # -- writing ---------------------------------------------------------------------------------------------------

    def create_tickets(
        self, drafts: Sequence[TicketDraft], guard: Callable[[], None] | None = None
    ) -> list[CreatedTicket]:
        """Create tickets with their marker property and labels in the create call itself, 50 a request.
        Jira's refusal of one draft (a 400 for it) is that draft's `error`. A request Jira answered without creating
        (4xx, 429, 503) raises `TicketsNotCreated`; anything else (a 500, a gateway error, a lost connection: the
        tickets may exist) raises as it came."""
        created: list[CreatedTicket] = []
        for start in range(0, len(drafts), BULK_CREATE_LIMIT):
            batch = drafts[start : start + BULK_CREATE_LIMIT]
            try:
                if len(batch) == 1:
                    created.append(self._create_one(start, batch[0], guard))
                else:
                    created += self._create_bulk(start, batch, guard)
            except JiraError as exc:
                if exc.status < 500 or exc.status == 503:
                    raise TicketsNotCreated(str(exc), created) from exc
                raise
        return created

    def set_marker(self, key: str, marker: FindingMarker) -> None:
        """Point the ticket's `hubsync.finding` property at another finding (one Security Hub re-issued)."""
        self._http.call("set_marker", "PUT", f"/issue/{key}/properties/{MARKER_PROPERTY}", json=marker.to_property())

    def show_lozenge(self, key: str, lozenge: Lozenge) -> None:
        if self._glance_property:
            self._http.call("show_lozenge", "PUT", f"/issue/{key}/properties/{self._glance_property}",
                            json=lozenge_property(lozenge))

    def comment(self, key: str, text: Document | str) -> None:
        self._http.call("comment", "POST", f"/issue/{key}/comment", json={"body": self.dialect.rich_text(text)})

    def edit(self, key: str, summary: str | None = None, priority: str | None = None) -> None:
        fields: dict[str, Any] = {}
        if summary is not None:
            fields["summary"] = summary
        if priority is not None:
            fields["priority"] = {"name": priority}
        if fields:
            self._http.call("edit", "PUT", f"/issue/{key}", json={"fields": fields})

    def move(self, ticket: Ticket, move: MoveTicket, disposition_of_status: DispositionOf) -> None:
        """Walk the shortest path of transitions from the ticket's status (as the caller just read it) to the
        status named `move.status` (if the project has it) or else to a status of `move.disposition`, stopping on
        the way only at statuses whose disposition is OPEN (so no step decides anything about the finding), with
        `move.comment` on the last transition. A ticket moved meanwhile by someone else makes Jira refuse a step
        (`JiraError`); the next sync reads it again.

        Raises `NoTransitionPath` when the project has no such status or no way leads there."""
        self._walker.walk(ticket, move, disposition_of_status)

    # -- internals -------------------------------------------------------------------------------------------------

    def _search(self, operation: str, jql: str) -> Iterator[dict[str, Any]]:
        return search_issues(self._http, self.dialect, operation, jql, fields=TICKET_FIELDS,
                             properties=(MARKER_PROPERTY,), changelog=True, page_size=self._page_size)

    def _fetch_issue(self, operation: str, key: str) -> dict[str, Any]:
        params = {"fields": ",".join(TICKET_FIELDS), "properties": MARKER_PROPERTY, "expand": "changelog"}
        issue: dict[str, Any] = self._http.call(operation, "GET", f"/issue/{key}", params=params)
        return issue

    def _read_issue(self, operation: str, key: str) -> dict[str, Any] | None:
        """The issue, or None when Jira no longer has it."""
        try:
            return self._fetch_issue(operation, key)
        except JiraError as error:
            if error.status == 404:
                return None
            raise

    def _create_one(self, index: int, draft: TicketDraft, guard: Callable[[], None] | None) -> CreatedTicket:
        try:
            body = create_body(draft, self.dialect, self._glance_property)
            created = self._http.call("create_tickets", "POST", "/issue", json=body, guard=guard)
        except JiraError as error:
            if error.status != 400:
                raise
            return CreatedTicket(index, None, "; ".join(error.messages))
        return CreatedTicket(index, created["key"])

    def _create_bulk(
        self, start: int, batch: Sequence[TicketDraft], guard: Callable[[], None] | None
    ) -> list[CreatedTicket]:
        """Jira answers 201 if any element was created, 400 if none was; both list the created issues in order
        and the failures by element number."""
        body = {"issueUpdates": [create_body(draft, self.dialect, self._glance_property) for draft in batch]}
        try:
            answer = self._http.call("create_tickets", "POST", "/issue/bulk", json=body, guard=guard)
        except JiraError as error:
            if error.status != 400 or not isinstance(error.body, Mapping) or not error.body.get("errors"):
                raise
            answer = error.body
        failures = {
            int(failure["failedElementNumber"]): "; ".join(messages_of(failure.get("elementErrors")))
            or f"Jira answered {failure.get('status')}"
            for failure in answer.get("errors") or []
        }
        issues = iter(answer.get("issues") or [])
        results = []
        for offset in range(len(batch)):
            if offset in failures:
                results.append(CreatedTicket(start + offset, None, failures[offset]))
            elif (issue := next(issues, None)) is not None:
                results.append(CreatedTicket(start + offset, issue["key"]))
            else:
                results.append(CreatedTicket(start + offset, None, "Jira reported neither an issue nor an error"))
        return results

def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]

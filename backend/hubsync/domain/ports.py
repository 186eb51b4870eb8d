"""The ports the service layer talks through, owned by the domain: adapters implement them (and import nothing of the
service); `bootstrap` hands the service the real ones, tests hand it fakes.

Security Hub, Jira and the owner directory are the outside world; the store (units of work over links, the audit
timeline and tenants, and the findings' sync locks) and the hint queue are hubsync's own memory."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from hubsync.domain.audit import AuditEntry
from hubsync.domain.document import Document
from hubsync.domain.finding import Finding, FindingIdentifier
from hubsync.domain.hint import SyncHint
from hubsync.domain.jira_webhook import RegisteredWebhook, WebhookDialect, WebhookSpec
from hubsync.domain.link import Claim, Link, LinkState
from hubsync.domain.plan import FindingUpdate, MoveTicket
from hubsync.domain.rendering import Lozenge
from hubsync.domain.sync_locks import HeldLocks
from hubsync.domain.tenant import AuthMode, JiraFlavour, SecurityHubGeneration, Tenant
from hubsync.domain.ticket import Disposition, FindingMarker, StatusCategory, Ticket


class SecurityHubPort(Protocol):
    # Keys of findings hubsync cannot read here, and why (one that did not parse; one of the other Security Hub
    # generation): never taken for "deleted".
    unreadable: dict[str, str]
    def findings(self, filters: Mapping[str, Any]) -> Iterator[Finding]:
        """Every finding matching the GetFindings `filters`, paged 100 at a time, in constant memory."""

    def get(self, identifiers: Sequence[FindingIdentifier]) -> dict[str, Finding]:
        """Current findings by key (absent: Security Hub no longer has it), batched into few GetFindings calls."""

    def update(self, updates: Sequence[tuple[FindingIdentifier, FindingUpdate]]) -> list[UpdateFailure]:
        """BatchUpdateFindings, 100 identifiers a call (identical updates grouped)."""


@dataclass(frozen=True)
class UpdateFailure:
    identifier: FindingIdentifier
    error_code: str
    message: str
    transient: bool = False  # Security Hub's "not now" (throttled, a concurrent update): retry without counting


class SecurityHubUnavailable(Exception):
    """Security Hub refused a read or could not be reached (a refused role, the network, throttling that outlasted
    the retries); the message says why in words an admin can act on, AWS's error is the `__cause__`."""


class OwnerDirectoryPort(Protocol):
    def owner_of(self, account_id: str) -> str | None:
        """The value of the owner tag (e.g. `SecurityContactID`) of an AWS account, or None; cached."""


@dataclass(frozen=True)
class TicketDraft:
    project_key: str
    issue_type: str
    summary: str
    description: Document
    priority: str | None
    labels: tuple[str, ...]
    assignee: str | None  # Cloud accountId / Data Center user name; None: unassigned
    properties: Mapping[str, Any] = field(default_factory=dict)  # issue properties set in the create call
    lozenge: Lozenge | None = None  # the finding's status for the issue glance, set in the create call too


@dataclass(frozen=True)
class CreatedTicket:
    draft_index: int
    key: str | None  # None when Jira refused this one
    error: str | None = None


class JiraPort(Protocol):
    def get_tickets(self, keys: Sequence[str]) -> dict[str, Ticket]:
        """Current tickets by key; a deleted ticket is absent."""

    def create_tickets(
        self, drafts: Sequence[TicketDraft], guard: Callable[[], None] | None = None
    ) -> list[CreatedTicket]:
        """Bulk create, 50 a request. `guard` runs before each request is sent and raises to stop the rest (the
        caller lost the right to create). Raises `TicketsNotCreated` when Jira's answer says nothing was made."""

    def find_by_markers(self, labels: Sequence[str]) -> dict[str, Ticket]:
        """Tickets carrying any of these marker labels, by label (batched `labels in (...)` searches)."""

    def move(
        self, ticket: Ticket, move: MoveTicket, disposition_of_status: Callable[[str, StatusCategory], Disposition]
    ) -> None:
        """Walk the shortest path of transitions from the ticket's status (as just read) to `move.status` or a
        status of `move.disposition`, with the comment on the last step."""

    def comment(self, key: str, text: Document | str) -> None: ...

    def set_marker(self, key: str, marker: FindingMarker) -> None:
        """Point the ticket's `hubsync.finding` issue property at `marker`'s finding."""

    def edit(self, key: str, summary: str | None = None, priority: str | None = None) -> None: ...

    def show_lozenge(self, key: str, lozenge: Lozenge) -> None:
        """Show the finding's status on the issue glance (Connect apps only; elsewhere nothing is sent)."""

    def find_user(self, query: str) -> str | None:
        """An assignable user's accountId (Cloud) or name (Data Center) for an email, id or name."""

    def linked_tickets(self, project_key: str) -> Iterator[Ticket]:
        """Every ticket carrying hubsync's marker in a project, paged with nextPageToken."""


# -- What the configure page and `hubsync jira check` read of a Jira site ------------------------------------


@dataclass(frozen=True)
class ProjectChoice:
    id: str
    key: str
    name: str


@dataclass(frozen=True)
class IssueTypeChoice:
    id: str
    name: str


@dataclass(frozen=True)
class StatusChoice:
    id: str
    name: str
    category: StatusCategory


@dataclass(frozen=True)
class PriorityChoice:
    id: str
    name: str


@dataclass(frozen=True)
class ResolutionChoice:
    id: str
    name: str


@dataclass(frozen=True)
class UserChoice:
    id: str  # what the policy stores: Cloud accountId, Data Center user name
    display_name: str
    email: str | None = None


@dataclass(frozen=True)
class CreateField:
    """One field of a project's create screen for an issue type, as Jira's create metadata describes it."""

    id: str
    name: str
    required: bool
    has_default: bool


@dataclass(frozen=True)
class WorkflowEdge:
    name: str
    sources: frozenset[str] | None  # status ids it starts from; None: a global transition (from any status)
    target: str  # status id


@dataclass(frozen=True)
class WorkflowShape:
    """The workflow an issue type of a project uses, where Jira lets this tenant read it."""

    name: str
    initial: str  # status id
    statuses: tuple[StatusChoice, ...]
    edges: tuple[WorkflowEdge, ...]


class ProjectNotFound(Exception):
    """Jira has no such project, or does not show it to hubsync's account."""


class JiraProjectsPort(Protocol):
    """Reads of a site's projects, their issue types, fields, statuses and workflows, its priorities and users:
    the configure page's pickers and the project check. Raises `ProjectNotFound`, `JiraUnavailable`."""

    def projects(self, query: str = "") -> list[ProjectChoice]:
        """Projects hubsync's account can see, matching `query` (key or name), at most 50."""

    def issue_types(self, project_key: str) -> list[IssueTypeChoice]:
        """The issue types hubsync's account can create in the project (create metadata)."""

    def create_fields(self, project_key: str, issue_type_id: str) -> list[CreateField]:
        """The create screen's fields for that project and issue type."""

    def statuses(self, project_key: str, issue_type_id: str | None = None) -> list[StatusChoice]:
        """The project's statuses (of one issue type, or of all of them, each once)."""

    def workflow(self, project_key: str, issue_type_id: str) -> WorkflowShape | None:
        """The issue type's workflow with its transitions; None when Jira does not let this tenant read workflows
        (Data Center has no such API; Cloud asks for administration rights)."""

    def priorities(self) -> list[PriorityChoice]: ...

    def users(self, query: str, project_key: str | None = None) -> list[UserChoice]:
        """Active users matching `query` (name or email), assignable in the project when one is given; at most 20."""


# -- What `hubsync jira setup-workflow` asks of a Jira Cloud site's administration ---------------------------


@dataclass(frozen=True)
class NewStatus:
    name: str
    category: StatusCategory
    description: str = ""


@dataclass(frozen=True)
class WorkflowSchemeInfo:
    """A workflow scheme, as the association of a project with it reports it."""

    id: str
    name: str
    default_workflow: str | None
    issue_type_workflows: Mapping[str, str]  # issue type id -> workflow name, where it differs from the default
    project_ids: frozenset[str]  # every project that uses it


@dataclass(frozen=True)
class JiraTask:
    """One of Jira's long-running tasks (a project's switch of workflow scheme) as last read."""

    id: str
    status: str  # Jira's: ENQUEUED, RUNNING, CANCEL_REQUESTED while it runs; then COMPLETE, FAILED, CANCELLED, DEAD
    progress: int  # percent done
    message: str = ""  # Jira's words on its progress, or why it failed

    @property
    def running(self) -> bool:
        return self.status in ("ENQUEUED", "RUNNING", "CANCEL_REQUESTED")

    @property
    def complete(self) -> bool:
        return self.status == "COMPLETE"


class WorkflowAdminRefused(Exception):
    """Jira refused an administration call for want of rights (401 or 403); the message is Jira's."""


class SwitchUnderWay(Exception):
    """Jira refused to start a switch of workflow scheme because another is running (its 409)."""


class TaskNotFound(Exception):
    """Jira has no task of this id (it keeps a finished one for 14 days)."""


class WorkflowAdminPort(Protocol):
    """Jira Cloud's workflow administration: its statuses, workflows, workflow schemes, and a project's switch from
    one scheme to another. Raises `ProjectNotFound`, `WorkflowAdminRefused`, `JiraUnavailable`."""

    def project(self, key: str) -> ProjectChoice: ...

    def statuses_named(self, names: Sequence[str]) -> list[StatusChoice]:
        """The site's global statuses whose name is one of `names`, compared case-insensitively."""

    def create_statuses(self, statuses: Sequence[NewStatus]) -> list[StatusChoice]:
        """Create global statuses; returns them with their new ids."""

    def workflow(self, name: str) -> WorkflowShape | None:
        """The workflow of exactly this name, with its statuses and transitions; None when there is none."""

    def validate_workflow(self, design: WorkflowShape, description: str) -> list[str]:
        """What Jira finds wrong with creating this workflow of existing statuses, one sentence per error naming
        its item; empty when nothing."""

    def create_workflow(self, design: WorkflowShape, description: str) -> None: ...

    def project_scheme(self, project_id: str) -> WorkflowSchemeInfo:
        """The workflow scheme the project uses now."""

    def scheme_named(self, name: str) -> WorkflowSchemeInfo | None:
        """The site's workflow scheme of this name (compared case-insensitively; Jira keeps names unique), or None.
        Its `project_ids` are not known here (empty)."""

    def create_scheme(self, name: str, description: str, workflow: str) -> WorkflowSchemeInfo:
        """A new workflow scheme with `workflow` for every issue type."""

    def project_statuses(self, project_key: str) -> Mapping[str, list[StatusChoice]]:
        """The statuses the project's issues may be in now, by issue type id."""

    def switch_scheme(self, project_id: str, scheme_id: str, mappings: Mapping[str, Mapping[str, str]]) -> JiraTask:
        """Start moving the project onto the scheme, its issues' statuses mapped (issue type id -> old status id ->
        new status id): Jira's task as it first answers, maybe still running (follow it with `task`). Raises
        `SwitchUnderWay` while another switch runs."""

    def task(self, task_id: str) -> JiraTask:
        """Jira's task of this id now; raises `TaskNotFound`."""


class AdminWebhooksPort(Protocol):
    """One Data Center or API-token Cloud site's admin webhooks, in the REST dialect its serverInfo names. Every
    call needs the Jira Administrators global permission: a 401/403 raises `WebhookAdminRefused`, any other refusal
    `JiraUnavailable`."""

    @property
    def linked_jql(self) -> str:
        """The JQL that selects hubsync's tickets on this site: what the webhook is filtered by."""

    def dialect(self) -> WebhookDialect:
        """Which admin-webhook API the site speaks (asked once, then remembered)."""

    def webhooks(self) -> list[RegisteredWebhook]: ...

    def get(self, webhook_id: str) -> RegisteredWebhook | None:
        """The webhook of this id, or None when the site has none."""

    def create(self, spec: WebhookSpec) -> RegisteredWebhook: ...

    def update(self, webhook_id: str, spec: WebhookSpec) -> RegisteredWebhook: ...

    def delete(self, webhook_id: str) -> bool:
        """False when the site had no such webhook."""


class JiraUnavailable(Exception):
    """Jira refused a request or could not be reached; the message says which, in words fit for a log line."""


class JiraUnreachable(JiraUnavailable):
    """No answer from Jira (connection refused or dropped, timeout); the transport's error is the `__cause__`."""


class TicketsNotCreated(Exception):
    """Jira answered a create request without carrying it out (refused, rate limited, unavailable): its drafts
    have no ticket, so their claims may go back at once. `created` holds what earlier requests of the same call
    made. Any other failure of a create may follow a ticket Jira did make. The Jira error is its `__cause__`."""

    def __init__(self, message: str, created: Sequence[CreatedTicket] = ()) -> None:
        super().__init__(message)
        self.created = list(created)


class NoTransitionPath(Exception):
    """The ticket's workflow has no way to the wanted status: the service falls back to a comment."""


class QueueUnavailable(Exception):
    """The queue could not take or give work right now (database or SQS unreachable, throttled). Retry later; an
    intake answers 503 so that EventBridge retries."""


class QueueMisconfigured(Exception):
    """The queue is set up in a way hubsync cannot run on; the message says what to change."""


class HintQueue(Protocol):
    def put(self, hints: Sequence[SyncHint]) -> None:
        """Durably enqueue (on return the hints survive a crash); a hint whose `event_id` was seen is dropped."""


class LinkRepository(Protocol):
    """Links in a unit of work; `save` checks the version this unit of work last saw (optimistic concurrency), and
    `claim_many` commits, so a claim outlives a crash during Jira's create (see the store's `links`)."""

    def get(self, tenant_id: str, finding_key: str) -> Link | None: ...

    def get_many(self, tenant_id: str, finding_keys: Iterable[str]) -> dict[str, Link]: ...

    def get_by_ticket(self, tenant_id: str, ticket_key: str) -> Link | None: ...

    def get_by_tickets(self, tenant_id: str, ticket_keys: Iterable[str]) -> dict[str, Link]: ...

    def get_by_secondary_key(self, tenant_id: str, secondary_key: str) -> Link | None: ...

    def claim_many(self, tenant_id: str, findings: Sequence[tuple[FindingIdentifier, str | None]]) -> list[Claim]: ...

    def release_claim(self, tenant_id: str, finding_key: str, *, expected_version: int | None = None) -> bool: ...

    def save(self, tenant_id: str, link: Link, *, expected_version: int | None = None) -> int: ...


class AuditRepository(Protocol):
    """The append-only timeline: no update, no delete."""

    def append(
        self,
        *,
        tenant_id: str,
        finding_key: str,
        action: str,
        reason: str,
        outcome: str,
        rule: int | None = None,
        ticket_key: str | None = None,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
        at: datetime | None = None,
    ) -> AuditEntry: ...

    def for_finding(self, tenant_id: str, finding_key: str, *, limit: int | None = None) -> list[AuditEntry]: ...


class TenantRepository(Protocol):
    """Tenants, secrets decrypted on the way out and encrypted on the way in."""

    def create(
        self,
        *,
        name: str,
        jira_base_url: str,
        jira_flavour: JiraFlavour,
        auth_mode: AuthMode,
        jira_user: str | None = None,
        jira_secret: str | None = None,
        connect_client_key: str | None = None,
        aws_role_arn: str | None = None,
        organizations_role_arn: str | None = None,
        aggregation_region: str | None = None,
        securityhub_generation: SecurityHubGeneration = SecurityHubGeneration.CSPM,
        policy: Mapping[str, Any] | None = None,
        enabled: bool = True,
        tenant_id: str | None = None,
        external_id: str | None = None,
        forge_installation_id: str | None = None,
        forge_cloud_id: str | None = None,
        forge_environment_id: str | None = None,
        jira_secret_expires_at: datetime | None = None,
    ) -> Tenant: ...

    def get(self, tenant_id: str, *, for_update: bool = False) -> Tenant | None: ...

    def get_by_client_key(self, client_key: str, *, for_update: bool = False) -> Tenant | None: ...

    def get_by_forge_installation(self, installation_id: str, *, for_update: bool = False) -> Tenant | None: ...

    def find_forge_site(
        self, cloud_id: str, environment_id: str | None, *, for_update: bool = False
    ) -> Tenant | None: ...

    def list(self, *, enabled_only: bool = False) -> builtins.list[Tenant]: ...

    def update(self, tenant: Tenant) -> Tenant: ...

    def uninstall(self, tenant_id: str) -> Tenant: ...

    def regenerate_events_api_key(self, tenant_id: str, *, grace: timedelta = ...) -> str: ...

    def verify_events_api_key(self, tenant_id: str, presented: str) -> bool: ...

    def has_events_api_key(self, tenant_id: str) -> bool: ...

    def delete(self, tenant_id: str) -> bool:
        """Remove the tenant with its links and audit timeline; False when it was not there."""


class UnitOfWorkPort(Protocol):
    """One transaction over the three repositories."""

    @property
    def links(self) -> LinkRepository: ...

    @property
    def audit(self) -> AuditRepository: ...

    @property
    def tenants(self) -> TenantRepository: ...


class StorePort(Protocol):
    """hubsync's memory. `transaction()` commits when its block ends and rolls back if it raises; `read()` never
    waits for a writer; `serialized()` holds the findings' sync locks, so two syncs of one finding never
    interleave."""

    def transaction(self) -> AbstractContextManager[UnitOfWorkPort]: ...

    def read(self) -> AbstractContextManager[UnitOfWorkPort]: ...

    def serialized(self, tenant_id: str, finding_keys: Iterable[str]) -> AbstractContextManager[HeldLocks]: ...

    def iter_links(
        self, tenant_id: str, *, batch: int = 500, states: Sequence[LinkState] | None = None
    ) -> Iterator[Link]: ...

    def ping(self) -> None:
        """Raise unless the store answers now (readiness)."""

    def unavailable(self, error: BaseException) -> bool:
        """Whether `error` says the store cannot be reached now (retry later), not that a statement is wrong."""


class TimersPort(Protocol):
    """Named timers every worker shares, so a periodic job (a tenant's reconcile) runs once per interval across
    them all: one caller gets a timer's turn, holds it with a lease while the job runs, and sets the next turn."""

    def claim(self, name: str, lease: timedelta) -> bool:
        """True for the one caller whose turn it is (the timer was due, or new); it holds the turn for `lease`."""

    def renew(self, name: str, lease: timedelta) -> None:
        """Still running: hold the turn for `lease` from now."""

    def finish(self, name: str, every: timedelta) -> None:
        """Done (or failed, which waits for the next turn too): the next turn is `every` from now."""


class InstallKeyUnavailable(Exception):
    """No usable public key for a Connect install token's `kid`; the message says why (fit for a 401 body)."""


class InstallKeys(Protocol):
    """Connect's signed-install key server."""

    def public_key(self, kid: str) -> str:
        """The PEM public key for `kid`; raises `InstallKeyUnavailable`."""


class AppAccounts(Protocol):
    """hubsync's own Jira user on each site, so that webhooks about hubsync's own changes cost nothing."""

    def is_own(self, tenant: Tenant, user: dict[str, Any] | None) -> bool:
        """Whether `user` (a webhook's `user` object) is hubsync's own app user on the tenant's site."""


@dataclass(frozen=True)
class Delivery:
    """One hint leased to this worker. `receipt` is the adapter's handle for settling it; `attempts` counts the
    receives so far, this one included."""

    hint: SyncHint
    receipt: str
    attempts: int
    enqueued_at: datetime | None = None


class HintConsumer(Protocol):
    @property
    def max_attempts(self) -> int:
        """Receives after which a failing hint is dead-lettered."""

    @property
    def lease_seconds(self) -> float:
        """How long a receive leases its hints (extend before it runs out)."""

    @property
    def counts_every_receive(self) -> bool:
        """True when every receive counts toward `max_attempts` whatever the worker says (SQS: its receive count
        drives the redrive); False when `retry_later(..., counted=False)` gives the attempt back (local)."""

    def receive(self, max_hints: int, wait_seconds: float) -> list[Delivery]:
        """Up to `max_hints` hints, waiting up to `wait_seconds` for the first; most urgent first."""

    def extend(self, deliveries: Sequence[Delivery], seconds: float) -> None:
        """Keep these leased for `seconds` more (a long sync)."""

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        """Done: remove them."""

    def retry_later(
        self, deliveries: Sequence[Delivery], delay_seconds: float, error: str, *, counted: bool = True
    ) -> None:
        """Failed this time: deliver again after `delay_seconds`. `counted=False`: the failure was not the hints'
        own (the tenant's side was unreachable), so this attempt does not count toward `max_attempts` where the
        queue can take it back (see `counts_every_receive`)."""

    def dead_letter(self, deliveries: Sequence[Delivery], error: str) -> None:
        """Give up on them: park them where a person can look (the local DEAD state, the SQS dead-letter queue)."""


class WorkQueue(HintConsumer, Protocol):
    """Both sides: what `bootstrap.open_queue` returns (local on the database, or SQS FIFO)."""

    def put(self, hints: Sequence[SyncHint]) -> None:
        """Durably enqueue; a hint whose (tenant, `event_id`) was seen is dropped."""


@dataclass(frozen=True)
class RawMessage:
    """One raw Security Hub event off an EventBridge rule's queue, with the handle that deletes it."""

    body: str
    receipt: str
    message_id: str


class EventSource(Protocol):
    """The queue of an EventBridge rule's SQS target: the worker turns its events into hints, then deletes them
    (only once the hints are queued)."""

    queue_url: str

    def receive(self, max_messages: int, wait_seconds: float) -> list[RawMessage]: ...

    def delete(self, messages: Sequence[RawMessage]) -> None: ...


@dataclass(frozen=True)
class AwsRoles:
    """The roles a tenant's syncs assume: the Security Hub administrator's (in its aggregation Region) and,
    optionally, the management account's (to read owner tags)."""

    role_arn: str
    organizations_role_arn: str | None
    aggregation_region: str


@dataclass
class ProbeStep:
    name: str
    ok: bool | None  # None: skipped (not configured, or an earlier step failed)
    detail: str

    def to_json(self) -> dict[str, Any]:
        status = "skipped" if self.ok is None else "ok" if self.ok else "failed"
        return {"name": self.name, "ok": self.ok, "status": status, "detail": self.detail}


@dataclass
class ConnectionReport:
    steps: list[ProbeStep] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(step.ok is not False for step in self.steps) and any(step.ok for step in self.steps)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "steps": [step.to_json() for step in self.steps]}


# hubsync's Security Hub custom action: at most 20 alphanumerics for the id (its ARN ends in action/custom/<id>),
# at most 20 characters for the name the console's Actions menu shows.
ACTION_ID = "hubsyncSendToJira"
ACTION_NAME = "Send to Jira"
ACTION_DESCRIPTION = "Create the finding's Jira ticket with hubsync, or note the ticket it already has"


class CustomActionFailed(Exception):
    """Security Hub refused or could not be reached; the message carries its reason (for the admin)."""


class AwsSetupPort(Protocol):
    """The one-off AWS calls of setting a tenant up, through its assumed roles."""

    def check_connection(self, tenant: Tenant, roles: AwsRoles, owner_tag: str,
                         generation: SecurityHubGeneration = SecurityHubGeneration.CSPM) -> ConnectionReport:
        """Assume the role, read one finding of `generation`'s Security Hub (the new one: see that it is enabled
        first), read one account's `owner_tag`: each step ok or failed, and why."""

    def ensure_action_target(self, tenant: Tenant, region: str) -> tuple[str, bool]:
        """hubsync's "Send to Jira" action target in `region`, found or created: (its ARN, whether created now).
        Raises `CustomActionFailed`."""


class ForgeKeyUnavailable(Exception):
    """No public key for a Forge invocation token's `kid`: unknown to Forge's key set (the token is not Forge's),
    or, when `reachable` is False, the key set could not be fetched now (retry later)."""

    def __init__(self, message: str, *, reachable: bool = True) -> None:
        super().__init__(message)
        self.reachable = reachable


class ForgeKeys(Protocol):
    """The keys Forge signs its invocation tokens with (its JWKS, fetched from the one configured URL)."""

    def signing_key(self, kid: str) -> Any:
        """The public key for `kid`; raises `ForgeKeyUnavailable`."""

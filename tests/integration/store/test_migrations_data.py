"""Upgrading keeps what a running hubsync stored: a database filled at the first revision (and the queue tables
at the revision that made them) is upgraded one revision at a time to the head, on SQLite and PostgreSQL, and
every tenant, secret, policy, link, audit entry and queued hint reads back and works through today's Store and
queue.

The rows are written with plain SQL against each revision's own columns, as the hubsync of that revision wrote
them, never through today's models (which describe the head).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from hubsync.adapters.queue.local import LocalQueue
from hubsync.adapters.queue.timers import WorkerTimers
from hubsync.adapters.store import SecretBox, Store, current_revision, head_revision, upgrade
from hubsync.adapters.store.migrate import alembic_config
from hubsync.adapters.store.models import UtcDateTime
from hubsync.domain.finding import FindingIdentifier, WorkflowStatus
from hubsync.domain.hint import HintSource, Priority, SyncHint
from hubsync.domain.link import Link, LinkState
from hubsync.domain.tenant import AuthMode, JiraFlavour, SecurityHubGeneration, TenantState
from hubsync.domain.ticket import Disposition
from tests.fixtures.securityhub import FakeClock
from tests.integration.store.builders import TEST_SECRET_KEY, finding

FIRST_REVISION = "0001"
QUEUE_REVISION = "0002"  # the revision that created the queue tables

STORED_AT = datetime(2025, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
CONNECT_ID = "tenant-connect"
DATA_CENTER_ID = "tenant-data-center"
CLIENT_KEY = "0b0a5f0e-7f1c-4f6a-9a55-migrated0001"
SHARED_SECRET = "connect-shared-secret-" + "s" * 40
PAT = "data-center-personal-access-token"
POLICY = {
    "project_key": "SEC",
    "issue_type": "Bug",
    "rules": [{"name": "critical", "min_severity": "CRITICAL", "products": ["Security Hub"]}],
    "labels": ["security", "hubsync"],
    "status_mapping": {"Risk approved": "ACCEPTED", "Fertig ✓": "FIXED"},
}

CLAIMED, LINKED, BROKEN = finding(1), finding(2), finding(3)
DATA_CENTER_LINKED = finding(4, "inspector")
QUEUED = SyncHint(CONNECT_ID, HintSource.SECURITYHUB_IMPORTED, finding=LINKED, event_id="eventbridge:evt-1",
                  priority=Priority.CRITICAL)
DEAD = SyncHint(CONNECT_ID, HintSource.JIRA_WEBHOOK, ticket_key="SEC-9", event_id="jira.webhook:delivery-9")

# Each revision's columns as that revision's hubsync wrote them (types: how values are bound, not the schema).
_TENANTS_0001 = sa.table(
    "tenants",
    *(sa.column(name) for name in ("id", "name", "jira_base_url", "jira_flavour", "auth_mode", "jira_user",
                                   "jira_secret_encrypted", "connect_client_key", "aws_role_arn",
                                   "organizations_role_arn", "external_id", "aggregation_region",
                                   "events_api_key_encrypted", "enabled")),
    sa.column("policy", sa.JSON()),
    sa.column("created_at", UtcDateTime()),
    sa.column("updated_at", UtcDateTime()),
)
_LINKS_0001 = sa.table(
    "links",
    *(sa.column(name) for name in ("tenant_id", "finding_key", "finding_id", "product_arn", "state", "ticket_key",
                                   "secondary_key", "written_workflow", "seen_disposition", "rendered_severity",
                                   "rendered_title", "version")),
    *(sa.column(name, UtcDateTime()) for name in ("seen_updated_at", "fixed_at_updated_at", "accepted_until",
                                                  "risk_requested_at", "claimed_at", "created_at", "updated_at")),
)
_AUDIT_0001 = sa.table(
    "audit",
    *(sa.column(name) for name in ("tenant_id", "finding_key", "ticket_key", "rule", "action", "reason", "outcome")),
    sa.column("at", UtcDateTime()),
    sa.column("before", sa.JSON()),
    sa.column("after", sa.JSON()),
)
_QUEUE_HINTS_0002 = sa.table(
    "queue_hints",
    *(sa.column(name) for name in ("tenant_id", "group_key", "event_id", "priority", "state", "lease_token",
                                   "attempts", "last_error")),
    sa.column("body", sa.JSON()),
    *(sa.column(name, UtcDateTime()) for name in ("enqueued_at", "available_at", "leased_until")),
)
_QUEUE_EVENTS_0002 = sa.table("queue_events", sa.column("tenant_id"), sa.column("event_id"),
                              sa.column("seen_at", UtcDateTime()))
_WORKER_TIMERS_0002 = sa.table("worker_timers", sa.column("name"), sa.column("due_at", UtcDateTime()))


def _revisions_after(first: str) -> list[str]:
    """The shipped revisions after `first`, oldest first."""
    script = ScriptDirectory.from_config(alembic_config())
    ordered = [revision.revision for revision in reversed(list(script.walk_revisions("base", "heads")))]
    return ordered[ordered.index(first) + 1 :]


def _stored_at_first_revision(connection: sa.Connection, box: SecretBox) -> None:
    def secret(tenant_id: str, plaintext: str) -> str:
        return box.encrypt(plaintext, context=f"tenant/{tenant_id}/jira_secret")

    tenant_values = {"events_api_key_encrypted": None, "created_at": STORED_AT, "updated_at": STORED_AT}
    connection.execute(sa.insert(_TENANTS_0001), [
        {**tenant_values, "id": CONNECT_ID, "name": "acme.atlassian.net", "jira_base_url": "https://acme.atlassian.net",
         "jira_flavour": "CLOUD", "auth_mode": "CONNECT", "jira_user": None,
         "jira_secret_encrypted": secret(CONNECT_ID, SHARED_SECRET), "connect_client_key": CLIENT_KEY,
         "aws_role_arn": "arn:aws:iam::222233334444:role/hubsync-securityhub",
         "organizations_role_arn": "arn:aws:iam::999988887777:role/hubsync-organizations",
         "external_id": "external-id-acme", "aggregation_region": "eu-west-1",
         "events_api_key_encrypted": box.encrypt("an-events-key-of-revision-0001", context=f"tenant/{CONNECT_ID}/x"),
         "policy": POLICY, "enabled": True},
        {**tenant_values, "id": DATA_CENTER_ID, "name": "Jira DC", "jira_base_url": "https://jira.example.com",
         "jira_flavour": "DATA_CENTER", "auth_mode": "PAT", "jira_user": None,
         "jira_secret_encrypted": secret(DATA_CENTER_ID, PAT), "connect_client_key": None, "aws_role_arn": None,
         "organizations_role_arn": None, "external_id": "external-id-dc", "aggregation_region": None,
         "policy": {}, "enabled": False},
    ])
    link_values: dict[str, Any] = {
        "ticket_key": None, "secondary_key": None, "seen_updated_at": None, "fixed_at_updated_at": None,
        "written_workflow": None, "seen_disposition": None, "accepted_until": None, "rendered_severity": None,
        "rendered_title": None, "risk_requested_at": None, "claimed_at": None, "created_at": STORED_AT,
        "updated_at": STORED_AT, "version": 1,
    }

    def link(tenant_id: str, identifier: FindingIdentifier, **values: Any) -> dict[str, Any]:
        return {**link_values, "tenant_id": tenant_id, "finding_key": identifier.key, "finding_id": identifier.id,
                "product_arn": identifier.product_arn, **values}

    connection.execute(sa.insert(_LINKS_0001), [
        link(CONNECT_ID, CLAIMED, state="CLAIMED", secondary_key="S3.8|bucket-a|111122223333",
             claimed_at=STORED_AT),
        link(CONNECT_ID, LINKED, state="LINKED", ticket_key="SEC-7", secondary_key="S3.8|bucket-b|111122223333",
             seen_updated_at=STORED_AT - timedelta(days=2), fixed_at_updated_at=STORED_AT - timedelta(days=1),
             written_workflow="SUPPRESSED", seen_disposition="ACCEPTED", accepted_until=STORED_AT + timedelta(days=90),
             rendered_severity="CRITICAL", rendered_title="S3 buckets should block public access — «bucket-b»",
             risk_requested_at=STORED_AT - timedelta(hours=3), claimed_at=STORED_AT - timedelta(days=3), version=7),
        link(CONNECT_ID, BROKEN, state="BROKEN", ticket_key="SEC-3", written_workflow="NEW",
             seen_disposition="MISSING", version=4),
        link(DATA_CENTER_ID, DATA_CENTER_LINKED, state="LINKED", ticket_key="OPS-1", version=2),
    ])
    audit = {"ticket_key": "SEC-7", "finding_key": LINKED.key, "tenant_id": CONNECT_ID}
    connection.execute(sa.insert(_AUDIT_0001), [
        {**audit, "at": STORED_AT - timedelta(days=3), "rule": 1, "action": "create_ticket",
         "reason": "escalated: critical", "outcome": "applied", "before": None, "after": {"ticket": "SEC-7"}},
        {**audit, "at": STORED_AT - timedelta(hours=3), "rule": 7, "action": "update_finding",
         "reason": "risk accepted in SEC-7 by Sofia", "outcome": "applied",
         "before": {"workflow": "NOTIFIED"}, "after": {"workflow": "SUPPRESSED", "note": "accepted ✓"}},
        {**audit, "at": STORED_AT, "rule": None, "action": "comment", "reason": "Jira answered 503",
         "outcome": "failed", "before": None, "after": None},
    ])


def _stored_at_queue_revision(connection: sa.Connection) -> None:
    hint_values: dict[str, Any] = {"enqueued_at": STORED_AT, "available_at": STORED_AT, "leased_until": None,
                                   "lease_token": None}
    connection.execute(sa.insert(_QUEUE_HINTS_0002), [
        {**hint_values, "tenant_id": CONNECT_ID, "group_key": QUEUED.group_key, "event_id": QUEUED.event_id,
         "body": {"format": "hubsync.hint/1", "tenant_id": CONNECT_ID, "source": "securityhub.imported",
                  "finding": {"id": LINKED.id, "product_arn": LINKED.product_arn}, "ticket_key": None,
                  "event_id": QUEUED.event_id, "priority": 1},
         "priority": 1, "state": "READY", "attempts": 2, "last_error": "Jira answered 503"},
        {**hint_values, "tenant_id": CONNECT_ID, "group_key": DEAD.group_key, "event_id": DEAD.event_id,
         "body": {"format": "hubsync.hint/1", "tenant_id": CONNECT_ID, "source": "jira.webhook", "finding": None,
                  "ticket_key": "SEC-9", "event_id": DEAD.event_id, "priority": 3},
         "priority": 3, "state": "DEAD", "attempts": 5, "last_error": "no such project"},
    ])
    connection.execute(sa.insert(_QUEUE_EVENTS_0002), [
        {"tenant_id": CONNECT_ID, "event_id": QUEUED.event_id, "seen_at": datetime.now(UTC)},
    ])
    connection.execute(sa.insert(_WORKER_TIMERS_0002), [
        {"name": f"reconcile:{CONNECT_ID}", "due_at": datetime.now(UTC) + timedelta(hours=1)},
    ])


def _row_counts(engine: Engine) -> dict[str, int]:
    tables = ("tenants", "links", "audit", "queue_hints", "queue_events", "worker_timers")
    present = set(sa.inspect(engine).get_table_names())
    with engine.connect() as connection:
        return {
            table: connection.execute(sa.select(sa.func.count()).select_from(sa.table(table))).scalar_one()
            for table in tables
            if table in present
        }


def _expected_links() -> dict[str, Link]:
    def link(identifier: FindingIdentifier, state: LinkState, **values: Any) -> Link:
        return Link(identifier.key, identifier.id, identifier.product_arn, state, **values)

    return {
        CLAIMED.key: link(CLAIMED, LinkState.CLAIMED, secondary_key="S3.8|bucket-a|111122223333"),
        LINKED.key: link(
            LINKED, LinkState.LINKED, ticket_key="SEC-7", secondary_key="S3.8|bucket-b|111122223333",
            seen_updated_at=STORED_AT - timedelta(days=2), fixed_at_updated_at=STORED_AT - timedelta(days=1),
            written_workflow=WorkflowStatus.SUPPRESSED, seen_disposition=Disposition.ACCEPTED,
            accepted_until=STORED_AT + timedelta(days=90), rendered_severity="CRITICAL",
            rendered_title="S3 buckets should block public access — «bucket-b»",
            risk_requested_at=STORED_AT - timedelta(hours=3),
        ),
        BROKEN.key: link(BROKEN, LinkState.BROKEN, ticket_key="SEC-3", written_workflow=WorkflowStatus.NEW,
                         seen_disposition=Disposition.MISSING),
    }


def _upgraded_step_by_step(engine: Engine, box: SecretBox, after_each: Callable[[str], None]) -> None:
    upgrade(engine, FIRST_REVISION)
    with engine.begin() as connection:
        _stored_at_first_revision(connection, box)
    for revision in _revisions_after(FIRST_REVISION):
        upgrade(engine, revision)
        assert current_revision(engine) == revision
        after_each(revision)
        if revision == QUEUE_REVISION:
            with engine.begin() as connection:
                _stored_at_queue_revision(connection)


def test_an_upgrade_from_the_first_revision_keeps_every_row(engine: Engine) -> None:
    box = SecretBox([TEST_SECRET_KEY])
    counts: list[dict[str, int]] = []
    _upgraded_step_by_step(engine, box, lambda revision: counts.append(_row_counts(engine)))

    assert current_revision(engine) == head_revision()
    assert counts, "there is no revision after the first: nothing was upgraded"
    first, *later = counts
    assert (first["tenants"], first["links"], first["audit"]) == (2, 4, 3)
    assert later == [{**first, "queue_hints": 2, "queue_events": 1, "worker_timers": 1}] * len(later)


def test_upgraded_tenants_links_and_audit_read_back_and_work_through_the_store(engine: Engine) -> None:
    box = SecretBox([TEST_SECRET_KEY])
    _upgraded_step_by_step(engine, box, lambda revision: None)
    clock = FakeClock(datetime(2025, 6, 1, 12, 0, tzinfo=UTC))
    store = Store(engine, box, clock=clock)

    with store.read() as uow:
        connect = uow.tenants.get_by_client_key(CLIENT_KEY)
        data_center = uow.tenants.get(DATA_CENTER_ID)
        links = {link.finding_key: link for link in uow.links.iter_links(CONNECT_ID)}
        by_ticket = uow.links.get_by_ticket(CONNECT_ID, "SEC-7")
        other_tenants_link = uow.links.get(DATA_CENTER_ID, DATA_CENTER_LINKED.key)
        history = uow.audit.for_finding(CONNECT_ID, LINKED.key)
        events_key_works = uow.tenants.verify_events_api_key(CONNECT_ID, "an-events-key-of-revision-0001")

    assert connect is not None and data_center is not None
    assert connect.id == CONNECT_ID and connect.jira_secret == SHARED_SECRET
    assert (connect.jira_flavour, connect.auth_mode) == (JiraFlavour.CLOUD, AuthMode.CONNECT)
    assert connect.policy == POLICY
    assert (connect.aws_role_arn, connect.organizations_role_arn, connect.aggregation_region, connect.external_id) == (
        "arn:aws:iam::222233334444:role/hubsync-securityhub",
        "arn:aws:iam::999988887777:role/hubsync-organizations",
        "eu-west-1",
        "external-id-acme",
    )
    assert connect.state is TenantState.ENABLED and connect.created_at == STORED_AT
    assert connect.securityhub_generation is data_center.securityhub_generation is SecurityHubGeneration.CSPM
    assert data_center.jira_secret == PAT and data_center.state is TenantState.DISABLED
    assert data_center.policy == {}
    assert not events_key_works  # revision 0002 stores keys as hashes; the old encrypted ones are dropped

    assert links == _expected_links()
    assert by_ticket == links[LINKED.key]
    assert other_tenants_link is not None and other_tenants_link.ticket_key == "OPS-1"
    assert [(entry.rule, entry.action, entry.outcome, entry.before, entry.after) for entry in history] == [
        (1, "create_ticket", "applied", None, {"ticket": "SEC-7"}),
        (7, "update_finding", "applied", {"workflow": "NOTIFIED"}, {"workflow": "SUPPRESSED", "note": "accepted ✓"}),
        (None, "comment", "failed", None, None),
    ]
    assert [entry.at for entry in history] == [STORED_AT - timedelta(days=3), STORED_AT - timedelta(hours=3),
                                               STORED_AT]

    with store.transaction() as uow:  # the migrated rows take today's writes
        moved = dataclasses.replace(links[LINKED.key], seen_disposition=Disposition.OPEN)
        uow.links.save(CONNECT_ID, moved)
        uow.audit.append(tenant_id=CONNECT_ID, finding_key=LINKED.key, action="update_finding", rule=9,
                         reason="risk reopened", outcome="applied", ticket_key="SEC-7")
        uow.tenants.update(dataclasses.replace(connect, aws_role_arn="arn:aws:iam::222233334444:role/renamed"))
        new_key = uow.tenants.regenerate_events_api_key(CONNECT_ID)
    with store.transaction() as uow:
        uninstalled = uow.tenants.uninstall(CONNECT_ID)
    with store.read() as uow:
        assert uow.links.get(CONNECT_ID, LINKED.key) == moved
        assert len(uow.audit.for_finding(CONNECT_ID, LINKED.key)) == 4
        assert uow.tenants.verify_events_api_key(CONNECT_ID, new_key)
        assert uow.tenants.get(CONNECT_ID) == uninstalled
    assert uninstalled.state is TenantState.UNINSTALLED
    assert uninstalled.aws_role_arn == "arn:aws:iam::222233334444:role/renamed"


def test_upgraded_queue_rows_are_delivered_deduplicated_and_timed(engine: Engine) -> None:
    _upgraded_step_by_step(engine, SecretBox([TEST_SECRET_KEY]), lambda revision: None)
    queue = LocalQueue(engine)
    try:
        assert queue.dead() == [(DEAD, "no such project")]
        queue.put([QUEUED])  # its event id was seen before the upgrade: a redelivery, dropped
        assert queue.depth() == 1
        (delivery,) = queue.receive(10, 0)
        assert delivery.hint == QUEUED
        assert delivery.attempts == 3  # two receives before the upgrade, this one
        assert delivery.enqueued_at == STORED_AT
        queue.ack([delivery])
        assert queue.depth() == 0
    finally:
        queue.close()
    assert not WorkerTimers(engine).claim(f"reconcile:{CONNECT_ID}", timedelta(minutes=5))  # not due for an hour

"""The concurrency proof: an event storm on PostgreSQL, worked by 4 `hubsync worker` processes at once.

Everything is real but the two clouds: hubsync's web app serves the EventBridge intake and Jira's webhooks on a
loopback port, installed into the simulated Jira Cloud site through the Connect flow (signed install, then
configured as an admin would); the hint queue is the local one on PostgreSQL (a fresh schema); the workers are
4 OS processes (`python -m hubsync.cli worker --concurrency 2`), sharing only the database with each other.

The storm: every finding's Imported event arrives 5 times, shuffled across all findings and posted by several
senders at once (an event redelivered with its id, and fresh events with new ids, as EventBridge and Security Hub
produce them). Meanwhile people act on the tickets as they appear (risk approved, false positive accepted, fixed)
and providers archive findings, each change reaching hubsync as Jira's signed webhook or a new Imported event.

Then the queue drains, the workers stop on SIGTERM (cleanly), and: exactly one ticket per escalated finding (Jira
searched by the marker label; the audit shows one creation), none for the findings no rule escalates, every pair
in the state its story says, nothing dead-lettered, and a final reconcile (dry run) that plans nothing.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from hubsync.adapters.queue import LocalQueue
from hubsync.adapters.store import SecretBox, Store, create_engine, upgrade
from hubsync.bootstrap import bootstrap, build_sync_context
from hubsync.config import Settings
from hubsync.domain.finding import WorkflowStatus, marker_label
from hubsync.domain.tenant import Tenant
from hubsync.service.reconcile import reconcile
from hubsync.service.sync import SyncContext
from hubsync.web import create_app
from hubsync.web.events import API_KEY_HEADER
from hubsync_sandbox.connected import configure_installed
from hubsync_sandbox.demo import demo_policy
from hubsync_sandbox.httpserver import BackgroundServer
from hubsync_sandbox.jira import seed as jira_seed
from hubsync_sandbox.runner import AGGREGATION_REGION, Sandbox
from hubsync_sandbox.securityhub.events import imported_event
from tests.fixtures.postgres import fresh_schema
from tests.fixtures.sandbox import SandboxContracts
from tests.fixtures.stories import (
    ARCHIVED,
    CLICKS,
    EXPECTED,
    FALSE_POSITIVE,
    LEFT_OPEN,
    NOT_ESCALATED,
    STORY_SHARES,
    StoryFinding,
)

pytestmark = pytest.mark.postgres

SECRET_KEY = "storm-secret-key-shared-by-every-process-0123456789"
WORKERS = 4
THREADS_PER_WORKER = 2
EVENTS_PER_FINDING = 5  # the first delivery, 2 redeliveries of it (same event id), 2 fresh events (new ids)
SENDERS = 6  # EventBridge delivers in parallel
STORM_SECONDS = 6.0  # the events are spread over this long, so people and providers act in the middle of it
TIMEOUT = 90.0

@dataclass
class Hubsync:
    sandbox: Sandbox
    store: Store
    queue: LocalQueue
    tenant: Tenant
    events_url: str
    events_key: str
    worker_environment: dict[str, str]
    scratch: Path
    posted: list[int] = field(default_factory=list)  # HTTP status of every event posted

    @property
    def jira_url(self) -> str:
        return self.sandbox.jira_cloud_server.url

    def context(self) -> SyncContext:
        return build_sync_context(self.tenant, self.store)

    def post(self, event: dict[str, Any]) -> None:
        response = requests.post(self.events_url, data=json.dumps(event), timeout=30,
                                 headers={"Content-Type": "application/json", API_KEY_HEADER: self.events_key})
        self.posted.append(response.status_code)
        assert response.status_code == 202, response.text

    def ticket_of(self, finding: StoryFinding) -> str | None:
        with self.store.read() as uow:
            link = uow.links.get(self.tenant.id, finding.key)
        return link.ticket_key if link else None

    def jira_deliveries(self, wait_ms: int = 5000) -> dict[str, Any]:
        return requests.get(f"{self.jira_url}/_sandbox/connect/deliveries", params={"wait_ms": wait_ms},
                            timeout=wait_ms / 1000 + 10).json()


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    """A fresh schema on the PostgreSQL server of HUBSYNC_TEST_POSTGRES_URL, dropped afterwards."""
    with fresh_schema("hubsync_storm", "the storm runs worker processes on a PostgreSQL server") as url:
        yield url


@pytest.fixture(scope="module")
def hubsync(
    database_url: str, sandbox_contracts: SandboxContracts, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Hubsync]:
    """The sandbox (Security Hub empty), hubsync's web app on PostgreSQL installed into Jira Cloud through Connect
    and configured for the sandbox's organization, with an events key for the intake."""
    with (
        Sandbox(wrap=sandbox_contracts.wrap, seed_findings=False) as sandbox,
        sandbox.exported() as environment,  # for this process's own contexts (the final reconcile)
    ):
        events = sandbox.securityhub.events
        for target in events.targets():  # the test posts the storm itself; nobody reads the sandbox's SQS queue
            events.remove_target(target["id"])
        store = Store(create_engine(database_url), SecretBox([SECRET_KEY]))
        upgrade(store.engine)
        queue = LocalQueue(store.engine)
        server = BackgroundServer(name="hubsync").start()
        try:
            jira_host = sandbox.jira_cloud_server.url.removeprefix("http://")
            settings = Settings.from_environment(
                {"HUBSYNC_BASE_URL": server.url, "HUBSYNC_INSTALL_KEYS_URL": environment["HUBSYNC_INSTALL_KEYS_URL"],
                 "HUBSYNC_ALLOWED_JIRA_HOSTS": jira_host, "HUBSYNC_SECRET_KEY": SECRET_KEY},
            )
            server.mount(create_app(bootstrap(settings, store=store, queue=queue)))
            installed = requests.post(f"{sandbox.jira_cloud_server.url}/_sandbox/connect/install",
                                      json={"descriptorUrl": f"{server.url}/atlassian-connect.json"}, timeout=30)
            assert installed.status_code == 200, installed.text
            default = sandbox.jira_cloud.user_by_email(jira_seed.SANDBOX_JIRA_DEFAULT_ASSIGNEE_EMAIL)
            assert default is not None  # the rules of the demo: escalate CRITICAL findings
            tenant = configure_installed(store, sandbox, installed.json()["clientKey"], demo_policy(default.account_id))
            with store.transaction() as uow:
                key = uow.tenants.regenerate_events_api_key(tenant.id)
            workers_env = {
                **os.environ,
                "HUBSYNC_DATABASE_URL": database_url,
                "HUBSYNC_SECRET_KEY": SECRET_KEY,
                "HUBSYNC_QUEUE_URL": "",  # the local queue, on PostgreSQL
                "HUBSYNC_EVENTS_QUEUE_URL": "",
                "HUBSYNC_LOG_LEVEL": "WARNING",  # what the workers print is then only their start, stop and trouble
                "PYTHONUNBUFFERED": "1",
            }
            yield Hubsync(sandbox, store, queue, tenant, f"{server.url}/events/securityhub/{tenant.id}", key,
                          workers_env, tmp_path_factory.mktemp("storm"))
        finally:
            server.stop()
            store.dispose()


# -- the players ------------------------------------------------------------------------------------------------
class Workers:
    """`hubsync worker` processes; output to files (a full pipe would block a worker)."""

    def __init__(self, hubsync: Hubsync) -> None:
        self.processes: list[subprocess.Popen[bytes]] = []
        self.logs: list[tuple[Path, Path]] = []
        for n in range(WORKERS):
            out, err = hubsync.scratch / f"worker-{n}.out", hubsync.scratch / f"worker-{n}.err"
            self.logs.append((out, err))
            with out.open("wb") as stdout, err.open("wb") as stderr:
                # Each process names itself to PostgreSQL, so the locks it holds can be told from the others'.
                database = f"{hubsync.worker_environment['HUBSYNC_DATABASE_URL']}&application_name={worker_name(n)}"
                self.processes.append(subprocess.Popen(
                    [sys.executable, "-m", "hubsync.cli", "worker", "--concurrency", str(THREADS_PER_WORKER),
                     "--reconcile-interval", "0"],
                    env={**hubsync.worker_environment, "HUBSYNC_DATABASE_URL": database}, stdout=stdout, stderr=stderr,
                ))

    def stop(self, timeout: float = 30) -> list[int | None]:
        """SIGTERM each, then wait: a worker finishes the batch under way and exits 0."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes = []
        for process in self.processes:
            try:
                codes.append(process.wait(timeout))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                codes.append(None)
        return codes

    def output(self, number: int) -> tuple[str, str]:
        out, err = self.logs[number]
        return out.read_text(), err.read_text()

    def all_running(self) -> bool:
        return all(process.poll() is None for process in self.processes)


def worker_name(number: int) -> str:
    return f"hubsync-storm-worker-{number}"


class LockWatch:
    """Samples which worker processes hold findings' sync locks (PostgreSQL advisory locks, bigint form) while the
    storm runs: evidence that the processes really synced side by side, not one after the other."""

    SAMPLE = sa.text(
        "SELECT a.application_name, count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted AND a.application_name LIKE :names "
        "GROUP BY a.application_name"
    )

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.holders: set[str] = set()  # every worker seen holding a sync lock
        self.most_at_once = 0  # the most workers seen holding sync locks at the same moment
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="storm-lock-watch", daemon=True)

    def __enter__(self) -> LockWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        with self.engine.connect() as connection:
            while not self._stop.wait(0.02):
                rows = connection.execute(self.SAMPLE, {"names": worker_name(0)[:-1] + "%"}).all()
                connection.rollback()  # a fresh snapshot of the statistics each time
                self.holders.update(row[0] for row in rows)
                self.most_at_once = max(self.most_at_once, len(rows))


def import_findings(hubsync: Hubsync) -> list[StoryFinding]:
    """The storm's findings, new in Security Hub: CRITICAL (the rules escalate them) but for the not-escalated."""
    world = hubsync.sandbox.aws_world
    assert world is not None
    accounts = [account.id for account in world.workload_accounts]
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    findings = []
    for story, count in STORY_SHARES.items():
        for n in range(count):
            number = len(findings)
            account = accounts[number % len(accounts)]
            findings.append(StoryFinding(story, {
                "SchemaVersion": "2018-10-08",
                "Id": f"arn:aws:securityhub:{AGGREGATION_REGION}:{account}:finding/storm-{number}",
                "ProductArn": f"arn:aws:securityhub:{AGGREGATION_REGION}:{account}:product/{account}/default",
                "GeneratorId": "storm", "AwsAccountId": account, "Types": ["Unusual Behaviors"],
                "CreatedAt": now, "UpdatedAt": now,
                "Severity": {"Label": "MEDIUM" if story == NOT_ESCALATED else "CRITICAL"},
                "Title": f"Storm finding {number} ({story} {n})", "Description": "Imported by the storm test.",
                "Resources": [{"Type": "Other", "Id": f"storm-resource-{number}", "Region": AGGREGATION_REGION}],
            }))
    client = hubsync.sandbox.securityhub_client()
    result = client.batch_import_findings(Findings=[f.data for f in findings])
    assert result["FailedCount"] == 0, result["FailedFindings"][:1]
    return findings


def current_asff(hubsync: Hubsync, finding_id: str | None = None) -> dict[str, dict[str, Any]]:
    """The storm's findings (or one) as Security Hub holds them and puts them in its events, by Id."""
    client = hubsync.sandbox.securityhub_client()
    filters = {"GeneratorId": [{"Value": "storm", "Comparison": "EQUALS"}]}
    if finding_id is not None:
        filters["Id"] = [{"Value": finding_id, "Comparison": "EQUALS"}]
    pages = client.get_paginator("get_findings").paginate(Filters=filters)
    return {data["Id"]: data for page in pages for data in page["Findings"]}


def storm_events(hubsync: Hubsync, findings: list[StoryFinding], rng: random.Random) -> list[dict[str, Any]]:
    """5 Imported events per finding, shuffled: one event delivered 3 times (its id each time) and 2 fresh ones."""
    world = hubsync.sandbox.aws_world
    assert world is not None
    now = datetime.now(UTC)
    events = []
    held = current_asff(hubsync)
    assert sorted(held) == sorted(f.data["Id"] for f in findings)
    for data in held.values():
        first = imported_event(data, world.security_account.id, AGGREGATION_REGION, now)
        fresh = [imported_event(data, world.security_account.id, AGGREGATION_REGION, now) for _ in range(2)]
        events += [first, dict(first), dict(first), *fresh]
    assert len(events) == EVENTS_PER_FINDING * len(findings)
    assert len({event["id"] for event in events}) == 3 * len(findings)
    rng.shuffle(events)
    return events


def send_storm(hubsync: Hubsync, events: list[dict[str, Any]]) -> None:
    """Post the events from several senders at once, spread over STORM_SECONDS."""
    gap = STORM_SECONDS * SENDERS / len(events)

    def sender(mine: list[dict[str, Any]]) -> None:
        for event in mine:
            hubsync.post(event)
            time.sleep(gap)

    with ThreadPoolExecutor(SENDERS, thread_name_prefix="storm-sender") as pool:
        for future in [pool.submit(sender, events[n::SENDERS]) for n in range(SENDERS)]:
            future.result(TIMEOUT)


def act_on_tickets(hubsync: Hubsync, findings: list[StoryFinding], deadline: float) -> None:
    """People and providers, during the storm: as each finding gets its ticket, its story happens to it.

    Clicks reach hubsync as Jira's signed webhooks; an archive as the Imported event Security Hub emits for it."""
    world = hubsync.sandbox.jira_cloud
    waiting = [f for f in findings if f.story not in (LEFT_OPEN, NOT_ESCALATED)]
    while waiting:
        assert time.monotonic() < deadline, f"{len(waiting)} findings never got a ticket during the storm"
        for finding in list(waiting):
            ticket = hubsync.ticket_of(finding)
            if ticket is None:
                continue
            waiting.remove(finding)
            if finding.story == ARCHIVED:
                archive(hubsync, finding)
                continue
            who, names = CLICKS[finding.story]
            actor = world.user_by_email(who)
            assert actor is not None
            for name in names:
                transition = next(t for t in world.transitions(ticket) if t.name == name)
                world.transition_issue(ticket, transition.id, actor)
        time.sleep(0.05)


def archive(hubsync: Hubsync, finding: StoryFinding) -> None:
    """The provider reports the finding ARCHIVED (a new evaluation); its Imported event reaches the intake."""
    later = (datetime.now(UTC) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    client = hubsync.sandbox.securityhub_client()
    result = client.batch_import_findings(Findings=[{**finding.data, "RecordState": "ARCHIVED", "UpdatedAt": later}])
    assert result["FailedCount"] == 0, result["FailedFindings"]
    world = hubsync.sandbox.aws_world
    assert world is not None
    data = current_asff(hubsync, finding.data["Id"])[finding.data["Id"]]
    hubsync.post(imported_event(data, world.security_account.id, AGGREGATION_REGION, datetime.now(UTC)))


def wait_until_drained(hubsync: Hubsync, workers: Workers, deadline: float) -> None:
    """Until Jira has delivered every webhook and the queue holds nothing waiting or in flight, twice in a row
    (a webhook delivered between the two looks would show in the second)."""
    quiet = 0
    while quiet < 2:
        assert time.monotonic() < deadline, f"{hubsync.queue.depth()} hints still queued after {TIMEOUT:.0f} s"
        assert workers.all_running(), "a worker process exited during the storm"
        deliveries = hubsync.jira_deliveries(wait_ms=2000)
        quiet = quiet + 1 if deliveries["idle"] and hubsync.queue.depth() == 0 else 0
        if quiet < 2:
            time.sleep(0.2)


# -- the proof --------------------------------------------------------------------------------------------------
def test_a_storm_on_four_worker_processes_makes_one_ticket_per_finding_and_converges(hubsync: Hubsync) -> None:
    rng = random.Random(5)
    findings = import_findings(hubsync)
    events = storm_events(hubsync, findings, rng)
    deadline = time.monotonic() + TIMEOUT
    workers = Workers(hubsync)
    try:
        with LockWatch(hubsync.store.engine) as locks, ThreadPoolExecutor(2, thread_name_prefix="storm") as pool:
            storm = pool.submit(send_storm, hubsync, events)
            people = pool.submit(act_on_tickets, hubsync, findings, deadline)
            storm.result(TIMEOUT)
            people.result(TIMEOUT)
            wait_until_drained(hubsync, workers, deadline)
    finally:
        codes = workers.stop()

    # The workers stopped on SIGTERM, cleanly, and none of them logged a warning or an error.
    assert codes == [0] * WORKERS, [workers.output(n) for n in range(WORKERS)]
    for n in range(WORKERS):
        out, err = workers.output(n)
        assert "hubsync worker stopped." in out, out
        logged = [line for line in (out + err).splitlines() if line.strip() and not line.startswith("hubsync worker")]
        assert logged == [], f"worker {n} logged:\n" + "\n".join(logged[:20])
    # They worked side by side: several processes held findings' sync locks at the same moment. (Not "each of the
    # four was seen": a 20 ms sampler can miss a worker's short holds, and on a busy machine the last worker to
    # start may find the queue already taken; neither says anything about hubsync.)
    assert locks.most_at_once >= 2, locks.holders
    assert len(locks.holders) >= 2, locks.holders
    assert hubsync.posted.count(202) == len(hubsync.posted) == len(events) + STORY_SHARES[ARCHIVED]
    assert hubsync.queue.dead() == []
    deliveries = hubsync.jira_deliveries()["deliveries"]
    webhooks = [d for d in deliveries if d["event"] == "jira:issue_updated"]
    assert webhooks and all(d["status"] == 204 for d in webhooks), webhooks[:3]

    # Exactly one ticket per escalated finding, whichever side is asked; none for the rest.
    world = hubsync.sandbox.jira_cloud
    with hubsync.store.read() as uow:
        links = {f.key: uow.links.get(hubsync.tenant.id, f.key) for f in findings}
        created = {f.key: [e for e in uow.audit.for_finding(hubsync.tenant.id, f.key)
                           if "CreateTicket" in e.action and e.outcome == "ok"] for f in findings}
    for finding in findings:
        marked = world.search_keys(f'labels = "{marker_label(finding.key)}"')
        if finding.story == NOT_ESCALATED:
            assert (marked, links[finding.key], created[finding.key]) == ([], None, []), finding.story
            continue
        link = links[finding.key]
        assert link is not None and marked == [link.ticket_key], (finding.story, marked, link)
        assert len(created[finding.key]) == 1, (finding.story, created[finding.key])

    # Every pair ended where its story leads.
    ctx = hubsync.context()
    current = ctx.securityhub.get([f.identifier for f in findings])
    tickets = ctx.jira.get_tickets([link.ticket_key for link in links.values() if link and link.ticket_key])
    for finding in findings:
        now = current[finding.key]
        if finding.story == NOT_ESCALATED:
            assert now.workflow_status is WorkflowStatus.NEW
            continue
        link = links[finding.key]
        assert link is not None and link.ticket_key is not None
        ticket = tickets[link.ticket_key]
        got = (now.workflow_status, ctx.policy.disposition_of(ticket))
        assert got == EXPECTED[finding.story], (finding.story, ticket.key, ticket.status, got)
        assert now.user_defined_fields.get("jiraIssue") == ticket.key
        if finding.story == FALSE_POSITIVE:
            assert now.verification_state == "FALSE_POSITIVE"
        if finding.story == ARCHIVED:
            assert not now.is_live

    # And nothing is left to do: a full reconcile would change nothing.
    final = reconcile(ctx, dry_run=True)
    assert final.failed == [] and final.changed == [], [(o.rule, o.reason) for o in final.outcomes][:5]
    assert final.links_seen == len(findings) - STORY_SHARES[NOT_ESCALATED]

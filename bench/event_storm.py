"""How fast hubsync takes Security Hub's events in and turns them into tickets: an event storm through the HTTP
endpoint, worked by `hubsync worker` processes, against the sandbox.

Set-up (not measured): the sandbox (Security Hub started empty, Jira Cloud, moto) in this process; `hubsync serve`
(gunicorn, 2 processes) on a loopback port, installed into the Jira Cloud simulator through the Connect flow and
configured with one escalation rule that matches every finding; the findings imported into the Security Hub
simulator first (clones of the sandbox's seed findings: every product, severity, account and Region), and their
Imported events built from what GetFindings returns, as Security Hub would put them on EventBridge. Then the
workers start and a separate sender process posts the events to `POST /events/securityhub/<tenant>` from several
connections at once, shuffled, each finding's events spread through the storm. hubsync's own writes are not echoed
back as events (the simulator's event targets are removed); Jira's webhooks about them are, as Jira sends them.

Database: PostgreSQL when `--database-url` or HUBSYNC_TEST_POSTGRES_URL names a server (a fresh schema, dropped
afterwards), with `--workers` processes (default 2) of `--threads` threads each (default 2). Without it, SQLite
(a scratch file) with one worker process of `--threads` threads: SQLite's sync locks live inside a process, so it
takes one worker process (many need PostgreSQL).

The figures:
  events/s accepted   events posted ÷ the time from the first post to the last 202 (the intake only queues them)
  bare route          the same events, senders and gunicorn options (`hubsync serve`'s own) posted to an app whose
                      one route reads the body and answers 202, just before the storm (workers started, idle):
                      what the stack serves doing nothing, and the intake's ratio to it
  intake latency      p50 / p99 of one POST, sent → 202 (the hints are durably queued by then)
  findings/s synced   findings given a ticket ÷ the time from the first event sent to the last ticket's audit entry
  event → ticket      p50 / p95 from a finding's first event sent to the audit entry of its ticket's creation
                      (written once the ticket exists and the finding is NOTIFIED; checked for every finding at
                      the end); under a burst it is mostly time waiting in the queue behind earlier events
  requests/finding    each simulator's own counters (Jira by route, Security Hub by operation), from the first event
                      to the drained queue, ÷ findings; and the webhooks Jira sent hubsync about hubsync's own changes
                      (each one a request to the intake's neighbour, dropped at once). STS and Organizations go to
                      moto, which counts nothing: bench/sync_engine.py counts them from hubsync's side.
The simulators run in this process and the workers, web server and sender in theirs, all on this machine: on two
cores they compete for the same CPUs, so the figures are a floor, not a ceiling.

    .venv/bin/python bench/event_storm.py [--events 10000] [--per-finding 2] [--workers 2] [--threads 2]
                                          [--senders 8] [--rate 0] [--database-url postgresql+psycopg://...]
                                          [--no-bare] [--json FILE]

At low load (`--rate 5 --per-finding 1 --no-bare`) event → ticket is the event path's own latency, not time
queued behind a burst. `--json FILE` also writes the headline figures there (bench/summary.py reads them).
Prints its figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

from hubsync.adapters.queue import LocalQueue
from hubsync.adapters.store import SecretBox, Store, create_engine, upgrade
from hubsync.adapters.store.models import AuditRow
from hubsync.domain.finding import FindingIdentifier
from hubsync.domain.tenant import Tenant
from hubsync.web.events import API_KEY_HEADER
from hubsync_sandbox import seed
from hubsync_sandbox.connected import configure_installed
from hubsync_sandbox.httpserver import free_port
from hubsync_sandbox.jira import seed as jira_seed
from hubsync_sandbox.runner import AGGREGATION_REGION, REGIONS, Sandbox
from hubsync_sandbox.securityhub.events import imported_event

SECRET_KEY = "event-storm-bench-secret-key-0123456789-abcdef"
MATCH_EVERYTHING = {"name": "all", "min_severity": "INFORMATIONAL"}
PROGRESS_EVERY_S = 15
DRAIN_TIMEOUT_S = 3600


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000, help="Imported events to post (default 10000)")
    parser.add_argument("--per-finding", type=int, default=2,
                        help="events per finding, each with its own id (default 2: 5,000 findings for 10,000)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes on PostgreSQL (default 2)")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker process (default 2)")
    parser.add_argument("--senders", type=int, default=8, help="concurrent connections posting events (default 8)")
    parser.add_argument("--rate", type=float, default=0.0, help="events per second to send (default 0: at once)")
    parser.add_argument("--database-url", default=os.environ.get("HUBSYNC_TEST_POSTGRES_URL", ""),
                        help="a PostgreSQL server (default HUBSYNC_TEST_POSTGRES_URL; empty: SQLite, one worker)")
    parser.add_argument("--no-bare", action="store_true", help="skip the bare 202 route's run")
    parser.add_argument("--json", type=Path, help="also write the headline figures to this file")
    parser.add_argument("--serve-bare", metavar="BIND", help=argparse.SUPPRESS)  # the bare route's server process
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a stopped run still stops its processes and schema
    findings_count = max(1, args.events // max(1, args.per_finding))
    events_count = findings_count * max(1, args.per_finding)

    started = time.perf_counter()
    with ExitStack() as stack:
        scratch = Path(tempfile.mkdtemp(prefix="hubsync-event-storm-"))
        stack.callback(shutil.rmtree, scratch, True)
        if args.database_url:
            database, workers = stack.enter_context(postgres_schema(args.database_url)), max(1, args.workers)
            where = f"PostgreSQL ({sa.make_url(args.database_url).render_as_string(hide_password=True)})"
        else:
            database, workers = f"sqlite:///{scratch / 'hubsync.sqlite3'}", 1
            where = "SQLite (no --database-url / HUBSYNC_TEST_POSTGRES_URL: one worker process)"
        print(f"hubsync event storm: {events_count:,} Imported events for {findings_count:,} findings through the "
              f"HTTP intake; {workers} worker process(es) x {args.threads} threads on {where}\n", flush=True)
        bench = stack.enter_context(running_hubsync(database, scratch))
        findings = import_findings(bench, findings_count)
        events = build_events(bench, findings, args.per_finding)
        print(f"set-up: {findings_count:,} findings imported, {len(events):,} events built "
              f"({time.perf_counter() - started:.0f} s)", flush=True)

        before = bench.counters()
        processes = stack.enter_context(worker_processes(bench, workers, args.threads, scratch))
        bare = None if args.no_bare else bare_route_rate(bench, events, args.senders, args.rate, scratch)
        storm_started = time.time()
        with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as sender:
            posting = sender.submit(send_events, bench.events_url, bench.events_key, events, args.senders, args.rate)
            sent = wait_for_posting(bench, posting)
        drained_at = wait_until_drained(bench, processes, storm_started)
        after = bench.counters()
        figures = report(bench, findings, sent, storm_started, drained_at, before, after, bare)
    print(f"\nbenchmark took {(time.perf_counter() - started) / 60:.1f} min")
    if args.json:
        figures.update(events=events_count, findings=findings_count, rate=args.rate, database=where.split(" ")[0],
                       workers=workers, threads=args.threads, senders=args.senders)
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


# -- hubsync and the sandbox ----------------------------------------------------------------------------------------
@dataclass
class Bench:
    sandbox: Sandbox
    store: Store
    queue: LocalQueue
    tenant: Tenant
    events_url: str
    events_key: str
    environment: dict[str, str]  # what hubsync's processes run with

    @property
    def jira_url(self) -> str:
        return self.sandbox.jira_cloud_server.url

    def counters(self) -> dict[str, Counter[str]]:
        """Every request counter: the Jira simulator's by route, Security Hub's by operation, Jira's webhooks."""
        jira = requests.get(f"{self.jira_url}/_sandbox/counters", timeout=30).json()
        deliveries = requests.get(f"{self.jira_url}/_sandbox/connect/deliveries", timeout=60).json()["deliveries"]
        return {
            "Jira": Counter(jira),
            "Security Hub": Counter(self.sandbox.securityhub.knobs.counters()),
            "webhooks": Counter(d["event"] for d in deliveries),
        }


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    schema = f"hubsync_bench_{secrets.token_hex(6)}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        separator = "&" if "?" in url else "?"
        yield f"{url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def running_hubsync(database: str, scratch: Path) -> Iterator[Bench]:
    """The sandbox, and `hubsync serve` installed into its Jira Cloud site through Connect and configured."""
    with Sandbox(seed_findings=False) as sandbox, sandbox.exported():
        events = sandbox.securityhub.events
        for target in events.targets():  # the bench posts the events itself
            events.remove_target(target["id"])
        store = Store(create_engine(database), SecretBox([SECRET_KEY]))
        upgrade(store.engine)
        port = free_port()
        environment = {
            **os.environ,
            "HUBSYNC_DATABASE_URL": database,
            "HUBSYNC_SECRET_KEY": SECRET_KEY,
            "HUBSYNC_BASE_URL": f"http://127.0.0.1:{port}",
            "HUBSYNC_ALLOWED_JIRA_HOSTS": sandbox.jira_cloud_server.url.removeprefix("http://"),
            "HUBSYNC_QUEUE_URL": "",
            "HUBSYNC_EVENTS_QUEUE_URL": "",
            "HUBSYNC_LOG_LEVEL": "WARNING",
        }
        with (scratch / "serve.log").open("wb") as log:
            server = subprocess.Popen([sys.executable, "-m", "hubsync.cli", "serve", "--bind", f"127.0.0.1:{port}",
                                       "--workers", "2"], env=environment, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_up(f"http://127.0.0.1:{port}/healthz", server, scratch / "serve.log")
            installed = requests.post(f"{sandbox.jira_cloud_server.url}/_sandbox/connect/install",
                                      json={"descriptorUrl": f"http://127.0.0.1:{port}/atlassian-connect.json"},
                                      timeout=60)
            assert installed.status_code == 200, installed.text
            default = sandbox.jira_cloud.user_by_email(jira_seed.SANDBOX_JIRA_DEFAULT_ASSIGNEE_EMAIL)
            assert default is not None
            policy = {"project_key": "SEC", "issue_type": "Task", "rules": [MATCH_EVERYTHING],
                      "default_assignee": default.account_id}
            tenant = configure_installed(store, sandbox, installed.json()["clientKey"], policy)
            with store.transaction() as uow:
                key = uow.tenants.regenerate_events_api_key(tenant.id)
            yield Bench(sandbox, store, LocalQueue(store.engine), tenant,
                        f"http://127.0.0.1:{port}/events/securityhub/{tenant.id}", key, environment)
        finally:
            stop([server])
            store.dispose()


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"hubsync serve exited ({process.returncode}):\n{log.read_text()[-2000:]}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"hubsync serve did not answer {url} in {timeout_s:.0f} s")


@contextmanager
def worker_processes(bench: Bench, count: int, threads: int, scratch: Path) -> Iterator[list[subprocess.Popen]]:
    """`hubsync worker` processes (no periodic reconcile: the events do the work); stopped with SIGTERM."""
    processes = []
    for n in range(count):
        with (scratch / f"worker-{n}.log").open("wb") as log:
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "hubsync.cli", "worker", "--concurrency", str(threads),
                 "--reconcile-interval", "0"],
                env=bench.environment, stdout=log, stderr=subprocess.STDOUT,
            ))
    try:
        yield processes
    finally:
        codes = stop(processes)
        if any(code != 0 for code in codes):
            print(f"worker exit codes {codes}; their output is in {scratch}")
        for n in range(count):
            lines = [line for line in (scratch / f"worker-{n}.log").read_text().splitlines()
                     if line.strip() and not line.startswith("hubsync worker")]
            if lines:
                print(f"worker {n} logged {len(lines)} lines, e.g.: {lines[0][:300]}")


def stop(processes: list[subprocess.Popen[bytes]], timeout_s: float = 30) -> list[int | None]:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    codes: list[int | None] = []
    for process in processes:
        try:
            codes.append(process.wait(timeout_s))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            codes.append(None)
    return codes


# -- the bare route: the same server stack answering 202 and nothing else --------------------------------------------
BARE_PATH = "/events/securityhub/<tenant>"


def serve_bare(bind: str) -> None:
    """`hubsync serve`'s gunicorn with its own options, running an app whose one route reads the body and answers
    202 (in the process `--serve-bare` starts)."""
    from flask import Flask, request

    from hubsync.config import Settings
    from hubsync.web import server

    app = Flask("bare")

    @app.post(BARE_PATH)
    def accept(tenant: str) -> tuple[str, int]:
        request.get_data()
        return "", 202

    server._Gunicorn.load = lambda self: app  # type: ignore[method-assign]  # the same options, another app
    server.serve(bind, 2, Settings.from_environment())


def bare_route_rate(bench: Bench, events: list[dict[str, Any]], senders: int, rate: float,
                    scratch: Path) -> float | None:
    """Events/s the bare route accepts for the same events from the same sender; None when it fails."""
    port = free_port()
    with (scratch / "bare.log").open("wb") as log:
        server = subprocess.Popen([sys.executable, __file__, "--serve-bare", f"127.0.0.1:{port}"],
                                  env=bench.environment | {"HUBSYNC_BASE_URL": f"http://127.0.0.1:{port}"},
                                  stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_posts(f"http://127.0.0.1:{port}/events/securityhub/bare", server, scratch / "bare.log")
        with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as sender:
            sent = sender.submit(send_events, f"http://127.0.0.1:{port}/events/securityhub/bare", "unused", events,
                                 senders, rate).result()
    finally:
        stop([server])
    accepted = [s for s in sent if s.status == 202]
    started, last_answer = min(s.at for s in sent), max(s.at + s.seconds for s in sent)
    if len(accepted) < len(sent):
        print(f"bare route: {len(sent) - len(accepted):,} of {len(sent):,} posts not answered 202 "
              f"({dict(Counter(s.status for s in sent if s.status != 202))})")
        return None
    print(f"bare route: {len(accepted):,} events in {last_answer - started:.1f} s\n", flush=True)
    return len(accepted) / (last_answer - started)


def wait_until_posts(url: str, process: subprocess.Popen[bytes], log: Path, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the bare route's server exited ({process.returncode}):\n{log.read_text()[-2000:]}")
        try:
            if requests.post(url, data=b"{}", timeout=2).status_code == 202:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the bare route's server did not answer {url} in {timeout_s:.0f} s")


# -- the findings and their events ----------------------------------------------------------------------------------
def import_findings(bench: Bench, count: int) -> list[dict[str, Any]]:
    """New, live findings cloned from the seed (so neither Id nor control + resource + account repeats),
    imported in their own Regions 100 a call."""
    world = bench.sandbox.aws_world
    assert world is not None
    templates = seed.seed_findings([a.id for a in world.workload_accounts], REGIONS, now=datetime.now(UTC))
    findings = []
    for n in range(count):
        finding = copy.deepcopy(templates[n % len(templates)])
        finding["Id"] = f"{finding['Id']}-storm-{n}"
        finding["Resources"][0]["Id"] = f"{finding['Resources'][0]['Id']}-storm-{n}"
        finding["RecordState"] = "ACTIVE"
        finding.pop("Workflow", None)
        finding["ProductFields"] = {k: v for k, v in finding["ProductFields"].items()
                                    if not k.startswith("ArchivalReasons")}
        if "Compliance" in finding:
            finding["Compliance"]["Status"] = "FAILED"
        findings.append(finding)
    for region in REGIONS:
        in_region = [f for f in findings if f["Resources"][0]["Region"] == region]
        client = bench.sandbox.securityhub_client(region)
        for start in range(0, len(in_region), 100):
            result = client.batch_import_findings(Findings=in_region[start : start + 100])
            assert result["FailedCount"] == 0, result["FailedFindings"][:1]
    return findings


def build_events(bench: Bench, findings: list[dict[str, Any]], per_finding: int) -> list[dict[str, Any]]:
    """`per_finding` Imported events per finding, each with its own id, carrying the finding as GetFindings returns
    it (as Security Hub's events do); shuffled, so a finding's events are spread through the storm."""
    world = bench.sandbox.aws_world
    assert world is not None
    wanted = {f["Id"] for f in findings}
    client = bench.sandbox.securityhub_client()
    held = [data for page in client.get_paginator("get_findings").paginate(PaginationConfig={"PageSize": 100})
            for data in page["Findings"] if data["Id"] in wanted]
    assert len(held) == len(findings), f"Security Hub holds {len(held)} of the {len(findings)} findings"
    now = datetime.now(UTC)
    events = [imported_event(data, world.security_account.id, AGGREGATION_REGION, now)
              for data in held for _ in range(max(1, per_finding))]
    random.Random(10_000).shuffle(events)
    return events


# -- sending (in its own process, so the simulators' work in this one does not delay it) --------------------------
@dataclass(frozen=True)
class Sent:
    finding_key: str
    at: float  # epoch seconds, when the POST began
    seconds: float  # until the answer
    status: int


def send_events(url: str, key: str, events: list[dict[str, Any]], senders: int, rate: float) -> list[Sent]:
    """POST each event on one of `senders` keep-alive connections; `rate` > 0 paces the whole storm."""
    start = time.monotonic()
    headers = {"Content-Type": "application/json", API_KEY_HEADER: key}

    def send(mine: list[tuple[int, dict[str, Any]]]) -> list[Sent]:
        session = requests.Session()
        done = []
        for index, event in mine:
            if rate > 0:
                time.sleep(max(0.0, start + index / rate - time.monotonic()))
            finding = event["detail"]["findings"][0]
            began, clock = time.time(), time.perf_counter()
            try:
                status = session.post(url, data=json.dumps(event), headers=headers, timeout=60).status_code
            except requests.RequestException:
                status = 0
            done.append(Sent(FindingIdentifier(finding["Id"], finding["ProductArn"]).key, began,
                             time.perf_counter() - clock, status))
        return done

    numbered = list(enumerate(events))
    with ThreadPoolExecutor(senders) as pool:
        parts = list(pool.map(send, [numbered[n::senders] for n in range(senders)]))
    return [sent for part in parts for sent in part]


def wait_for_posting(bench: Bench, posting: Any) -> list[Sent]:
    last = time.monotonic()
    while not posting.done():
        time.sleep(0.5)
        if time.monotonic() - last >= PROGRESS_EVERY_S:
            last = time.monotonic()
            print(f"  posting... queue depth {bench.queue.depth():,}", flush=True)
    return posting.result()


def wait_until_drained(bench: Bench, processes: list[subprocess.Popen[bytes]], started: float) -> float:
    """Until nothing is waiting or in flight on the queue, and Jira has delivered its webhooks (twice in a row);
    returns the epoch time it drained."""
    quiet, last = 0, time.monotonic()
    while quiet < 2:
        if time.time() - started > DRAIN_TIMEOUT_S:
            raise SystemExit(f"the queue did not drain in {DRAIN_TIMEOUT_S} s")
        if any(process.poll() is not None for process in processes):
            raise SystemExit("a worker process exited during the storm")
        depth = bench.queue.depth()
        idle = requests.get(f"{bench.jira_url}/_sandbox/connect/deliveries", params={"wait_ms": 1},
                            timeout=60).json()["idle"]
        quiet = quiet + 1 if depth == 0 and idle else 0
        if time.monotonic() - last >= PROGRESS_EVERY_S:
            last = time.monotonic()
            print(f"  draining... queue depth {depth:,}", flush=True)
        time.sleep(0.25)
    return time.time()


# -- the figures ----------------------------------------------------------------------------------------------------
def report(bench: Bench, findings: list[dict[str, Any]], sent: list[Sent], started: float, drained_at: float,
           before: dict[str, Counter[str]], after: dict[str, Counter[str]], bare: float | None) -> dict[str, Any]:
    """Prints the figures; returns the headline ones (for `--json`)."""
    n = len(findings)
    accepted = [s for s in sent if s.status == 202]
    last_answer = max(s.at + s.seconds for s in sent)
    print(f"\n== Intake: {len(sent):,} events posted, {len(accepted):,} accepted (202)"
          + (f", others {dict(Counter(s.status for s in sent if s.status != 202))}" if len(accepted) < len(sent)
             else ""))
    per_second = len(accepted) / (last_answer - started)
    print(f"events/s accepted   {per_second:,.0f}  "
          f"({last_answer - started:.1f} s from the first post to the last answer)")
    if bare:
        print(f"bare 202 route      {bare:,.0f} events/s on the same stack; the intake serves {per_second / bare:.2f} "
              "of it")
    latencies = sorted(s.seconds * 1000 for s in sent)
    print(f"intake latency      p50 {percentile(latencies, 50):.1f} ms, p99 {percentile(latencies, 99):.1f} ms, "
          f"max {latencies[-1]:.1f} ms")
    figures: dict[str, Any] = {
        "posted": len(sent), "accepted": len(accepted), "accepted_per_s": per_second, "bare_per_s": bare,
        "intake_p50_ms": percentile(latencies, 50), "intake_p99_ms": percentile(latencies, 99),
    }

    created = ticket_creations(bench)
    first_sent: dict[str, float] = {}
    for s in sent:
        first_sent[s.finding_key] = min(s.at, first_sent.get(s.finding_key, s.at))
    keys = [FindingIdentifier(f["Id"], f["ProductArn"]).key for f in findings]
    with_ticket = [key for key in keys if key in created]
    notified = count_notified(bench, findings)
    creations = sum(len(times) for times in created.values())
    print(f"\n== Sync: {len(with_ticket):,} of {n:,} findings got a ticket ({creations:,} creations), "
          f"{notified:,} NOTIFIED; {len(bench.queue.dead()):,} hints dead-lettered")
    if with_ticket:
        last_ticket = max(min(created[key]) for key in with_ticket)
        print(f"findings/s synced   {len(with_ticket) / (last_ticket - started):,.1f}  "
              f"({last_ticket - started:.1f} s from the first event to the last ticket; drained after "
              f"{drained_at - started:.1f} s)")
        waits = sorted(min(created[key]) - first_sent[key] for key in with_ticket)
        print(f"event -> ticket     p50 {percentile(waits, 50):.2f} s, p95 {percentile(waits, 95):.2f} s, "
              f"max {waits[-1]:.2f} s")
        figures.update(event_to_ticket_p50_s=percentile(waits, 50), event_to_ticket_p95_s=percentile(waits, 95))
    figures.update(with_ticket=len(with_ticket), notified=notified, dead=len(bench.queue.dead()))

    print(f"\n== Requests per finding (÷ {n:,}), from the first event to the drained queue")
    for side in ("Jira", "Security Hub"):
        spent = +(after[side] - before[side])
        total = sum(spent.values())
        print(f"  {side:<32} {total / n:8.3f}  ({total:,})")
        for operation, count in sorted(spent.items(), key=lambda item: -item[1]):
            print(f"    {operation:<48} {count / n:8.3f}  ({count:,})")
    webhooks = +(after["webhooks"] - before["webhooks"])
    print(f"  Jira webhooks sent to hubsync    {sum(webhooks.values()) / n:8.3f}  ({sum(webhooks.values()):,}; "
          "nobody but hubsync touches the tickets here, and hubsync drops those about its own changes)")
    return figures


def ticket_creations(bench: Bench) -> dict[str, list[float]]:
    """Epoch times of each finding's CreateTicket audit entries (written once ticket and finding are updated)."""
    audit = AuditRow.__table__
    statement = sa.select(audit.c.finding_key, audit.c.at).where(
        audit.c.tenant_id == bench.tenant.id, audit.c.action.like("%CreateTicket%"), audit.c.outcome == "ok"
    )
    created: dict[str, list[float]] = {}
    with bench.store.engine.connect() as connection:
        for key, at in connection.execute(statement):
            at = at if at.tzinfo else at.replace(tzinfo=UTC)
            created.setdefault(key, []).append(at.timestamp())
    return created


def count_notified(bench: Bench, findings: list[dict[str, Any]]) -> int:
    wanted = {f["Id"] for f in findings}
    client = bench.sandbox.securityhub_client()
    filters = {"WorkflowStatus": [{"Value": "NOTIFIED", "Comparison": "EQUALS"}]}
    return sum(1 for page in client.get_paginator("get_findings").paginate(Filters=filters)
               for data in page["Findings"] if data["Id"] in wanted)


def percentile(ordered: list[float], p: float) -> float:
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[min(98, max(0, round(p) - 1))]


if __name__ == "__main__":
    main()

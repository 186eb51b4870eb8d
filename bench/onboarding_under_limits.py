"""Onboarding under emulated rate limits, on Security Hub CSPM and on the new Security Hub (V2), side by side.

The same backlog on each generation, each on a fresh sandbox: N new findings (the sandbox's seed findings of
controls, GuardDuty and Inspector, cloned; V2 ingests all three, so each has its OCSF twin), all matching the
tenant's one rule, turned into tickets by one `reconcile` with the sandbox's rate limits on. The CSPM tenant reads
and updates the ASFF findings (GetFindings, BatchUpdateFindings), the V2 tenant their OCSF twins (GetFindingsV2,
BatchUpdateFindingsV2). Then a second `reconcile` reads every linked finding back by id, as each periodic one does.

Limits: the Security Hub simulator throttles per operation, account and Region; the Jira simulator answers 429 past
`--jira-rate` requests a second (bursts of `--jira-burst`), and hubsync's Jira budget is set to the same figures, as
an operator would (`HUBSYNC_JIRA_RATE`, `HUBSYNC_JIRA_BURST`). CSPM's limits are the documented ones (GetFindings
3/s, bursts of 6; BatchUpdateFindings 10/s, bursts of 30). ASSUMED: AWS publishes no limit for the V2 operations;
the sandbox throttles GetFindingsV2 like GetFindings and BatchUpdateFindingsV2 like BatchUpdateFindings, so the V2
times are only as good as that assumption (the request counts do not depend on it).

The table, one column per generation; requests are given with their number per finding:
  GetFindings(V2), scan     the paged read of new findings (100 a page; each reconcile also reads those whose note
                            or comment starts with #jira)
  GetFindings(V2), by id    reads of findings by id: CSPM names 20 Ids a call, V2 up to 200 metadata.uids, of which
                            the sync asks 100 (a batch); onboarding reads none, the next reconcile reads every link
  BatchUpdateFindings(V2)   writes. One call carries up to 100 findings that take the same status and note (V2:
                            StatusId and Comment), but hubsync's note names each finding's own ticket: onboarding
                            writes group only as far as "findings per BatchUpdateFindings(V2)" shows
  until every finding has a ticket             from the reconcile's start until Jira holds a new ticket for each
  until every finding is NOTIFIED with its key  until each is NOTIFIED (V2: In Progress) carrying its ticket's key
                            (CSPM: UserDefinedFields.jiraIssue and the note; V2, which has neither: the comment)
  floor                     the least time the limits allow the requests Security Hub and Jira received: each
                            API's requests beyond its burst (its bucket starts full) divided by its rate, the
                            slowest API's figure; the ratio to it targets <= 1.3
The requests are split by use on hubsync's side (its client's own count, retries included) and checked against
what the Security Hub simulator received. "Nothing dropped" checks each finding's link, its ticket in Jira, and that
the key it carries is its link's.

    .venv/bin/python bench/onboarding_under_limits.py [--findings 1000] [--generations cspm,v2]
        [--jira-rate 10] [--jira-burst 20] [--json FILE]

`--json FILE` also writes each generation's headline figures there (bench/summary.py reads them), among them two
ratios the table does not show: until every finding has a ticket ÷ Jira's floor for the tickets (the bulk create
requests ÷ Jira's rate, no burst counted), and until every finding carries its key ÷ Security Hub's floor (the
slowest Security Hub operation's, as "floor" above but without Jira).

The writes bind (one BatchUpdateFindings(V2) per finding at 10/s): the default 1,000 findings take about 4 minutes
for both generations, `--findings 5000` about 18 (the time 10,000 on CSPM alone took before V2 joined), `--findings
10000` about 40.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import requests
from prometheus_client import REGISTRY
from sync_engine import FindingFactory, Meter, Requests, bench_demo

from hubsync import bootstrap
from hubsync.adapters import rate_limits
from hubsync.adapters.rate_limits import Rate
from hubsync.adapters.securityhub.client_v2 import SecurityHubV2Client
from hubsync.config import Settings
from hubsync.domain.finding import Finding, FindingIdentifier, names_ticket
from hubsync.domain.link import LinkState
from hubsync.domain.plan import FindingUpdate
from hubsync.domain.ports import UpdateFailure
from hubsync.domain.tenant import SecurityHubGeneration
from hubsync.service.reconcile import ReconcileReport, reconcile
from hubsync_sandbox.demo import Demo
from hubsync_sandbox.securityhub import ocsf, throttling

TARGET = 1.3
WATCH_EVERY_S = 0.25
PROGRESS_EVERY_S = 30
GENERATIONS = {"cspm": SecurityHubGeneration.CSPM, "v2": SecurityHubGeneration.V2}
READ = {SecurityHubGeneration.CSPM: "GetFindings", SecurityHubGeneration.V2: "GetFindingsV2"}
WRITE = {SecurityHubGeneration.CSPM: "BatchUpdateFindings", SecurityHubGeneration.V2: "BatchUpdateFindingsV2"}
TICKET_KEY = re.compile(r"(?<![\w-])[A-Z][A-Z0-9_]+-\d+")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=1000, help="new matching findings to onboard (1000)")
    parser.add_argument("--generations", default="cspm,v2", help="which Security Hubs, in order (cspm,v2)")
    parser.add_argument("--jira-rate", type=float, default=10.0, help="Jira's limit, requests a second (10)")
    parser.add_argument("--jira-burst", type=int, default=20, help="Jira's burst, requests (20)")
    parser.add_argument("--json", type=Path, help="also write the headline figures to this file")
    args = parser.parse_args()
    names = [name.strip().lower() for name in args.generations.split(",") if name.strip()]
    unknown = sorted(set(names) - set(GENERATIONS))
    if unknown or not names:
        parser.error(f"--generations: choose from {', '.join(GENERATIONS)}, not {', '.join(unknown) or 'none'}")
    jira_rate = Rate(args.jira_rate, args.jira_burst)
    configure_jira_budget(jira_rate)

    started = time.perf_counter()
    print(f"hubsync onboarding under emulated rate limits: {args.findings:,} new matching findings, one reconcile, "
          f"on {' and '.join(GENERATIONS[name].name for name in names)}\n"
          f"limits per account and Region: CSPM as documented, GetFindings {_rate(server_rate('GetFindings'))}, "
          f"BatchUpdateFindings {_rate(server_rate('BatchUpdateFindings'))};\n"
          f"  V2 ASSUMED (no V2 limit is published), as CSPM's: GetFindingsV2 {_rate(server_rate('GetFindingsV2'))}, "
          f"BatchUpdateFindingsV2 {_rate(server_rate('BatchUpdateFindingsV2'))}; Jira {_rate(jira_rate)} per site\n")
    runs = [run_generation(GENERATIONS[name], args.findings, jira_rate) for name in names]
    print_table(runs)
    print(f"\nbenchmark took {(time.perf_counter() - started) / 60:.1f} min; wall times include the simulators, "
          "which run in this process")
    if args.json:
        args.json.write_text(json.dumps({run.generation.name: headline(run, jira_rate) for run in runs}, indent=2)
                             + "\n")


def configure_jira_budget(jira: Rate) -> None:
    """hubsync's own budget for the site, as an operator configures it (HUBSYNC_JIRA_RATE, HUBSYNC_JIRA_BURST), set
    as `bootstrap` sets it: the demo runs hubsync in this process without bootstrapping it."""
    settings = Settings.from_environment({"HUBSYNC_JIRA_RATE": str(jira.per_second),
                                          "HUBSYNC_JIRA_BURST": str(jira.burst)})
    rate_limits.configure(jira_rate=settings.jira_rate, jira_burst=settings.jira_burst,
                          aws_share=settings.aws_rate_share)


def server_rate(operation: str) -> Rate:
    """The limit the Security Hub simulator enforces for `operation`."""
    per_second, burst = throttling.RATES.get(operation, throttling.DEFAULT_RATE)
    return Rate(per_second, burst)


# -- one generation -------------------------------------------------------------------------------------------------
@dataclass
class Phase:
    """One reconcile under the limits: what it did, what it sent, and when the backlog reached each state."""

    report: ReconcileReport
    seconds: float
    received: Requests  # by the simulators (Security Hub by operation)
    by_use: Counter[str]  # hubsync's Security Hub requests by use: scan, by id, write
    statuses: Counter[tuple[str, str]]  # hubsync's requests by service and answer
    floor: Floor
    to_tickets: float | None = None
    to_notified: float | None = None


@dataclass
class Run:
    generation: SecurityHubGeneration
    findings: int
    onboarding: Phase
    steady: Phase
    tickets: int  # distinct tickets in Jira linked to the backlog's findings
    linked: int
    carrying: int  # findings NOTIFIED with their own ticket's key
    findings_per_write: float
    notes: list[str] = field(default_factory=list)


def run_generation(generation: SecurityHubGeneration, count: int, jira: Rate) -> Run:
    print(f"== {generation.name}: {count:,} findings", flush=True)
    with bench_demo() as (demo, meter):
        started = time.perf_counter()
        asff = FindingFactory(demo).import_new(count)  # before the limits: setting up is not measured
        sim = demo.sandbox.securityhub
        if generation is SecurityHubGeneration.V2:
            twins = sim.add_ocsf_twins()
            if twins != count:
                raise RuntimeError(f"{twins:,} OCSF twins for {count:,} findings: the backlogs would differ")
            use_generation(demo, generation)
        backlog = Backlog(demo, generation, asff)
        print(f"  imported {count:,} findings in {time.perf_counter() - started:.0f} s (limits off)", flush=True)

        port = AttributedPort(demo.ctx.securityhub)
        demo.ctx = replace(demo.ctx, securityhub=port)
        limits_on(demo, jira)
        onboarding = measured_reconcile(demo, meter, port, jira, backlog, f"{generation.name} onboarding")
        steady = measured_reconcile(demo, meter, port, jira, None, f"{generation.name} steady")
        limits_off(demo)

        linked, tickets, carrying = backlog.nothing_dropped()
        writes = onboarding.by_use["write"]
        run = Run(generation, count, onboarding, steady, tickets, linked, carrying,
                  findings_per_write=(count / writes) if writes else 0.0)
        server = onboarding.received.aws[READ[generation]] + onboarding.received.aws[WRITE[generation]]
        if server != sum(onboarding.by_use.values()):
            run.notes.append(f"{generation.name}: Security Hub received {server:,} requests, hubsync counted "
                             f"{sum(onboarding.by_use.values()):,} sent")
        print(f"  onboarding reconcile {onboarding.seconds:.1f} s, steady reconcile {steady.seconds:.1f} s\n",
              flush=True)
        return run


def use_generation(demo: Demo, generation: SecurityHubGeneration) -> None:
    """The demo's tenant switched to `generation`, its sync context built again by `bootstrap` (keeping the
    benchmark's match-everything rule)."""
    with demo.store.transaction() as uow:
        tenant = uow.tenants.get(demo.ctx.tenant_id)
        assert tenant is not None
        tenant = uow.tenants.update(replace(tenant, securityhub_generation=generation))
    ctx = bootstrap.build_sync_context(tenant, demo.store)
    if generation is SecurityHubGeneration.V2 and not isinstance(ctx.securityhub, SecurityHubV2Client):
        raise RuntimeError("bootstrap.build_sync_context does not build the V2 client for a V2 tenant")
    demo.ctx = replace(ctx, policy=replace(ctx.policy, rules=demo.ctx.policy.rules))


def limits_on(demo: Demo, jira: Rate) -> None:
    """Both simulators' limits on, through their control APIs; hubsync's AWS budgets start full, as the
    simulator's fresh buckets do."""
    _ok(requests.post(f"{demo.sandbox.securityhub_server.url}/_sandbox/throttling", json={"enabled": True},
                      timeout=10))
    _ok(requests.post(f"{demo.world.base_url}/_sandbox/rate-limit",
                      json={"rate": jira.per_second, "burst": jira.burst}, timeout=10))
    rate_limits.AWS_BUDGETS.clear()


def limits_off(demo: Demo) -> None:
    _ok(requests.post(f"{demo.sandbox.securityhub_server.url}/_sandbox/throttling", json={"enabled": False},
                      timeout=10))
    _ok(requests.delete(f"{demo.world.base_url}/_sandbox/rate-limit", timeout=10))


def measured_reconcile(demo: Demo, meter: Meter, port: AttributedPort, jira: Rate, backlog: Backlog | None,
                       label: str) -> Phase:
    """One reconcile, counted and timed; with a `backlog`, watched until it reaches each state."""
    before, uses, statuses = meter.snapshot(), Counter(port.by_use), api_call_statuses()
    watch = Watch(backlog) if backlog else None
    started = time.perf_counter()
    last = [started]

    def progress(message: str) -> None:
        now = time.perf_counter()
        if now - last[0] >= PROGRESS_EVERY_S:
            last[0] = now
            print(f"  [{label}] {now - started:5.0f} s: {message}", flush=True)

    if watch:
        watch.start(started)
    try:
        report = reconcile(demo.ctx, progress=progress)
    finally:
        seconds = time.perf_counter() - started
        if watch:
            watch.stop()
    received = meter.diff(before)
    return Phase(report, seconds, received, +(port.by_use - uses), +(api_call_statuses() - statuses),
                 floor_of(received, jira), to_tickets=watch.to_tickets if watch else None,
                 to_notified=watch.to_notified if watch else None)


class AttributedPort:
    """The tenant's Security Hub port, unchanged, with the HTTP requests its client sends (retries included)
    counted by use: the paged read of new findings ("scan"), a read by id, a write."""

    def __init__(self, port: Any) -> None:
        self._port = port
        self.by_use: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._port, name)

    def findings(self, filters: Mapping[str, Any]) -> Iterator[Finding]:
        found = iter(self._port.findings(filters))
        while True:
            with self._counted("scan"):
                finding = next(found, None)
            if finding is None:
                return
            yield finding

    def get(self, identifiers: Sequence[FindingIdentifier]) -> dict[str, Finding]:
        with self._counted("by id"):
            result: dict[str, Finding] = self._port.get(identifiers)
        return result

    def update(self, updates: Sequence[tuple[FindingIdentifier, FindingUpdate]]) -> list[UpdateFailure]:
        with self._counted("write"):
            result: list[UpdateFailure] = self._port.update(updates)
        return result

    @contextmanager
    def _counted(self, use: str) -> Iterator[None]:
        before = self._port.calls.total()
        try:
            yield
        finally:
            self.by_use[use] += self._port.calls.total() - before


# -- the backlog's state, read from the simulators ------------------------------------------------------------------
class Backlog:
    """The findings being onboarded, as the simulators hold them: which ticket key each carries, and how many
    tickets Jira holds beyond those it had."""

    def __init__(self, demo: Demo, generation: SecurityHubGeneration, asff: list[dict[str, Any]]) -> None:
        self.demo = demo
        self.size = len(asff)
        self.tickets_before = len(demo.world.issues)
        sim = demo.sandbox.securityhub
        self.key_carried: Callable[[str], str | None]  # by the finding of this id
        if generation is SecurityHubGeneration.CSPM:
            product_of = {f["Id"]: f["ProductArn"] for f in asff}
            self.ids = list(product_of)
            self.key_carried = lambda fid: _asff_key(sim.findings.get(product_of[fid], fid))
        else:
            self.ids = [ocsf.metadata_uid(ocsf.v2_product_uid(f["ProductArn"]), f["Id"]) for f in asff]
            self.key_carried = lambda uid: _ocsf_key(sim.ocsf_findings.get(uid))

    def new_tickets(self) -> int:
        return len(self.demo.world.issues) - self.tickets_before

    def nothing_dropped(self) -> tuple[int, int, int]:
        """Findings linked, their distinct tickets in Jira, and findings carrying their own link's key."""
        demo = self.demo
        with demo.ctx.store.read() as uow:
            links = {link.finding_id: link for link in uow.links.iter_links(demo.ctx.tenant_id)}
        carried = {fid: self.key_carried(fid) for fid in self.ids}
        linked = {fid: link.ticket_key for fid in self.ids
                  if (link := links.get(fid)) and link.state is LinkState.LINKED and link.ticket_key}
        tickets = {key for key in linked.values() if key in demo.world.issues}
        own = sum(1 for fid, key in linked.items() if carried[fid] == key)
        return len(linked), len(tickets), own


def _asff_key(stored: Any) -> str | None:
    """The ticket key a NOTIFIED ASFF finding carries in UserDefinedFields.jiraIssue."""
    if stored is None or stored.finding.get("Workflow", {}).get("Status") != "NOTIFIED":
        return None
    key = stored.finding.get("UserDefinedFields", {}).get("jiraIssue")
    return key if isinstance(key, str) and names_ticket(stored.finding.get("Note", {}).get("Text"), key) else None


def _ocsf_key(finding: Mapping[str, Any] | None) -> str | None:
    """The ticket key an OCSF finding in progress (NOTIFIED) names in its comment."""
    if finding is None or finding.get("status_id") != 2:
        return None
    found = TICKET_KEY.search(finding.get("comment") or "")
    return found.group(0) if found else None


class Watch:
    """Reads the backlog's state every WATCH_EVERY_S from a thread of its own, noting when Jira first held a
    ticket for every finding and when every finding first carried a ticket's key. Only findings not seen carrying
    one yet are read again (onboarding does not take a key away), so the watch costs the simulators little."""

    def __init__(self, backlog: Backlog) -> None:
        self.backlog = backlog
        self._pending = set(backlog.ids)
        self.to_tickets: float | None = None
        self.to_notified: float | None = None
        self._started = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="bench-watch", daemon=True)

    def start(self, started: float) -> None:
        self._started = started
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()
        self._look()  # a state reached in the last interval is seen, if late by at most one interval

    def _watch(self) -> None:
        while not self._done.wait(WATCH_EVERY_S):
            self._look()

    def _look(self) -> None:
        now = time.perf_counter() - self._started
        if self.to_tickets is None and self.backlog.new_tickets() >= self.backlog.size:
            self.to_tickets = now
        if self.to_notified is None:
            self._pending = {fid for fid in self._pending if not self.backlog.key_carried(fid)}
            if not self._pending:
                self.to_notified = now


# -- the floor ------------------------------------------------------------------------------------------------------
@dataclass
class Floor:
    api: str
    calls: int
    rate: Rate

    @property
    def seconds(self) -> float:
        """The bucket starts full: a burst goes at once, the rest at the rate."""
        return max(0, self.calls - self.rate.burst) / self.rate.per_second


def floor_of(received: Requests, jira: Rate) -> Floor:
    """The slowest API's least time for the requests it received."""
    floors = [floor for floor in (securityhub_floor(received), Floor("Jira", received.jira_at_simulator, jira))
              if floor is not None]
    return max(floors, key=lambda f: f.seconds)


def jira_ticket_floor(received: Requests, jira: Rate) -> float:
    """The least time Jira's rate allows the ticket creates hubsync sent (bulk requests of up to 50, retries
    included), counting no burst: all a faster onboarding could wait for before every finding has a ticket."""
    return received.jira["create_tickets"] / jira.per_second


def securityhub_floor(received: Requests) -> Floor | None:
    """The slowest Security Hub operation's least time for the requests it received."""
    floors = [Floor(op, n, server_rate(op)) for op, n in received.aws.items()
              if not op.startswith(("STS ", "Organizations "))]
    return max(floors, key=lambda f: f.seconds) if floors else None


def headline(run: Run, jira: Rate) -> dict[str, Any]:
    """The figures bench/summary.py reports, for `--json`."""
    onboarding = run.onboarding
    ticket_floor = jira_ticket_floor(onboarding.received, jira)
    sh_floor = securityhub_floor(onboarding.received)
    return {
        "findings": run.findings,
        "to_tickets_s": onboarding.to_tickets,
        "jira_ticket_floor_s": ticket_floor,
        "jira_create_requests": onboarding.received.jira["create_tickets"],
        "to_tickets_per_floor": (onboarding.to_tickets / ticket_floor
                                 if onboarding.to_tickets is not None and ticket_floor else None),
        "to_notified_s": onboarding.to_notified,
        "securityhub_floor_s": sh_floor.seconds if sh_floor else None,
        "securityhub_binding": _binding(sh_floor) if sh_floor else None,
        "to_notified_per_floor": (onboarding.to_notified / sh_floor.seconds
                                  if onboarding.to_notified is not None and sh_floor and sh_floor.seconds else None),
        "nothing_dropped": _dropped(run) == "yes",
        "onboarding_wall_s": onboarding.seconds,
        "steady_wall_s": run.steady.seconds,
    }


def api_call_statuses() -> Counter[tuple[str, str]]:
    """hubsync's own count of its requests (`hubsync_api_calls_total`), by service and status."""
    found: Counter[tuple[str, str]] = Counter()
    for metric in REGISTRY.collect():
        if metric.name != "hubsync_api_calls":
            continue
        for sample in metric.samples:
            if sample.name == "hubsync_api_calls_total":
                found[(sample.labels["service"], sample.labels["status"])] += int(sample.value)
    return found


# -- the table ------------------------------------------------------------------------------------------------------
def print_table(runs: list[Run]) -> None:
    rows: list[tuple[str, list[str]]] = []

    def row(label: str, cell: Callable[[Run], str]) -> None:
        rows.append((label, [cell(run) for run in runs]))

    def section(label: str) -> None:
        rows.append((label, ["" for _ in runs]))

    row("findings", lambda r: f"{r.findings:,}")
    row("tickets (distinct, in Jira)", lambda r: f"{r.tickets:,}")
    for name, phase in (("onboarding", lambda r: r.onboarding), ("next reconcile", lambda r: r.steady)):
        section(f"{name}: requests (per finding)")
        row("  GetFindings(V2), scan", lambda r, p=phase: _per(p(r).by_use["scan"], r.findings))
        row("  GetFindings(V2), by id", lambda r, p=phase: _per(p(r).by_use["by id"], r.findings))
        row("  BatchUpdateFindings(V2)", lambda r, p=phase: _per(p(r).by_use["write"], r.findings))
        row("  Security Hub, all", lambda r, p=phase: _per(p(r).by_use.total(), r.findings))
        row("  Jira, all", lambda r, p=phase: _per(p(r).received.jira_at_simulator, r.findings))
        row("  throttled (429): Security Hub / Jira", lambda r, p=phase: _throttled(p(r)))
        if name == "onboarding":
            row("  findings per BatchUpdateFindings(V2)", lambda r: f"{r.findings_per_write:.2f}")
            row("  until every finding has a ticket", lambda r: _seconds(r.onboarding.to_tickets))
            row("  until every finding is NOTIFIED with its key", lambda r: _seconds(r.onboarding.to_notified))
        row("  wall time", lambda r, p=phase: _seconds(p(r).seconds))
        row("  floor the limits allow", lambda r, p=phase: f"{p(r).floor.seconds:.1f} s")
        row("  binding limit", lambda r, p=phase: _binding(p(r).floor))
        if name == "onboarding":
            row(f"  until NOTIFIED / floor (target <= {TARGET})",
                lambda r: _ratio(r.onboarding.to_notified, r.onboarding.floor))
        else:
            row("  wall time / floor", lambda r: _ratio(r.steady.seconds, r.steady.floor))
    row("nothing dropped (linked, own key carried)", _dropped)

    width = max(len(label) for label, _ in rows)
    cell = max(14, *(len(value) for _, values in rows for value in values))
    print(f"{'':<{width}}  " + "  ".join(f"{run.generation.name:>{cell}}" for run in runs))
    for label, values in rows:
        print(f"{label:<{width}}  " + "  ".join(f"{value:>{cell}}" for value in values))
    print("\nV2 times rest on ASSUMED limits (none is published): "
          f"GetFindingsV2 {_rate(server_rate('GetFindingsV2'))}, "
          f"BatchUpdateFindingsV2 {_rate(server_rate('BatchUpdateFindingsV2'))}.")
    print("Writes: one call carries up to 100 findings with the same status and note (V2: StatusId and Comment); "
          "hubsync's note\nnames each finding's own ticket, so onboarding writes group only as far as "
          "\"findings per BatchUpdateFindings(V2)\" shows.")
    print("Reads by id: CSPM asks 20 Ids a GetFindings, V2 up to 200 metadata.uids a GetFindingsV2; the sync reads "
          "links\n100 at a time, so V2 reads 100 a call.")
    for run in runs:
        for note in run.notes:
            print(f"NOTE {note}")


def _per(requests_sent: int, findings: int) -> str:
    return f"{requests_sent:,} ({requests_sent / findings:.3f})"


def _throttled(phase: Phase) -> str:
    refused = Counter({service: n for (service, status), n in phase.statuses.items() if status == "429"})
    return f"{refused['securityhub']:,} / {refused['jira']:,}"


def _binding(floor: Floor) -> str:
    return f"{floor.api} {floor.rate.per_second:g}/s"


def _seconds(value: float | None) -> str:
    return f"{value:.1f} s" if value is not None else "never"


def _ratio(seconds: float | None, floor: Floor) -> str:
    return f"{seconds / floor.seconds:.3f}" if seconds is not None and floor.seconds else "-"


def _dropped(run: Run) -> str:
    if run.linked == run.tickets == run.carrying == run.findings and not run.onboarding.report.failed:
        return "yes"
    return (f"NO: {run.linked:,}, {run.tickets:,}, {run.carrying:,}; "
            f"{len(run.onboarding.report.failed)} failed")


def _rate(rate: Rate) -> str:
    return f"{rate.per_second:g}/s, burst {rate.burst}"


def _ok(response: requests.Response) -> None:
    if response.status_code >= 300:
        raise RuntimeError(f"{response.request.method} {response.url}: {response.status_code} {response.text}")


if __name__ == "__main__":
    main()

"""Onboarding under emulated rate limits: how close to the ceiling the limits allow hubsync runs, dropping nothing.

N new findings, all matching the tenant's rule, turned into tickets by one `reconcile`, with the sandbox's rate
limits on: the Security Hub simulator throttles at the documented rates (GetFindings 3/s, bursts of 6;
BatchUpdateFindings and the rest 10/s, bursts of 30, per account and Region) and the Jira simulator answers 429
past `--jira-rate` requests a second (bursts of `--jira-burst`). hubsync's Jira budget is set to the same figures,
as an operator would (`HUBSYNC_JIRA_RATE`, `HUBSYNC_JIRA_BURST`); its Security Hub budgets are built in.

The floor is the least time the limits allow: for each API, the requests it received divided by its rate; the
slowest API's figure is the floor (also shown with each API's burst taken off, the strict floor). The figure of
merit is wall time / floor (target ≤ 1.3). "Nothing dropped": every finding has its ticket, its link and its
NOTIFIED state in Security Hub naming the ticket, and no sync failed.

    .venv/bin/python bench/onboarding_under_limits.py [--findings 10000] [--jira-rate 10] [--jira-burst 20]

Each finding's BatchUpdateFindings names its own ticket (no two can share a call), so that API is the binding one:
the default 10,000 findings take about 17 minutes; `--findings 2000` about 3.5.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from dataclasses import dataclass

import requests
from prometheus_client import REGISTRY
from sync_engine import FindingFactory, Requests, bench_demo, timed_reconcile

from hubsync.adapters import rate_limits
from hubsync.adapters.rate_limits import SECURITY_HUB_DEFAULT, SECURITY_HUB_RATES, Rate
from hubsync.config import Settings
from hubsync.domain.link import LinkState
from hubsync_sandbox.demo import Demo

TARGET = 1.3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=10000, help="new matching findings to onboard (10000)")
    parser.add_argument("--jira-rate", type=float, default=10.0, help="Jira's limit, requests a second (10)")
    parser.add_argument("--jira-burst", type=int, default=20, help="Jira's burst, requests (20)")
    args = parser.parse_args()
    jira_rate = Rate(args.jira_rate, args.jira_burst)
    configure_jira_budget(jira_rate)

    print(f"hubsync onboarding under emulated rate limits: {args.findings:,} new matching findings, one reconcile\n"
          f"limits: Security Hub as documented (GetFindings {_rate(SECURITY_HUB_RATES['GetFindings'])}, "
          f"BatchUpdateFindings and others {_rate(SECURITY_HUB_DEFAULT)}); "
          f"Jira {_rate(jira_rate)} per site\n")
    with bench_demo() as (demo, meter):
        factory = FindingFactory(demo)
        started = time.perf_counter()
        findings = factory.import_new(args.findings)  # before the limits: setting up is not measured
        print(f"imported {len(findings):,} findings in {time.perf_counter() - started:.0f} s (limits off)")

        limits_on(demo, jira_rate)
        statuses_before = api_call_statuses()
        onboarded = timed_reconcile(demo, meter, args.findings, f"onboarding {args.findings:,}")
        limits_off(demo)
        statuses = api_call_statuses() - statuses_before

        report_floor(onboarded.measured.seconds, onboarded.measured.requests, jira_rate)
        print_statuses(statuses)
        report_nothing_dropped(demo, [f["Id"] for f in findings], len(onboarded.report.failed))


def configure_jira_budget(jira: Rate) -> None:
    """hubsync's own budget for the site, as an operator configures it (HUBSYNC_JIRA_RATE, HUBSYNC_JIRA_BURST), set
    as `bootstrap` sets it: the demo runs hubsync in this process without bootstrapping it."""
    settings = Settings.from_environment({"HUBSYNC_JIRA_RATE": str(jira.per_second),
                                          "HUBSYNC_JIRA_BURST": str(jira.burst)})
    rate_limits.configure(jira_rate=settings.jira_rate, jira_burst=settings.jira_burst,
                          aws_share=settings.aws_rate_share)


def limits_on(demo: Demo, jira: Rate) -> None:
    """Both simulators' limits on, through their control APIs; hubsync's AWS budgets start full, as the
    simulator's fresh buckets do."""
    securityhub = demo.sandbox.securityhub_server.url
    _ok(requests.post(f"{securityhub}/_sandbox/throttling", json={"enabled": True}, timeout=10))
    _ok(requests.post(f"{demo.world.base_url}/_sandbox/rate-limit",
                      json={"rate": jira.per_second, "burst": jira.burst}, timeout=10))
    rate_limits.AWS_BUDGETS.clear()


def limits_off(demo: Demo) -> None:
    _ok(requests.post(f"{demo.sandbox.securityhub_server.url}/_sandbox/throttling", json={"enabled": False},
                      timeout=10))
    _ok(requests.delete(f"{demo.world.base_url}/_sandbox/rate-limit", timeout=10))


# -- the floor ------------------------------------------------------------------------------------------------------
@dataclass
class Floor:
    api: str
    calls: int
    rate: Rate

    @property
    def seconds(self) -> float:
        return self.calls / self.rate.per_second

    @property
    def strict_seconds(self) -> float:
        return max(0, self.calls - self.rate.burst) / self.rate.per_second


def report_floor(seconds: float, reqs: Requests, jira: Rate) -> None:
    floors = [
        Floor(f"Security Hub {op}", count, SECURITY_HUB_RATES.get(op, SECURITY_HUB_DEFAULT))
        for op, count in sorted(reqs.aws.items())
        if not op.startswith(("STS ", "Organizations "))
    ]
    floors.append(Floor("Jira (all requests of the site)", reqs.jira_at_simulator, jira))
    floors.sort(key=lambda f: f.seconds, reverse=True)
    print("\nrequests received under the limits, and the least time each API's limit allows:")
    width = max(len(f.api) for f in floors)
    for f in floors:
        print(f"  {f.api:<{width}} {f.calls:>7,} requests at {_rate(f.rate):<22} ≥ {f.seconds:7.1f} s "
              f"(burst off: {f.strict_seconds:7.1f} s)")
    slowest = floors[0]
    ratio, strict = seconds / slowest.seconds, seconds / max(slowest.strict_seconds, 1e-9)
    verdict = "meets" if ratio <= TARGET else "MISSES"
    print(f"\nfloor: {slowest.seconds:.1f} s ({slowest.api}); wall time {seconds:.1f} s")
    print(f"wall time / floor = {ratio:.3f}  {verdict} ≤ {TARGET}   "
          f"(against the strict floor, {slowest.strict_seconds:.1f} s: {strict:.3f})")


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


def print_statuses(statuses: Counter[tuple[str, str]]) -> None:
    shown = ", ".join(f"{service} {status}: {count:,}" for (service, status), count in sorted(statuses.items()))
    refused = sum(count for (_service, status), count in statuses.items() if status == "429")
    print(f"hubsync's requests by answer: {shown or 'none'}; throttled (429): {refused:,}")


# -- nothing dropped ------------------------------------------------------------------------------------------------
def report_nothing_dropped(demo: Demo, finding_ids: list[str], failures: int) -> None:
    wanted = set(finding_ids)
    with demo.ctx.store.read() as uow:
        links = {link.finding_id: link for link in uow.links.iter_links(demo.ctx.tenant_id)}
    linked = {fid for fid in wanted if (link := links.get(fid)) and link.state is LinkState.LINKED and link.ticket_key}
    tickets = {link.ticket_key for fid, link in links.items() if fid in linked}
    in_jira = sum(1 for key in tickets if key in demo.world.issues)
    notified = 0
    for region_client in {demo.sandbox.securityhub_client()}:  # the aggregation Region sees every Region
        paginator = region_client.get_paginator("get_findings")
        filters = {"WorkflowStatus": [{"Value": "NOTIFIED", "Comparison": "EQUALS"}]}
        for page in paginator.paginate(Filters=filters, PaginationConfig={"PageSize": 100}):
            notified += sum(
                1 for f in page["Findings"]
                if f["Id"] in wanted and f.get("UserDefinedFields", {}).get("jiraIssue") == links[f["Id"]].ticket_key
            )
    n = len(wanted)
    dropped = n - min(len(linked), len(tickets), in_jira, notified)
    print(f"\nnothing dropped? {len(linked):,} of {n:,} findings linked to {len(tickets):,} distinct tickets, "
          f"{in_jira:,} of them in Jira, {notified:,} findings NOTIFIED naming their ticket; {failures} failed syncs")
    print("every finding got its ticket: " + ("yes" if dropped == 0 and failures == 0 else f"NO ({dropped} missing)"))


def _rate(rate: Rate) -> str:
    return f"{rate.per_second:g}/s, burst {rate.burst}"


def _ok(response: requests.Response) -> None:
    if response.status_code >= 300:
        raise RuntimeError(f"{response.request.method} {response.url}: {response.status_code} {response.text}")


if __name__ == "__main__":
    main()

"""The chaos scenarios, each a function of a running `Rig` and a size, returning its `Result`.

Every scenario imports its own findings (each with a story: risk approved, false positive, fixed, archived, left
open, not escalated), posts their Imported events several times while people act on the tickets as they appear,
breaks something during that storm, puts it right, and then polls the checks until they hold, timing it from
the end of the last fault. The periodic reconcile is off: convergence has to come from the hints' own retries.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.chaos.harness import Result, Rig, Story
from tests.fixtures.stories import LEFT_OPEN


@dataclass(frozen=True)
class Size:
    findings: int = 24
    events_per_finding: int = 3
    storm_seconds: float = 4.0
    faults: int = 4  # kills or bursts, as the scenario counts them
    converge_timeout: float = 60.0


SHORT = Size()
FULL = Size(findings=120, events_per_finding=4, storm_seconds=12.0, faults=10, converge_timeout=90.0)


def worker_kills(rig: Rig, size: Size, say: Callable[[str], None] = lambda _: None) -> Result:
    """kill -9 of worker processes: one at a time at random moments of the storm, and all of them at once right
    after Jira created a ticket (so the one that created it dies between Jira's create and saving the link); each
    is started again at once."""
    story = rig.new_story("worker kill -9", size.findings, size.events_per_finding)
    on_create = threading.Semaphore(0)

    def on_issue_event(payload: dict[str, Any]) -> None:
        if payload.get("webhookEvent") == "jira:issue_created":
            on_create.release()

    rounds = max(1, size.faults // 2)
    rig.sandbox.jira_cloud.listeners.append(on_issue_event)
    try:
        with rig.storm(story, size.storm_seconds):
            for _ in range(rounds):  # at random moments
                time.sleep(random.uniform(0.3, max(0.4, size.storm_seconds / rounds)))
                rig.kill_worker(story, down_seconds=0.2)
            killed_on_create = 0
            deadline = time.monotonic() + size.storm_seconds + 20
            while killed_on_create < rounds and time.monotonic() < deadline:
                if not on_create.acquire(timeout=0.2):
                    continue
                time.sleep(random.uniform(0.0, 0.05))  # Jira answers the create meanwhile
                for number in range(len(rig.workers)):
                    rig.kill_worker(story, number)
                story.faults["kill -9 right after a ticket was created"] += 1
                killed_on_create += 1
                while on_create.acquire(blocking=False):  # the rest of that bulk create
                    pass
    finally:
        rig.sandbox.jira_cloud.listeners.remove(on_issue_event)
    rig.restart_dead_workers()
    return rig.converge(story, time.monotonic(), size.converge_timeout, say)


def web_kills(rig: Rig, size: Size, say: Callable[[str], None] = lambda _: None) -> Result:
    """kill -9 of the web server (gunicorn's master and workers) while events and webhooks arrive; EventBridge
    retries what got no answer, Jira retries its webhooks."""
    story = rig.new_story("web server kill -9", size.findings, size.events_per_finding)
    with rig.storm(story, size.storm_seconds):
        for _ in range(size.faults):
            time.sleep(random.uniform(0.2, max(0.3, size.storm_seconds / size.faults)))
            rig.kill_web(story, down_seconds=random.uniform(0.0, 0.5))
    return rig.converge(story, time.monotonic(), size.converge_timeout, say)


def postgres_outages(rig: Rig, size: Size, say: Callable[[str], None] = lambda _: None) -> Result:
    """PostgreSQL stopped during the storm, fast (a clean shutdown) and immediate (a crash, recovery at start),
    for a few seconds each, and started again on the same port."""
    story = rig.new_story("PostgreSQL stop and restart", size.findings, size.events_per_finding)
    rounds = max(2, size.faults // 2)
    with rig.storm(story, max(size.storm_seconds, 2.5 * rounds)):
        for n in range(rounds):
            time.sleep(random.uniform(0.5, 1.5))
            rig.postgres_outage(story, "fast" if n % 2 == 0 else "immediate", down_seconds=random.uniform(1.5, 3.0))
    return rig.converge(story, time.monotonic(), size.converge_timeout, say)


def jira_trouble(rig: Rig, size: Size, say: Callable[[str], None] = lambda _: None) -> Result:
    """Jira answering 429 (Retry-After), 500 and 503 for a share of requests and in bursts, slowly, and its search
    lagging behind its writes."""
    story = rig.new_story("Jira 429/500/503, latency, lag", size.findings, size.events_per_finding)
    rig.search_lag(3000)
    rig.jira_fault(story, {"status": 429, "retry_after": 1, "share": 0.15, "path_prefix": "/rest/"})
    rig.jira_fault(story, {"status": 503, "share": 0.08, "path_prefix": "/rest/"})
    rig.jira_fault(story, {"status": 500, "share": 0.04, "path_prefix": "/rest/"})
    rig.jira_fault(story, {"latency_ms": 150, "share": 0.3, "path_prefix": "/rest/"})
    with rig.storm(story, size.storm_seconds):
        for n in range(size.faults):
            time.sleep(size.storm_seconds / size.faults)
            burst = (429, 503, 500)[n % 3]
            fault: dict[str, Any] = {"status": burst, "count": 12, "path_prefix": "/rest/"}
            if burst == 429:
                fault["retry_after"] = 1
            rig.jira_fault(story, fault)
        time.sleep(1.0)
    rig.clear_faults(story)
    return rig.converge(story, time.monotonic(), size.converge_timeout, say)


def securityhub_trouble(rig: Rig, size: Size, say: Callable[[str], None] = lambda _: None) -> Result:
    """Security Hub throttling (LimitExceededException, 429) in bursts and for a share of calls, 503s, and
    BatchUpdateFindings leaving a share of the findings unprocessed (ConcurrentUpdateError, InternalFailure)."""
    story = rig.new_story("Security Hub throttling", size.findings, size.events_per_finding)
    rig.securityhub_fault(story, {"status": 429, "share": 0.2})
    rig.securityhub_fault(story, {"status": 503, "share": 0.1})
    rig.securityhub_unprocessed(0.5, "ConcurrentUpdateError")
    with rig.storm(story, size.storm_seconds):
        for n in range(size.faults):
            time.sleep(size.storm_seconds / size.faults)
            rig.securityhub_fault(story, {"status": 429, "count": 15})
            if n == size.faults // 2:
                rig.securityhub_unprocessed(0.5, "InternalFailure")
        time.sleep(1.0)
    rig.clear_faults(story)
    return rig.converge(story, time.monotonic(), size.converge_timeout, say)


def racing_changes(rig: Rig, size: Size, say: Callable[[str], None] = lambda _: None) -> Result:
    """Ticket and finding changes racing the workers: every finding's events arrive more often, people act on a
    ticket the moment its link is saved, providers archive findings, and the findings left open are re-evaluated
    with a new title and a later UpdatedAt while their first events are still being worked."""
    story = rig.new_story("ticket/finding changes racing", size.findings, size.events_per_finding + 2)
    with rig.storm(story, size.storm_seconds):
        time.sleep(size.storm_seconds / 3)
        reevaluated = reevaluate(rig, story, [f for f in story.findings if f.story == LEFT_OPEN])
        story.faults["finding re-evaluated mid-storm"] += reevaluated
    return rig.converge(story, time.monotonic(), size.converge_timeout, say)


def reevaluate(rig: Rig, story: Story, findings: list[Any]) -> int:
    """The provider re-imports each finding with a new title and a later UpdatedAt; its Imported event is sent."""
    from hubsync_sandbox.runner import AGGREGATION_REGION
    from hubsync_sandbox.securityhub.events import imported_event

    later = (datetime.now(UTC) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    for finding in findings:
        finding.data = {**finding.data, "Title": finding.data["Title"] + " (re-evaluated)", "UpdatedAt": later}
    if not findings:
        return 0
    result = rig._securityhub("batch_import_findings", {"Findings": [f.data for f in findings]})
    assert result["FailedCount"] == 0, result["FailedFindings"][:1]
    world = rig.sandbox.aws_world
    assert world is not None
    held = rig.current_asff(story)
    deadline = time.monotonic() + 60
    for finding in findings:
        rig.sender.post(imported_event(held[finding.data["Id"]], world.security_account.id, AGGREGATION_REGION,
                                       datetime.now(UTC)), deadline)
    return len(findings)


SCENARIOS: dict[str, Callable[[Rig, Size, Callable[[str], None]], Result]] = {
    "worker-kill": worker_kills,
    "web-kill": web_kills,
    "postgres": postgres_outages,
    "jira": jira_trouble,
    "securityhub": securityhub_trouble,
    "racing": racing_changes,
}

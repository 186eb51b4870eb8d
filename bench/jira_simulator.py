"""How fast the Jira simulator answers the reads hubsync makes of it, at growing numbers of issues.

hubsync's benchmarks (sync_engine.py above all) must measure hubsync, not the simulator: each read below should
cost the same on a site of 1,000 issues as on one of 50,000. For each size, a Cloud site is filled with tickets
like hubsync's (marker label and `hubsync.finding` property), then the requests hubsync's Jira client sends are
timed over HTTP, with the bodies it sends (its fields, property and changelog):

  key in (50)           get_tickets: 50 random keys a search
  labels in (50)        find_by_markers: 50 random marker labels, ORDER BY created
  linked, per page      linked_tickets: every page of `project = SEC AND <marker property> ORDER BY key`, 100 a page
                        (the whole walk divided by its pages), and the same by label (`labels = security-hub`)
  linked, first page    that search's first page right after a change to an issue (a change forgets the results
                        the simulator keeps for paging, so this one sorts every match)
  GET issue             one issue by key, as get_tickets reads a key its search did not return

    .venv/bin/python bench/jira_simulator.py [--sizes 1000,10000,50000] [--calls 30]

About two minutes on two cores with the default sizes (filling 50,000 issues takes ~15 s of it).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import requests

from hubsync.adapters.jira.client import LINKED_JQL
from hubsync.adapters.jira.search import jql_list, jql_string
from hubsync.adapters.jira.tickets import TICKET_FIELDS
from hubsync.domain.ticket import MARKER_PROPERTY
from hubsync_sandbox.httpserver import BackgroundServer
from hubsync_sandbox.jira import adf, seed
from hubsync_sandbox.jira.app import create_jira_app
from hubsync_sandbox.jira.world import JiraWorld

PAGE_SIZE = 100
BATCH = 50  # keys or labels a search, as hubsync's client sends them
LINKED_BY_PROPERTY = f"project = {jql_string('SEC')} AND ({LINKED_JQL}) ORDER BY key ASC"
LINKED_BY_LABEL = f"project = {jql_string('SEC')} AND (labels = security-hub) ORDER BY key ASC"
KINDS = ("key in (50)", "labels in (50)", "linked, per page", "linked by label, per page", "linked, first page",
         "GET issue")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000", help="issues on the site (default 1000,10000,50000)")
    parser.add_argument("--calls", type=int, default=30, help="timed calls of each kind per size (default 30)")
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(",") if size.strip())

    print(f"Jira simulator (Cloud), per-call time over HTTP (median of {args.calls}; pages: whole walk / pages)\n")
    results = {size: measure(size, args.calls) for size in sizes}
    width = max(len(kind) for kind in KINDS)
    print(f"\n{'ms per call':<{width}}" + "".join(f"  {size:>9,}" for size in sizes)
          + f"  {f'{sizes[-1]:,} / {sizes[0]:,}':>16}")
    for kind in KINDS:
        row = [results[size][kind] for size in sizes]
        print(f"{kind:<{width}}" + "".join(f"  {ms:>9.2f}" for ms in row) + f"  {row[-1] / row[0]:>16.2f}")
    print("\n(a ratio near 1: the read costs the same whatever the size of the site; 'linked, first page' sorts "
          "every match once per change, then each page of the walk is cut from that result)")


def measure(size: int, calls: int) -> dict[str, float]:
    server = BackgroundServer(name="jira-simulator")
    world = JiraWorld("cloud", server.url)
    started = time.perf_counter()
    keys, labels = fill(world, size)
    print(f"{size:,} issues: filled in {time.perf_counter() - started:.1f} s", flush=True)
    server.mount(create_jira_app(world)).start()
    session = requests.Session()
    session.auth = (seed.SANDBOX_JIRA_USER, seed.SANDBOX_JIRA_API_TOKEN)
    rest = f"{server.url}/rest/api/3"
    pick = random.Random(size)

    def search(jql: str, token: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"jql": jql, "fields": list(TICKET_FIELDS), "maxResults": PAGE_SIZE,
                                "properties": [MARKER_PROPERTY], "expand": "changelog"}
        if token:
            body["nextPageToken"] = token
        response = session.post(f"{rest}/search/jql", json=body, timeout=60)
        response.raise_for_status()
        page: dict[str, Any] = response.json()
        return page

    def get_issue() -> None:
        params = {"fields": ",".join(TICKET_FIELDS), "properties": MARKER_PROPERTY, "expand": "changelog"}
        session.get(f"{rest}/issue/{pick.choice(keys)}", params=params, timeout=60).raise_for_status()

    def first_page_after_a_change() -> Callable[[], object]:
        key = pick.choice(keys)
        world.set_property(key, "bench.touched", {"at": time.time()}, world.users[0])  # forgets kept results
        return lambda: search(LINKED_BY_PROPERTY)

    try:
        figures = {
            "key in (50)": median_ms(calls, lambda: search(f"key in ({jql_list(pick.sample(keys, BATCH))})")),
            "labels in (50)": median_ms(calls, lambda: search(
                f"labels in ({jql_list(pick.sample(labels, BATCH))}) ORDER BY created ASC")),
            "linked, per page": walk_ms(search, LINKED_BY_PROPERTY, size),
            "linked by label, per page": walk_ms(search, LINKED_BY_LABEL, size),
            "linked, first page": median_ms(calls, None, prepare=first_page_after_a_change),
            "GET issue": median_ms(calls, get_issue),
        }
    finally:
        server.stop()
    print("  " + ", ".join(f"{kind} {ms:.2f} ms" for kind, ms in figures.items()), flush=True)
    return figures


def fill(world: JiraWorld, size: int) -> tuple[list[str], list[str]]:
    """`size` tickets as hubsync creates them, straight into the world (creating them is not what is measured)."""
    bot = world.user_by_login(seed.SANDBOX_JIRA_USER)
    assert bot is not None
    keys, labels = [], []
    for number in range(size):
        finding_key = hashlib.sha256(f"finding-{number}".encode()).hexdigest()
        label = f"hubsync-{finding_key[:12]}"
        issue = world.create_issue(
            {"project": {"key": "SEC"}, "issuetype": {"name": "Task"}, "summary": f"Finding {number}",
             "description": adf.document(f"Finding {number}"), "labels": ["security-hub", label]},
            bot,
            [{"key": MARKER_PROPERTY, "value": {"id": f"arn:finding/{number}", "productArn": "arn:product",
                                                "key": finding_key}}],
        )
        keys.append(issue.key)
        labels.append(label)
    return keys, labels


def median_ms(calls: int, call: Callable[[], object] | None,
              prepare: Callable[[], Callable[[], object]] | None = None) -> float:
    """The median time of `calls` calls (after one untimed); `prepare`, when given, makes each call untimed."""
    times = []
    for _ in range(calls + 1):
        timed = prepare() if prepare is not None else call
        assert timed is not None
        started = time.perf_counter()
        timed()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times[1:])


def walk_ms(search: Callable[[str, str | None], dict[str, Any]], jql: str, size: int) -> float:
    """Every page of a search, as hubsync's linked_tickets walks it: total time / pages."""
    started, pages, seen, token = time.perf_counter(), 0, 0, None
    while True:
        page = search(jql, token)
        pages += 1
        seen += len(page["issues"])
        token = page.get("nextPageToken")
        if not token:
            break
    assert seen == size, (seen, size)
    return (time.perf_counter() - started) * 1000 / pages


if __name__ == "__main__":
    main()

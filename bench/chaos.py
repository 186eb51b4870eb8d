"""The chaos suite, full version: every scenario of tests/chaos/scenarios.py with more findings, more faults and
repeated rounds, on hubsync's real processes (`hubsync serve`, `hubsync worker` x N) and a PostgreSQL cluster of
its own (the Debian binaries in a temporary directory, stopped and restarted at will), against the sandbox.

Scenarios: worker kill -9 at random moments and right after Jira created a ticket; web server kill -9 while
events and webhooks arrive (EventBridge and Jira retry what got no 2xx); PostgreSQL stop -m fast / -m immediate
and start; Jira 429 (Retry-After) / 500 / 503 for a share of requests and in bursts, latency, search lag;
Security Hub throttling (LimitExceededException) and 503s, BatchUpdateFindings leaving findings unprocessed
(ConcurrentUpdateError, InternalFailure); ticket and finding changes racing the workers. The periodic reconcile is
off: what converges, converges from the hints' own retries.

After each: duplicates (findings with more than one ticket), lost (escalated findings without their ticket or
not in their story's state at the deadline), dead-lettered hints, a dry-run reconcile that plans nothing, no
traceback in any process's output, and the time from the end of the last fault to convergence.

    .venv/bin/python bench/chaos.py [--quick] [--rounds 2] [--findings 120] [--workers 2] [--scenario NAME ...]

Prints a table of figures; exits 1 if a scenario did not converge within --converge-timeout.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository root: tests.chaos

from tests.chaos.harness import Result, Rig, unavailable_reason
from tests.chaos.scenarios import FULL, SCENARIOS, SHORT, Size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the short version (what `make test` runs), 1 round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of every scenario (default 2)")
    parser.add_argument("--findings", type=int, default=FULL.findings, help=f"per scenario (default {FULL.findings})")
    parser.add_argument("--faults", type=int, default=FULL.faults, help=f"per scenario (default {FULL.faults})")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker (default 2)")
    parser.add_argument("--converge-timeout", type=float, default=FULL.converge_timeout,
                        help=f"seconds after the last fault (default {FULL.converge_timeout:g})")
    parser.add_argument("--scenario", action="append", choices=list(SCENARIOS), help="only these (repeatable)")
    parser.add_argument("--keep", action="store_true", help="keep the logs directory")
    args = parser.parse_args()
    reason = unavailable_reason()
    if reason is not None:
        print(f"bench/chaos.py cannot run: {reason}")
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a stopped run still stops its processes and cluster
    if args.quick:
        size, rounds = SHORT, 1
    else:
        size = Size(findings=args.findings, events_per_finding=FULL.events_per_finding,
                    storm_seconds=FULL.storm_seconds, faults=args.faults, converge_timeout=args.converge_timeout)
        rounds = max(1, args.rounds)
    names = args.scenario or list(SCENARIOS)
    scratch = Path(tempfile.mkdtemp(prefix="hubsync-chaos-bench-"))
    print(f"hubsync chaos: {len(names)} scenarios x {rounds} round(s), {size.findings} findings and {size.faults} "
          f"faults each, {args.workers} worker processes x {args.threads} threads, periodic reconcile off; "
          f"converged = every check holds, within {size.converge_timeout:g} s of the last fault\n", flush=True)
    results: list[Result] = []
    started = time.monotonic()
    try:
        with Rig(scratch, workers=args.workers, threads=args.threads) as rig:
            print(f"rig up in {time.monotonic() - started:.1f} s (PostgreSQL on port {rig.postgres.port}, "
                  f"logs in {rig.logs})\n", flush=True)
            for round_number in range(1, rounds + 1):
                for name in names:
                    began = time.monotonic()
                    result = SCENARIOS[name](rig, size, lambda line: print(line, flush=True))
                    results.append(result)
                    print(f"round {round_number}  {result.line()}  ({time.monotonic() - began:.0f} s)", flush=True)
                    for problem in result.verdict.problems():
                        print(f"    {problem[:1500]}", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    report(results, time.monotonic() - started)
    return 0 if results and all(result.ok for result in results) else 1


def report(results: list[Result], seconds: float) -> None:
    print(f"\n== Figures ({len(results)} scenario runs, {seconds:.0f} s in all)\n")
    header = (f"{'scenario':<32} {'runs':>4} {'findings':>8} {'events':>7} {'faults':>7} {'dup':>4} {'lost':>5} "
              f"{'dead':>5} {'converged':>9} {'worst s':>8}")
    print(header)
    print("-" * len(header))
    by_name: dict[str, list[Result]] = {}
    for result in results:
        by_name.setdefault(result.scenario, []).append(result)
    faults_by_kind: Counter[str] = Counter()
    for name, runs in by_name.items():
        times = [r.converge_seconds for r in runs if r.converge_seconds is not None]
        worst = f"{max(times):.1f}" if len(times) == len(runs) else "NO"
        for run in runs:
            faults_by_kind.update(run.faults)
        print(f"{name:<32} {len(runs):>4} {sum(r.findings for r in runs):>8} {sum(r.events_posted for r in runs):>7} "
              f"{sum(sum(r.faults.values()) for r in runs):>7} {sum(r.duplicates for r in runs):>4} "
              f"{sum(r.lost for r in runs):>5} {sum(r.dead for r in runs):>5} "
              f"{sum(1 for r in runs if r.ok):>4}/{len(runs):<4} {worst:>8}")
    total_faults = sum(faults_by_kind.values())
    print(f"\nfaults injected: {total_faults:,}  ("
          + ", ".join(f"{kind} {count:,}" for kind, count in sorted(faults_by_kind.items())) + ")")
    print(f"duplicates {sum(r.duplicates for r in results)}, lost {sum(r.lost for r in results)}, "
          f"dead-lettered {sum(r.dead for r in results)}; "
          f"{sum(1 for r in results if r.ok)} of {len(results)} runs converged")
    times = sorted(r.converge_seconds for r in results if r.converge_seconds is not None)
    if times:
        print(f"time to converge after the last fault: median {times[len(times) // 2]:.1f} s, worst {times[-1]:.1f} s")


if __name__ == "__main__":
    sys.exit(main())

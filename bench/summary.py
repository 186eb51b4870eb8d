"""`make bench`: the benchmarks at sizes that finish in about 15 minutes on two cores, then one table of the
performance goals: each figure as measured, its goal, the ratio to the goal and `met` or `missed`.

Runs, one after another, each as its own process (its own output shown as it goes):
  event storm, burst      bench/event_storm.py: events/s the HTTP intake accepts, and its ratio to a bare 202 route
                          served by the same stack in the same run
  event storm, 5 events/s bench/event_storm.py --rate 5: event → ticket p50 / p95 at low load
  onboarding              bench/onboarding_under_limits.py (CSPM and V2): until every finding has a ticket ÷ Jira's
                          floor for the tickets, until every finding carries its key ÷ Security Hub's floor
  sync engine             bench/sync_engine.py: steady-state reconcile time per linked pair (wall, and besides its
                          waits for hubsync's own Security Hub budget) and peak memory at the largest N ÷ at the
                          smallest, and its writes (read from its printed lines)

The steady reconcile runs at the goal's own 1,000 and 10,000 linked pairs, about 8 of the 15 minutes: its
GetFindings by id are paced at 3 a second by hubsync's own Security Hub budget, twice at each N (once traced for
memory). `make bench BENCH_ARGS="--steady 1000,3000"` saves about 5 minutes (the row's name says which N it compares).
A figure a benchmark did not produce is "not measured", with why. The event storm uses PostgreSQL when
HUBSYNC_TEST_POSTGRES_URL names a server (SQLite and one worker process otherwise: the table says which).

    .venv/bin/python bench/summary.py [--storm-events 2000] [--low-rate-events 250] [--onboarding-findings 1000]
        [--sync-findings 100] [--steady 1000,10000] [--out FILE]

Exits 1 when a benchmark crashed (its figures are then "not measured"), 0 otherwise: a missed goal is a figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">=": lambda value, target: value >= target,
    "<=": lambda value, target: value <= target,
    "<": lambda value, target: value < target,
    "=": lambda value, target: value == target,
}


# -- the table (pure) -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Goal:
    comparison: str  # a key of COMPARISONS
    target: float
    unit: str = ""

    def met(self, value: float) -> bool:
        return COMPARISONS[self.comparison](value, self.target)

    def ratio(self, value: float) -> float | None:
        """The value ÷ the target (None for a target of 0, where only met or missed says anything)."""
        return value / self.target if self.target else None

    def __str__(self) -> str:
        return f"{self.comparison} {self.target:g}{self.unit}"


@dataclass(frozen=True)
class Row:
    figure: str
    value: float | None  # None: not measured
    shown: str = ""  # the value as printed (with its unit and detail); why, when not measured
    goal: Goal | None = None

    def cells(self) -> list[str]:
        if self.value is None:
            return [self.figure, f"not measured: {self.shown}", str(self.goal or "-"), "-", "-"]
        if self.goal is None:
            return [self.figure, self.shown, "-", "-", "-"]
        ratio = self.goal.ratio(self.value)
        return [self.figure, self.shown, str(self.goal), "-" if ratio is None else f"{ratio:.2f}",
                "met" if self.goal.met(self.value) else "missed"]


def markdown_table(rows: list[Row]) -> str:
    """The rows as a Markdown table, columns padded so that it reads as well in a terminal."""
    header = ["figure", "measured", "goal", "ratio to goal", "verdict"]
    lines = [header, *(row.cells() for row in rows)]
    widths = [max(len(line[n]) for line in lines) for n in range(len(header))]

    def render(cells: list[str]) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)) + " |"

    return "\n".join([render(header), "|" + "|".join("-" * (width + 2) for width in widths) + "|",
                      *(render(cells) for cells in lines[1:])])


def missing(figure: str, why: str, goal: Goal | None = None) -> Row:
    return Row(figure, None, why, goal)


# -- running the benchmarks -----------------------------------------------------------------------------------------
@dataclass
class Ran:
    name: str
    seconds: float
    returncode: int
    output: list[str]
    figures: Any  # what its --json file held; None without one

    @property
    def crashed(self) -> bool:
        return self.returncode != 0

    def why_not(self) -> str:
        return f"{self.name} exited {self.returncode}" if self.crashed else f"{self.name} wrote no figures"


def run(name: str, script: str, options: list[str], scratch: Path, with_json: bool = True) -> Ran:
    """One benchmark in its own process, its output shown as it comes and kept."""
    json_file = scratch / f"{name.replace(' ', '-').replace('/', '')}.json"
    command = [sys.executable, "-u", str(BENCH / script), *options, *(["--json", str(json_file)] if with_json else [])]
    print(f"\n######## {name}: {' '.join(['bench/' + script, *options])}\n", flush=True)
    started = time.perf_counter()
    output: list[str] = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1) as process:
        assert process.stdout is not None
        for line in process.stdout:
            sys.stdout.write(line)
            output.append(line.rstrip("\n"))
    seconds = time.perf_counter() - started
    figures = json.loads(json_file.read_text()) if with_json and json_file.exists() else None
    print(f"\n######## {name}: exit {process.returncode}, {seconds / 60:.1f} min", flush=True)
    return Ran(name, seconds, process.returncode, output, figures)


# -- the figures ----------------------------------------------------------------------------------------------------
def storm_rows(burst: Ran, low: Ran) -> tuple[list[Row], list[str]]:
    notes: list[str] = []
    rows: list[Row] = []
    intake, bare_ratio = "intake: events/s accepted", "intake ÷ bare 202 route on the same stack"
    figures = burst.figures
    if burst.crashed or not figures:
        rows += [missing(intake, burst.why_not(), Goal(">=", 500)),
                 missing(bare_ratio, burst.why_not(), Goal(">=", 0.5))]
    else:
        where = f"{figures['events']:,} events, {figures['database']}"
        rows.append(Row(intake, figures["accepted_per_s"], f"{figures['accepted_per_s']:,.0f}/s ({where})",
                        Goal(">=", 500)))
        if figures.get("bare_per_s"):
            ratio = figures["accepted_per_s"] / figures["bare_per_s"]
            rows.append(Row(bare_ratio, ratio, f"{ratio:.2f} (bare route {figures['bare_per_s']:,.0f}/s)",
                            Goal(">=", 0.5)))
        else:
            rows.append(missing(bare_ratio, "the bare route's run failed (see its output)", Goal(">=", 0.5)))
        notes += storm_notes("burst", figures)
    p50, p95 = "event → ticket p50 at 5 events/s", "event → ticket p95 at 5 events/s"
    figures = low.figures
    if low.crashed or not figures or "event_to_ticket_p50_s" not in figures:
        why = low.why_not() if low.crashed or not figures else "no finding got a ticket"
        rows += [missing(p50, why, Goal("<", 100, " ms")), missing(p95, why)]
    else:
        p50_ms, p95_ms = figures["event_to_ticket_p50_s"] * 1000, figures["event_to_ticket_p95_s"] * 1000
        where = f"{figures['findings']:,} findings, {figures['database']}"
        rows.append(Row(p50, p50_ms, f"{p50_ms:,.0f} ms ({where})", Goal("<", 100, " ms")))
        rows.append(Row(p95, p95_ms, f"{p95_ms:,.0f} ms (the reference's Lambda: 284 ms)"))
        notes += storm_notes("5 events/s", figures)
    return rows, notes


def storm_notes(label: str, figures: dict[str, Any]) -> list[str]:
    notes = []
    if figures["accepted"] < figures["posted"]:
        notes.append(f"event storm ({label}): {figures['accepted']:,} of {figures['posted']:,} posts accepted")
    if figures["with_ticket"] < figures["findings"] or figures["dead"]:
        notes.append(f"event storm ({label}): {figures['with_ticket']:,} of {figures['findings']:,} findings got a "
                     f"ticket, {figures['dead']:,} hints dead-lettered")
    if figures["database"] != "PostgreSQL":
        notes.append(f"event storm ({label}) ran on SQLite with one worker process: set HUBSYNC_TEST_POSTGRES_URL")
    return notes


def onboarding_rows(ran: Ran) -> tuple[list[Row], list[str]]:
    rows: list[Row] = []
    notes: list[str] = []
    generations = ran.figures if not ran.crashed and ran.figures else {"CSPM": None, "V2": None}
    for name, figures in generations.items():
        assumed = " (assumed limits)" if name == "V2" else ""
        tickets = f"onboarding {name}: until every finding has a ticket ÷ Jira's floor"
        keys = f"onboarding {name}: until every finding carries its key ÷ Security Hub's floor{assumed}"
        if figures is None:
            rows += [missing(tickets, ran.why_not(), Goal("<=", 1.3)), missing(keys, ran.why_not(), Goal("<=", 1.3))]
            continue
        count = f"{figures['findings']:,} findings"
        if figures["to_tickets_per_floor"] is None:
            rows.append(missing(tickets, "not every finding got a ticket" if figures["to_tickets_s"] is None
                                else "no ticket create request was counted", Goal("<=", 1.3)))
        else:
            rows.append(Row(tickets, figures["to_tickets_per_floor"],
                            f"{figures['to_tickets_per_floor']:.2f} ({figures['to_tickets_s']:.1f} s ÷ "
                            f"{figures['jira_ticket_floor_s']:.1f} s: {figures['jira_create_requests']} creates; "
                            f"{count})", Goal("<=", 1.3)))
        if figures["to_notified_per_floor"] is None:
            rows.append(missing(keys, "not every finding came to carry its key" if figures["to_notified_s"] is None
                                else "Security Hub's floor is 0 s (every request within a burst)", Goal("<=", 1.3)))
        else:
            rows.append(Row(keys, figures["to_notified_per_floor"],
                            f"{figures['to_notified_per_floor']:.2f} ({figures['to_notified_s']:.1f} s ÷ "
                            f"{figures['securityhub_floor_s']:.1f} s, {figures['securityhub_binding']}; {count})",
                            Goal("<=", 1.3)))
        if not figures["nothing_dropped"]:
            notes.append(f"onboarding {name}: something was dropped (see its table's last row)")
    return rows, notes


STEADY_LINE = re.compile(r"^N = ([\d,]+): .*?([\d.]+) s \(.*peak memory ([\d.]+) MiB")
WRITES_LINE = re.compile(r"^\s*writes: (.*) \((meets|MISSES) ")
BESIDES_BUDGET_LINE = re.compile(r"^time per linked pair \(besides the budget waits\): ([\d.]+) ms at N = ([\d,]+), "
                                 r"([\d.]+) ms at N = ([\d,]+): x([\d.]+)")


@dataclass(frozen=True)
class Steady:
    size: int
    seconds: float
    peak_mib: float
    writes: str | None  # as printed: "none", or the writes by operation; None if no line said


def steady_runs(output: list[str]) -> list[Steady]:
    """The steady-state results bench/sync_engine.py printed: `N = 1,000: ..., 3.2 s (...), peak memory 12.3 MiB`
    and, after it, `  writes: none (meets the target: reads only)`."""
    found: list[Steady] = []
    for line in output:
        if match := STEADY_LINE.match(line):
            found.append(Steady(int(match[1].replace(",", "")), float(match[2]), float(match[3]), None))
        elif (match := WRITES_LINE.match(line)) and found and found[-1].writes is None:
            last = found.pop()
            found.append(Steady(last.size, last.seconds, last.peak_mib, match[1]))
    return found


def sync_rows(ran: Ran) -> list[Row]:
    runs = steady_runs(ran.output)
    sizes = " ÷ ".join(f"N={r.size:,}" for r in reversed(runs[:1] + runs[-1:])) if len(runs) > 1 else "10,000 ÷ 1,000"
    per_pair, memory = f"steady reconcile: time per linked pair, {sizes}", f"steady reconcile: peak memory, {sizes}"
    writes = "steady reconcile: writes"
    if len(runs) < 2:
        why = ran.why_not() if ran.crashed else "bench/sync_engine.py printed fewer than two 'N = ...: ... s' lines"
        rows = [missing(per_pair, why, Goal("<=", 1.3)), missing(memory, why, Goal("<", 1.5, " (flat)"))]
    else:
        small, large = runs[0], runs[-1]
        growth = (large.seconds / large.size) / (small.seconds / small.size)
        rows = [
            Row(per_pair, growth, f"{growth:.2f} ({large.seconds / large.size * 1000:.2f} ÷ "
                f"{small.seconds / small.size * 1000:.2f} ms per pair)", Goal("<=", 1.3)),
            Row(memory, large.peak_mib / small.peak_mib, f"{large.peak_mib / small.peak_mib:.2f} "
                f"({large.peak_mib:.1f} ÷ {small.peak_mib:.1f} MiB)", Goal("<", 1.5, " (flat)")),
        ]
    rows.insert(1, besides_budget_row(ran, sizes))
    said = [r for r in runs if r.writes is not None]
    if not said:
        rows.append(missing(writes, ran.why_not() if ran.crashed else "bench/sync_engine.py printed no writes line",
                            Goal("=", 0)))
    else:
        count = sum(0 if r.writes == "none" else sum(int(n) for n in re.findall(r":\s*(\d+)", r.writes or ""))
                    for r in said)
        detail = ", ".join(f"N={r.size:,}: {r.writes}" for r in said)
        rows.append(Row(writes, count, f"{count} ({detail})", Goal("=", 0)))
    return rows


def besides_budget_row(ran: Ran, sizes: str) -> Row:
    """The steady reconcile's time per pair less what it waited for hubsync's own Security Hub budget (GetFindings
    at 3/s paces the reads by id), as bench/sync_engine.py prints it: hubsync's own cost."""
    figure = f"steady reconcile: time per linked pair besides the budget waits, {sizes}"
    match = next((m for line in ran.output if (m := BESIDES_BUDGET_LINE.match(line))), None)
    if match is None:
        why = ran.why_not() if ran.crashed else "bench/sync_engine.py printed no 'besides the budget waits' line"
        return missing(figure, why, Goal("<=", 1.3))
    return Row(figure, float(match[5]), f"{match[5]} ({match[1]} ÷ {match[3]} ms per pair)", Goal("<=", 1.3))


# -- the machine ----------------------------------------------------------------------------------------------------
def machine() -> str:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    model, memory = platform.processor() or platform.machine(), ""
    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
        kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal:"))
        memory = f", {kib / 2**20:.1f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    return f"{cpus} cores ({model}){memory}, Python {platform.python_version()}, {platform.system()}"


def load() -> str:
    """The 1-minute load average, "unknown" where the system does not say."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "unknown"


# -- main -----------------------------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storm-events", type=int, default=2000, help="events in the burst (2000, 2 a finding)")
    parser.add_argument("--low-rate-events", type=int, default=250, help="events at 5/s, 1 a finding (250)")
    parser.add_argument("--onboarding-findings", type=int, default=1000, help="backlog per generation (1000)")
    parser.add_argument("--sync-findings", type=int, default=100, help="sync_engine's onboarding part (100)")
    parser.add_argument("--steady", default="1000,10000", help="steady-state sizes (1000,10000)")
    parser.add_argument("--out", type=Path, help="also write the table, with the date and the machine, here")
    args = parser.parse_args()

    started = time.perf_counter()
    when, load_before = datetime.now(UTC), load()
    with tempfile.TemporaryDirectory(prefix="hubsync-bench-") as directory:
        scratch = Path(directory)
        burst = run("event storm, burst", "event_storm.py", ["--events", str(args.storm_events)], scratch)
        low = run("event storm, 5 events/s", "event_storm.py",
                  ["--events", str(args.low_rate_events), "--per-finding", "1", "--rate", "5", "--no-bare"], scratch)
        onboarding = run("onboarding under limits", "onboarding_under_limits.py",
                         ["--findings", str(args.onboarding_findings)], scratch)
        sync = run("sync engine", "sync_engine.py", ["--findings", str(args.sync_findings),
                                                     "--close", str(args.sync_findings // 4),
                                                     "--steady", args.steady], scratch, with_json=False)
    ran = [burst, low, onboarding, sync]
    storm, storm_notes_ = storm_rows(burst, low)
    on_rows, on_notes = onboarding_rows(onboarding)
    rows = [*storm[:2], *on_rows, *sync_rows(sync), *storm[2:]]
    total = time.perf_counter() - started

    lines = [f"Measured {when:%Y-%m-%d %H:%M} UTC on {machine()}; `make bench` took {total / 60:.1f} min "
             f"({', '.join(f'{r.name} {r.seconds / 60:.1f}' for r in ran)}); load average (1 min) "
             f"{load_before} before, {load()} after: anything else running slows every figure.",
             "", markdown_table(rows)]
    notes = [*storm_notes_, *on_notes, *(f"{r.name} crashed (exit {r.returncode})" for r in ran if r.crashed)]
    if notes:
        lines += ["", *(f"- {note}" for note in notes)]
    text = "\n".join(lines)
    print(f"\n==================== summary\n\n{text}")
    if args.out:
        args.out.write_text(text + "\n")
    return 1 if any(r.crashed for r in ran) else 0


if __name__ == "__main__":
    sys.exit(main())

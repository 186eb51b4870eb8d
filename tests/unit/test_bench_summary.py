"""`make bench`'s summary: the verdict of each goal, and the steady-state figures read from bench/sync_engine.py's
printed lines (the table is only as honest as these)."""

from __future__ import annotations

from bench.summary import Goal, Ran, Row, markdown_table, steady_runs, sync_rows


def test_a_goal_is_met_on_its_own_side_of_the_target() -> None:
    at_least, at_most, below, none = Goal(">=", 500), Goal("<=", 1.3), Goal("<", 100), Goal("=", 0)
    assert at_least.met(500) and not at_least.met(499.9)
    assert at_most.met(1.3) and not at_most.met(1.31)
    assert below.met(99.9) and not below.met(100)
    assert none.met(0) and not none.met(1)


def test_a_row_shows_the_ratio_to_the_goal_and_its_verdict() -> None:
    assert Row("intake", 241.0, "241/s", Goal(">=", 500)).cells() == ["intake", "241/s", ">= 500", "0.48", "missed"]
    assert Row("writes", 0, "0", Goal("=", 0)).cells() == ["writes", "0", "= 0", "-", "met"]


def test_a_figure_not_measured_says_why_and_has_no_verdict() -> None:
    cells = Row("p50", None, "bench/event_storm.py exited 1", Goal("<", 100, " ms")).cells()
    assert cells == ["p50", "not measured: bench/event_storm.py exited 1", "< 100 ms", "-", "-"]


def test_the_table_has_a_header_a_rule_and_a_line_per_row() -> None:
    table = markdown_table([Row("a", 1.0, "1", Goal("<=", 2)), Row("b", None, "crashed")]).splitlines()
    assert len(table) == 4
    assert table[0].split("|")[1].strip() == "figure" and set(table[1]) == {"|", "-"}
    assert all(len(line) == len(table[0]) for line in table)


SYNC_ENGINE_OUTPUT = """\
== 2. Steady state: reconcile of N linked, unchanged findings (N = 1000, 4000)
built 1,000 linked pairs: onboarded 1,000 more in 31 s (32/s, import included)
N = 1,000: 1,000 links and 1,000 tickets looked at, 0 changes, 2.0 s (500 findings/s), peak memory 10.0 MiB
  Jira requests per linked finding: 0.020 (20 requests; the Jira simulator counted 20)
  writes: none (meets the target: reads only)
N = 4,000: 4,000 links and 4,000 tickets looked at, 0 changes, 10.0 s (400 findings/s), peak memory 12.5 MiB
  writes: {'Jira edit': 3, 'AWS BatchUpdateFindings': 2} (MISSES the target: reads only)
time per linked pair (wall): 2.50 ms at N = 4,000, 2.00 ms at N = 1,000: x1.25 (meets ≤ 1.3)
time per linked pair (besides the budget waits): 0.90 ms at N = 4,000, 0.60 ms at N = 1,000: x1.50 (MISSES ≤ 1.3)
""".splitlines()


def test_the_steady_state_runs_are_read_from_sync_engines_lines() -> None:
    runs = steady_runs(SYNC_ENGINE_OUTPUT)
    assert [(r.size, r.seconds, r.peak_mib, r.writes) for r in runs] == [
        (1000, 2.0, 10.0, "none"),
        (4000, 10.0, 12.5, "{'Jira edit': 3, 'AWS BatchUpdateFindings': 2}"),
    ]


def test_steady_state_rows_compare_the_largest_n_with_the_smallest() -> None:
    per_pair, besides_budget, memory, writes = sync_rows(Ran("sync engine", 1.0, 0, SYNC_ENGINE_OUTPUT, None))
    assert per_pair.figure.endswith("N=4,000 ÷ N=1,000") and per_pair.value == (10.0 / 4000) / (2.0 / 1000)
    assert per_pair.cells()[-1] == "met"
    assert besides_budget.value == 1.5 and besides_budget.cells()[-1] == "missed"
    assert memory.value == 1.25 and memory.cells()[-1] == "met"
    assert writes.value == 5 and writes.cells()[-1] == "missed"


def test_output_without_steady_lines_is_not_measured() -> None:
    rows = sync_rows(Ran("sync engine", 1.0, 1, ["Traceback (most recent call last):"], None))
    assert [row.value for row in rows] == [None, None, None, None]
    assert all("sync engine exited 1" in row.shown for row in rows)

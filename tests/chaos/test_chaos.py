"""The chaos suite, short version: each scenario of tests/chaos/scenarios.py on 24 findings and 2 worker processes,
on a PostgreSQL cluster of its own (the Debian binaries, in a temporary directory), one rig for the module.

After each scenario's faults: no finding with two tickets, every escalated finding LINKED and in the state its
story says, nothing dead-lettered, a dry-run reconcile that plans nothing, no traceback in any hubsync process's
output, all within CONVERGE_S of the last fault (the periodic reconcile is off). The time to converge is printed.
The full version, with more findings, faults and rounds: `.venv/bin/python bench/chaos.py`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos.harness import Rig, unavailable_reason
from tests.chaos.scenarios import SCENARIOS, Size

pytestmark = pytest.mark.postgres

CONVERGE_S = 60.0  # the promise: every finding has its ticket and the right state within a minute
SIZE = Size(findings=24, events_per_finding=3, storm_seconds=4.0, faults=4, converge_timeout=CONVERGE_S)


@pytest.fixture(scope="module")
def rig() -> Iterator[Rig]:
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(f"the chaos suite runs its own PostgreSQL cluster: {reason}")
    with tempfile.TemporaryDirectory(prefix="hubsync-chaos-") as scratch, Rig(Path(scratch), workers=2) as running:
        yield running


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_hubsync_converges_after(scenario: str, rig: Rig, capsys: pytest.CaptureFixture[str]) -> None:
    result = SCENARIOS[scenario](rig, SIZE, lambda _: None)
    with capsys.disabled():
        print(f"\n  chaos: {result.line()}  faults {result.faults}")
    assert result.ok, f"{result.line()}\n" + "\n".join(result.verdict.problems())

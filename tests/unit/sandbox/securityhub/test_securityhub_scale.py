"""10,000 findings: paging through them with filters and a sort stays fast and complete."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from typing import Any

import pytest

from hubsync_sandbox.securityhub import Caller, SecurityHubSimulator
from tests.fixtures.securityhub import ADMIN, AGGREGATION_REGION, MEMBER, OTHER_MEMBER, make_finding, new_simulator

CALLER = Caller(ADMIN, AGGREGATION_REGION)
LABELS = ["INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"]


@pytest.fixture(scope="module")
def large_hub() -> Iterator[SecurityHubSimulator]:
    sim = new_simulator()
    findings = [
        make_finding(
            Severity={"Label": LABELS[n % 5]},
            AwsAccountId=(MEMBER, OTHER_MEMBER)[n % 2],
            RecordState="ARCHIVED" if n % 3 == 0 else "ACTIVE",
            UpdatedAt=f"2025-05-{1 + n % 28:02}T00:00:00.000Z",
        )
        for n in range(10_000)
    ]
    for start in range(0, len(findings), 100):
        assert sim.batch_import_findings(CALLER, {"Findings": findings[start : start + 100]})["SuccessCount"] == 100
    yield sim
    sim.events.stop()


def timed_pages(sim: SecurityHubSimulator, request: dict[str, Any]) -> tuple[list[dict[str, Any]], list[float]]:
    findings, seconds = [], []
    request = dict(request)
    while True:
        started = time.perf_counter()
        page = sim.get_findings(CALLER, request)
        seconds.append(time.perf_counter() - started)
        findings += page["Findings"]
        if "NextToken" not in page:
            return findings, seconds
        request["NextToken"] = page["NextToken"]


def test_paging_through_everything(large_hub: SecurityHubSimulator) -> None:
    findings, seconds = timed_pages(large_hub, {"MaxResults": 100})
    assert len({finding["Id"] for finding in findings}) == 10_000
    assert statistics.median(seconds) < 0.1


def test_paging_with_filters_and_a_sort(large_hub: SecurityHubSimulator) -> None:
    request = {
        "Filters": {
            "SeverityLabel": [{"Value": "HIGH", "Comparison": "EQUALS"}, {"Value": "CRITICAL", "Comparison": "EQUALS"}],
            "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}],
            "AwsAccountId": [{"Value": MEMBER, "Comparison": "EQUALS"}],
        },
        "SortCriteria": [{"Field": "SeverityNormalized", "SortOrder": "desc"}, {"Field": "UpdatedAt"}],
        "MaxResults": 100,
    }
    findings, seconds = timed_pages(large_hub, request)
    expected = [n for n in range(10_000) if n % 5 in (3, 4) and n % 3 != 0 and n % 2 == 0]
    assert len(findings) == len(expected)
    keys = [(-f["Severity"]["Normalized"], f["UpdatedAt"]) for f in findings]
    assert keys == sorted(keys)
    assert statistics.median(seconds) < 0.1

"""Integration fixtures: a running demo (sandbox + store + tenant, contract-checked) and a finding to work on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hubsync.domain.finding import Finding
from hubsync_sandbox.demo import Demo, running_demo
from tests.fixtures.sandbox import SandboxContracts


@pytest.fixture(params=["cloud"])
def demo(request: pytest.FixtureRequest, sandbox_contracts: SandboxContracts) -> Iterator[Demo]:
    """A demo on the Cloud simulator; parametrize `demo` indirectly with "datacenter" for the other flavour."""
    with running_demo(flavour=request.param, say=lambda _: None, wrap=sandbox_contracts.wrap) as running:
        yield running


@pytest.fixture
def new_critical_finding(demo: Demo) -> Finding:
    """A live, NEW, CRITICAL finding: the demo's policy escalates it, and nothing has yet."""
    filters = {
        "SeverityLabel": [{"Value": "CRITICAL", "Comparison": "EQUALS"}],
        "WorkflowStatus": [{"Value": "NEW", "Comparison": "EQUALS"}],
        "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}],
    }
    return next(f for f in demo.ctx.securityhub.findings(filters) if f.is_live)

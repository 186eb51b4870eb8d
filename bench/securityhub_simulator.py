"""How fast the Security Hub simulator answers what hubsync's benchmarks will ask of it.

Imports N findings through boto3 (100 a call, as BatchImportFindings allows), then pages through them with
GetFindings unfiltered and with a typical escalation filter, printing throughput and per-page latency. Later
benchmarks (event storms, onboarding under rate limits) must measure hubsync, not the simulator: these figures
show the simulator's own cost per call.

    .venv/bin/python bench/securityhub_simulator.py [--findings 10000]
"""

from __future__ import annotations

import argparse
import statistics
import time

import boto3

from hubsync_sandbox.httpserver import BackgroundServer
from hubsync_sandbox.securityhub import SecurityHubSimulator
from hubsync_sandbox.seed import seed_findings

ADMIN = "111111111111"
MEMBERS = [f"2{n:011d}" for n in range(1, 11)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=10_000)
    args = parser.parse_args()

    sim = SecurityHubSimulator(admin_account_id=ADMIN, member_account_ids=MEMBERS, regions=["us-east-1"])
    server = BackgroundServer(sim.wsgi_app).start()
    client = boto3.client(
        "securityhub", endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )
    try:
        findings = _findings(args.findings)
        started = time.perf_counter()
        for start in range(0, len(findings), 100):
            result = client.batch_import_findings(Findings=findings[start : start + 100])
            assert result["FailedCount"] == 0, result["FailedFindings"][:1]
        elapsed = time.perf_counter() - started
        print(f"BatchImportFindings: {len(findings)} findings in {elapsed:.2f} s = {len(findings) / elapsed:,.0f}/s")

        _page_through(client, "GetFindings, no filter", {})
        _page_through(
            client,
            "GetFindings, escalation filter",
            {
                "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}],
                "WorkflowStatus": [{"Value": "NEW", "Comparison": "EQUALS"}],
                "SeverityLabel": [
                    {"Value": "CRITICAL", "Comparison": "EQUALS"},
                    {"Value": "HIGH", "Comparison": "EQUALS"},
                ],
                "ComplianceStatus": [{"Value": "PASSED", "Comparison": "NOT_EQUALS"}],
            },
        )
    finally:
        sim.events.stop()
        server.stop()


def _findings(count: int) -> list[dict]:
    """Seed findings repeated across enough synthetic accounts to reach `count`, each with a unique Id."""
    template = seed_findings(MEMBERS, ["us-east-1"], random_seed=1)
    findings = []
    for n in range(count):
        finding = dict(template[n % len(template)])
        finding["Id"] = f"{finding['Id']}-{n}"
        findings.append(finding)
    return findings


def _page_through(client, label: str, filters: dict) -> None:
    latencies, total, token = [], 0, None
    while True:
        kwargs = {"Filters": filters, "MaxResults": 100}
        if token:
            kwargs["NextToken"] = token
        started = time.perf_counter()
        page = client.get_findings(**kwargs)
        latencies.append((time.perf_counter() - started) * 1000)
        total += len(page["Findings"])
        token = page.get("NextToken")
        if not token:
            break
    p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) > 1 else latencies[0]
    print(
        f"{label}: {total} findings in {len(latencies)} pages; per page p50 {statistics.median(latencies):.1f} ms, "
        f"p95 {p95:.1f} ms (boto3 round trip)"
    )


if __name__ == "__main__":
    main()

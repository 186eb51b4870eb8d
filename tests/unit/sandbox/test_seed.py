"""Seed findings: valid ASFF for BatchImportFindings, deterministic, and covering what the sync rules meet."""

from __future__ import annotations

from datetime import UTC, datetime

from hubsync_sandbox.seed import seed_findings

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
ACCOUNTS = ["111111111111", "222222222222", "333333333333"]
REGIONS = ["us-east-1", "eu-west-1"]
REQUIRED = {"SchemaVersion", "Id", "ProductArn", "GeneratorId", "AwsAccountId", "CreatedAt", "UpdatedAt", "Title",
            "Description", "Resources", "Severity"}


def test_seed_is_deterministic() -> None:
    assert seed_findings(ACCOUNTS, REGIONS, now=NOW) == seed_findings(ACCOUNTS, REGIONS, now=NOW)
    assert seed_findings(ACCOUNTS, REGIONS, now=NOW) != seed_findings(ACCOUNTS, REGIONS, now=NOW, random_seed=8)


def test_every_finding_has_the_fields_batch_import_requires() -> None:
    findings = seed_findings(ACCOUNTS, REGIONS, now=NOW)
    for finding in findings:
        assert finding.keys() >= REQUIRED, finding["Id"]
        assert finding["Id"].split(":")[3] in REGIONS
        assert finding["AwsAccountId"] in ACCOUNTS
        assert finding["Id"].split(":")[4] == finding["AwsAccountId"]
        assert 1 <= len(finding["Resources"]) <= 32
        assert len(finding["Title"]) <= 256 and len(finding["Description"]) <= 1024
    assert len({(f["ProductArn"], f["Id"]) for f in findings}) == len(findings)


def test_seed_covers_products_formats_severities_and_states() -> None:
    findings = seed_findings(ACCOUNTS, REGIONS, now=NOW)
    generators = {f["GeneratorId"] for f in findings}
    assert any(g.startswith("security-control/") for g in generators)  # consolidated control findings
    assert any(g.startswith("aws-foundational-security-best-practices/") for g in generators)  # per standard
    assert {f["ProductArn"].rsplit("/", 1)[-1] for f in findings} == {"securityhub", "guardduty", "inspector"}
    assert {f["Severity"]["Label"] for f in findings} == {"CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"}
    assert any(f["RecordState"] == "ARCHIVED" for f in findings)
    assert any(f.get("Compliance", {}).get("Status") == "PASSED" for f in findings)
    controls = [f for f in findings if "Compliance" in f]
    assert all(f["Compliance"]["SecurityControlId"] for f in controls)
    assert all(f["UpdatedAt"] <= "2026-11-01T12:00:00.000Z" for f in findings)

"""The Security Hub adapter against the Security Hub simulator: paging, lookups by identifier, batched updates,
per-finding failures, throttling, aggregated Regions, and findings hubsync cannot parse."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from hubsync.adapters.securityhub import SecurityHubClient, sort_unprocessed
from hubsync.domain.finding import FindingIdentifier, Severity, WorkflowStatus
from hubsync.domain.plan import FindingUpdate
from hubsync.domain.ports import UpdateFailure
from tests.fixtures.securityhub import (
    AGGREGATION_REGION,
    LINKED_REGION,
    OTHER_MEMBER,
    SecurityHubSandbox,
    make_finding,
)


@pytest.fixture
def hub(securityhub: SecurityHubSandbox, monkeypatch: pytest.MonkeyPatch) -> SecurityHubClient:
    """The adapter as production builds it: from a session, with the endpoint taken from the environment."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECURITYHUB", securityhub.url)
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-west-2")
    return SecurityHubClient.for_session(session, region=AGGREGATION_REGION)


def imported(securityhub: SecurityHubSandbox, findings: list[dict[str, Any]], region: str = AGGREGATION_REGION):
    client = securityhub.client(region=region)
    for start in range(0, len(findings), 100):
        response = client.batch_import_findings(Findings=findings[start : start + 100])
        assert response["FailedCount"] == 0, response["FailedFindings"]
    return findings


def ident(finding: dict[str, Any]) -> FindingIdentifier:
    return FindingIdentifier(finding["Id"], finding["ProductArn"])


def stored(securityhub: SecurityHubSandbox, finding: dict[str, Any]) -> dict[str, Any]:
    response = securityhub.client().get_findings(Filters={"Id": [{"Value": finding["Id"], "Comparison": "EQUALS"}]})
    [found] = [f for f in response["Findings"] if f["ProductArn"] == finding["ProductArn"]]
    return found


# -- findings ------------------------------------------------------------------------------------------------------
def test_findings_pages_through_every_match_100_at_a_time(securityhub: SecurityHubSandbox, hub: SecurityHubClient):
    expected = imported(securityhub, [make_finding() for _ in range(250)])

    ids = [finding.id for finding in hub.findings({})]

    assert sorted(ids) == sorted(finding["Id"] for finding in expected)
    assert hub.calls["GetFindings"] == 3


def test_findings_come_most_severe_first_across_pages(securityhub: SecurityHubSandbox, hub: SecurityHubClient):
    labels = ["LOW", "CRITICAL", "MEDIUM", "INFORMATIONAL", "HIGH"]
    imported(securityhub, [make_finding(Severity={"Label": labels[n % 5]}) for n in range(150)])

    seen = [finding.severity for finding in hub.findings({})]

    assert seen == sorted(seen, key=lambda severity: severity.rank, reverse=True)
    assert seen[:30] == [Severity.CRITICAL] * 30
    assert hub.calls["GetFindings"] == 2


def test_findings_reads_a_page_only_when_the_caller_gets_there(
    securityhub: SecurityHubSandbox, hub: SecurityHubClient
):
    imported(securityhub, [make_finding() for _ in range(150)])

    stream = hub.findings({})
    assert hub.calls["GetFindings"] == 0
    first_page = [next(stream) for _ in range(100)]
    assert hub.calls["GetFindings"] == 1
    rest = list(stream)

    assert len(first_page) + len(rest) == 150
    assert hub.calls["GetFindings"] == 2


def test_findings_filters_on_the_server(securityhub: SecurityHubSandbox, hub: SecurityHubClient):
    critical = imported(securityhub, [make_finding(Severity={"Label": "CRITICAL"}) for _ in range(3)])
    imported(securityhub, [make_finding(Severity={"Label": "LOW"}) for _ in range(120)])

    found = list(hub.findings({"SeverityLabel": [{"Value": "CRITICAL", "Comparison": "EQUALS"}]}))

    assert sorted(f.id for f in found) == sorted(f["Id"] for f in critical)
    assert {f.severity for f in found} == {Severity.CRITICAL}
    assert hub.calls["GetFindings"] == 1


def test_a_finding_that_does_not_parse_is_skipped_and_counted(
    securityhub: SecurityHubSandbox, hub: SecurityHubClient, caplog: pytest.LogCaptureFixture
):
    good = imported(securityhub, [make_finding() for _ in range(2)])
    # Security Hub accepts a standard without an id; hubsync needs one to name it.
    [bad] = imported(securityhub, [make_finding(Compliance={"Status": "FAILED", "AssociatedStandards": [{}]})])

    found = list(hub.findings({}))
    by_id = hub.get([ident(bad), *map(ident, good)])

    assert sorted(f.id for f in found) == sorted(f["Id"] for f in good)
    assert set(by_id) == {ident(f).key for f in good}
    assert hub.invalid_findings == 2
    assert set(hub.unreadable) == {ident(bad).key}
    assert bad["Id"] in caplog.text


# -- get -----------------------------------------------------------------------------------------------------------
def test_get_finds_identifiers_spread_over_many_pages_in_few_calls(
    securityhub: SecurityHubSandbox, hub: SecurityHubClient
):
    findings = imported(securityhub, [make_finding() for _ in range(250)])
    wanted = findings[::6]  # 42 findings from every page
    gone = FindingIdentifier("hubsync-test/never-imported", findings[0]["ProductArn"])

    found = hub.get([*map(ident, wanted), gone, ident(wanted[0])])

    assert set(found) == {ident(f).key for f in wanted}
    assert all(found[ident(f).key].title == f["Title"] for f in wanted)
    assert hub.calls["GetFindings"] == 3  # 43 distinct Ids, 20 a call


def test_get_matches_the_product_as_well_as_the_id(securityhub: SecurityHubSandbox, hub: SecurityHubClient):
    ours = make_finding(Id="shared-id")
    other_product = make_finding(
        Id="shared-id",
        AwsAccountId=OTHER_MEMBER,
        ProductArn=f"arn:aws:securityhub:{AGGREGATION_REGION}:{OTHER_MEMBER}:product/{OTHER_MEMBER}/default",
    )
    imported(securityhub, [ours, other_product])

    found = hub.get([ident(ours)])

    assert list(found) == [ident(ours).key]
    assert found[ident(ours).key].account_id == ours["AwsAccountId"]


def test_a_finding_of_the_new_security_hub_is_unreadable_here_never_deleted(hub: SecurityHubClient):
    """Linked while the tenant read the new Security Hub, then moved back: CSPM cannot say where it went."""
    v2 = FindingIdentifier("9b1e4c7a" * 8, "arn:aws:securityhub:us-east-1::productv2/aws/guardduty")

    assert hub.get([v2]) == {}
    assert hub.unreadable[v2.key].startswith("the finding is in the new Security Hub")
    assert hub.calls == {}


def test_get_with_no_identifiers_calls_nothing(hub: SecurityHubClient):
    assert hub.get([]) == {}
    assert hub.calls == {}


# -- update --------------------------------------------------------------------------------------------------------
def test_identical_updates_share_calls_of_100(securityhub: SecurityHubSandbox, hub: SecurityHubClient):
    findings = imported(securityhub, [make_finding() for _ in range(250)])
    notified = FindingUpdate(workflow=WorkflowStatus.NOTIFIED, note="Tracked in Jira", user_defined_fields={"a": "1"})
    resolved = FindingUpdate(workflow=WorkflowStatus.RESOLVED, note="Fixed in Jira")
    updates = [(ident(f), notified if i % 2 else resolved) for i, f in enumerate(findings)]

    failures = hub.update(updates)

    assert failures == []
    assert hub.calls["BatchUpdateFindings"] == 4  # 125 of each kind: 100 + 25, twice
    first, second = stored(securityhub, findings[0]), stored(securityhub, findings[1])
    assert first["Workflow"]["Status"] == "RESOLVED"
    assert first["Note"]["Text"] == "Fixed in Jira"
    assert first["Note"]["UpdatedBy"] == "hubsync"
    assert second["Workflow"]["Status"] == "NOTIFIED"
    assert second["UserDefinedFields"] == {"a": "1"}


def test_update_writes_verification_state_and_cuts_long_notes(securityhub: SecurityHubSandbox, hub: SecurityHubClient):
    [finding] = imported(securityhub, [make_finding()])
    update = FindingUpdate(workflow=WorkflowStatus.SUPPRESSED, note="x" * 600, verification_state="FALSE_POSITIVE")

    assert hub.update([(ident(finding), update)]) == []

    after = stored(securityhub, finding)
    assert after["VerificationState"] == "FALSE_POSITIVE"
    assert after["Workflow"]["Status"] == "SUPPRESSED"
    assert len(after["Note"]["Text"]) == 512


def test_the_same_finding_twice_in_one_update_is_sent_once(securityhub: SecurityHubSandbox, hub: SecurityHubClient):
    [finding] = imported(securityhub, [make_finding()])
    update = FindingUpdate(workflow=WorkflowStatus.NOTIFIED)

    assert hub.update([(ident(finding), update), (ident(finding), update)]) == []
    assert hub.calls["BatchUpdateFindings"] == 1


def test_an_update_that_changes_nothing_calls_nothing(securityhub: SecurityHubSandbox, hub: SecurityHubClient):
    [finding] = imported(securityhub, [make_finding()])

    assert hub.update([(ident(finding), FindingUpdate())]) == []
    assert hub.calls == {}


def test_unknown_findings_come_back_as_failures_without_retry(
    securityhub: SecurityHubSandbox, hub: SecurityHubClient
):
    [known] = imported(securityhub, [make_finding()])
    unknown = FindingIdentifier("hubsync-test/deleted", known["ProductArn"])
    update = FindingUpdate(workflow=WorkflowStatus.NOTIFIED)

    failures = hub.update([(ident(known), update), (unknown, update)])

    assert failures == [UpdateFailure(unknown, "FindingNotFound", "Finding Not Found")]
    assert hub.calls["BatchUpdateFindings"] == 1
    assert stored(securityhub, known)["Workflow"]["Status"] == "NOTIFIED"


def test_a_refused_call_fails_its_findings_and_not_the_others(
    securityhub: SecurityHubSandbox, hub: SecurityHubClient
):
    findings = imported(securityhub, [make_finding() for _ in range(2)])
    good = FindingUpdate(workflow=WorkflowStatus.NOTIFIED)
    refused = FindingUpdate(user_defined_fields={"k": "v" * 2000})  # over Security Hub's 1024 limit

    failures = hub.update([(ident(findings[0]), refused), (ident(findings[1]), good)])

    assert [(f.identifier, f.error_code) for f in failures] == [(ident(findings[0]), "InvalidInputException")]
    assert stored(securityhub, findings[1])["Workflow"]["Status"] == "NOTIFIED"


def test_unprocessed_findings_that_may_pass_later_are_retried_the_rest_reported():
    def unprocessed(finding_id: str, code: str) -> dict[str, Any]:
        return {"FindingIdentifier": {"Id": finding_id, "ProductArn": "arn:p"}, "ErrorCode": code,
                "ErrorMessage": code.lower()}

    items = [unprocessed("a", "ConcurrentUpdateError"), unprocessed("b", "InternalFailure"),
             unprocessed("c", "FindingNotFound")]

    retry, failures = sort_unprocessed(items, may_retry=True)
    assert retry == [FindingIdentifier("a", "arn:p"), FindingIdentifier("b", "arn:p")]
    assert failures == [UpdateFailure(FindingIdentifier("c", "arn:p"), "FindingNotFound", "findingnotfound")]

    retry, failures = sort_unprocessed(items, may_retry=False)
    assert retry == []
    assert [f.error_code for f in failures] == ["ConcurrentUpdateError", "InternalFailure", "FindingNotFound"]


# -- throttling and Regions -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("error_code", ["LimitExceededException", "TooManyRequestsException"])
def test_throttled_calls_are_retried_until_they_pass(
    securityhub: SecurityHubSandbox, hub: SecurityHubClient, error_code: str
):
    findings = imported(securityhub, [make_finding() for _ in range(180)])
    throttling = {"enabled": True, "error_code": error_code}
    securityhub.control("POST", "/_sandbox/throttling", json=throttling).raise_for_status()

    found = hub.get([ident(f) for f in findings])  # 9 calls against a burst of 6 and 3 a second

    assert len(found) == len(findings)
    assert hub.calls["GetFindings"] > 9  # some were refused and sent again


def test_findings_of_linked_regions_are_read_and_updated_in_the_aggregation_region(
    securityhub: SecurityHubSandbox, hub: SecurityHubClient
):
    [finding] = imported(securityhub, [make_finding()], region=LINKED_REGION)

    [seen] = list(hub.findings({}))
    failures = hub.update([(ident(finding), FindingUpdate(workflow=WorkflowStatus.NOTIFIED))])

    assert seen.region == LINKED_REGION
    assert failures == []
    assert stored(securityhub, finding)["Workflow"]["Status"] == "NOTIFIED"

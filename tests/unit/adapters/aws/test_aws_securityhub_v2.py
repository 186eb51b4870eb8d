"""The new Security Hub's adapter against the Security Hub simulator's V2 operations, on the OCSF twins of the seed:
rule filters translated to OCSF, lookups by metadata.uid in batches, status and comment updates grouped, and
unprocessed findings retried or reported."""

from __future__ import annotations

import copy
import math
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from hubsync.adapters.securityhub import ocsf
from hubsync.adapters.securityhub.client_v2 import SecurityHubV2Client, UnsupportedFilter, v2_filters
from hubsync.domain.finding import FindingIdentifier, RecordState, Severity, WorkflowStatus
from hubsync.domain.plan import FindingUpdate
from hubsync.domain.policy import EscalationRule
from hubsync.service.reconcile import rule_filters
from hubsync_sandbox.seed import seed_findings
from tests.fixtures.securityhub import AGGREGATION_REGION, LINKED_REGION, MEMBER, OTHER_MEMBER, SecurityHubSandbox

SEED_NOW = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.fixture
def hub(securityhub: SecurityHubSandbox, monkeypatch: pytest.MonkeyPatch) -> SecurityHubV2Client:
    """The adapter as production would build it: from a session, with the endpoint taken from the environment."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECURITYHUB", securityhub.url)
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-west-2")
    return SecurityHubV2Client.for_session(session, region=AGGREGATION_REGION, sleep=lambda seconds: None)


@pytest.fixture
def twins(securityhub: SecurityHubSandbox) -> list[dict[str, Any]]:
    """The seed imported, with the OCSF twins enabling V2 adds: every V2 finding as the simulator holds it."""
    findings = seed_findings([MEMBER, OTHER_MEMBER], [AGGREGATION_REGION, LINKED_REGION], now=SEED_NOW)
    for region in (AGGREGATION_REGION, LINKED_REGION):
        batch = [f for f in findings if f["Resources"][0]["Region"] == region]
        client = securityhub.client(region=region)
        for start in range(0, len(batch), 100):
            assert client.batch_import_findings(Findings=batch[start : start + 100])["FailedCount"] == 0
    securityhub.sim.add_ocsf_twins()
    return held(securityhub)


def held(securityhub: SecurityHubSandbox) -> list[dict[str, Any]]:
    pages = securityhub.client().get_paginator("get_findings_v2").paginate()
    return [finding for page in pages for finding in page["Findings"]]


def ident(data: dict[str, Any]) -> FindingIdentifier:
    return FindingIdentifier(data["metadata"]["uid"], data["metadata"]["product"]["uid"])


RULES = [
    EscalationRule("every failing control", security_control_ids=("S3.1", "S3.8", "IAM.1", "SQS.1", "EC2.19")),
    EscalationRule("high and worse", min_severity=Severity.HIGH),
    EscalationRule("guardduty in one account", products=("GuardDuty",), account_ids=(MEMBER,)),
    EscalationRule("linked region, medium+", regions=(LINKED_REGION,), min_severity=Severity.MEDIUM),
    EscalationRule("controls by generator", generator_ids=("security-control/S3.8", "security-control/IAM.1")),
    # A policy written for Security Hub CSPM reads the same product on the new Security Hub.
    EscalationRule("guardduty by its CSPM arn", products=(f"arn:aws:securityhub:{AGGREGATION_REGION}::product/aws/",)),
]


# -- findings ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.name)
def test_rule_filters_fetch_the_live_new_findings_the_simulator_holds_for_the_rule(
    twins: list[dict[str, Any]], hub: SecurityHubV2Client, rule: EscalationRule
):
    expected = {
        finding.key
        for finding in map(ocsf.parse_finding, twins)
        if finding.record_state is RecordState.ACTIVE
        and finding.workflow_status is WorkflowStatus.NEW
        and finding.compliance_status != "PASSED"
        and rule.matches(finding)
    }

    found = [finding for filters in rule_filters(rule) for finding in hub.findings(filters)]

    assert expected  # the seed has findings for every rule, so the comparison says something
    assert {finding.key for finding in found} == expected
    assert len(found) == len(expected)


def test_a_product_arn_prefix_reads_the_products_v2_uid(twins: list[dict[str, Any]], hub: SecurityHubV2Client):
    v2_uid = next(t["metadata"]["product"]["uid"] for t in twins if t["metadata"]["product"]["name"] == "GuardDuty")
    expected = {ident(t).key for t in twins if t["metadata"]["product"]["uid"].startswith(v2_uid)}

    found = list(hub.findings({"ProductArn": [{"Value": v2_uid.replace("::productv2/", "::product/"),
                                               "Comparison": "PREFIX"}]}))

    assert expected and {f.key for f in found} == expected


def test_findings_page_100_at_a_time_most_severe_first(twins: list[dict[str, Any]], hub: SecurityHubV2Client):
    seen = list(hub.findings({}))

    assert sorted(f.key for f in seen) == sorted(ident(t).key for t in twins)
    ranks = [f.severity.rank for f in seen]
    assert ranks == sorted(ranks, reverse=True)
    assert hub.calls["GetFindingsV2"] == math.ceil(len(twins) / 100)


@pytest.mark.parametrize(
    "filters",
    [
        {"Id": [{"Value": "x", "Comparison": "EQUALS"}]},
        {"Title": [{"Value": "x", "Comparison": "PREFIX"}]},
        {"WorkflowStatus": [{"Value": "NEW", "Comparison": "NOT_EQUALS"}]},
        {"ComplianceStatus": [{"Value": "NOT_AVAILABLE", "Comparison": "EQUALS"}]},
        {"SeverityLabel": [{"Value": "SEVERE", "Comparison": "EQUALS"}]},
        {"RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}, {"Value": "ARCHIVED", "Comparison": "EQUALS"}]},
        {"UpdatedAt": [{"DateRange": {"Value": 1, "Unit": "DAYS"}}]},
    ],
)
def test_a_filter_with_no_v2_equivalent_is_refused_before_any_request(hub: SecurityHubV2Client, filters):
    with pytest.raises(UnsupportedFilter):
        list(hub.findings(filters))
    assert hub.calls == {}


def test_a_generator_other_than_a_controls_leaves_the_read_wider_not_refused(
    twins: list[dict[str, Any]], hub: SecurityHubV2Client
):
    """OCSF cannot filter on it; the rule asking for it is applied exactly to what the read returns."""
    generator = {"GeneratorId": [{"Value": "arn:aws:guardduty:us-east-1:1:detector/d", "Comparison": "EQUALS"},
                                 {"Value": "security-control/S3.8", "Comparison": "EQUALS"}]}
    critical = {"SeverityLabel": [{"Value": "CRITICAL", "Comparison": "EQUALS"}]}

    assert v2_filters({**generator, **critical}) == v2_filters(critical)
    assert {f.key for f in hub.findings({**generator, **critical})} == {f.key for f in hub.findings(critical)}


def test_a_note_prefix_reads_the_comment(
    securityhub: SecurityHubSandbox, twins: list[dict[str, Any]], hub: SecurityHubV2Client
):
    asked, other = ident(twins[0]), ident(twins[1])
    client = securityhub.client()
    client.batch_update_findings_v2(MetadataUids=[asked.id], Comment="#jira please look")
    client.batch_update_findings_v2(MetadataUids=[other.id], Comment="please look #jira")

    found = hub.findings({"NoteText": [{"Value": "#jira", "Comparison": "PREFIX"}]})

    assert [f.key for f in found] == [asked.key]


def test_translation_ands_attributes_and_ors_their_values():
    filters = v2_filters({
        "SeverityLabel": [{"Value": "CRITICAL", "Comparison": "EQUALS"}, {"Value": "LOW", "Comparison": "EQUALS"}],
        "ComplianceStatus": [{"Value": "PASSED", "Comparison": "NOT_EQUALS"}],
    })

    assert filters == {
        "CompositeOperator": "AND",
        "CompositeFilters": [
            {"NumberFilters": [{"FieldName": "severity_id", "Filter": {"Eq": n}} for n in (5, 6, 2)], "Operator": "OR"},
            {"StringFilters": [{"FieldName": "compliance.status", "Filter": {"Value": "Pass",
                                                                            "Comparison": "NOT_EQUALS"}}]},
        ],
    }


# -- get -----------------------------------------------------------------------------------------------------------
def test_get_finds_every_uid_200_to_a_call(twins: list[dict[str, Any]], hub: SecurityHubV2Client):
    assert len(twins) < 200
    gone = [FindingIdentifier(f"{n:064x}", twins[0]["metadata"]["product"]["uid"]) for n in range(300 - len(twins))]
    other_product = FindingIdentifier(twins[1]["metadata"]["uid"], "arn:aws:securityhub:us-east-1::productv2/x/y")

    found = hub.get([*map(ident, twins), *gone, other_product, ident(twins[0])])

    assert set(found) == {ident(t).key for t in twins}
    assert all(found[ident(t).key].title == t["finding_info"]["title"] for t in twins)
    # 300 distinct uids: the first 200 (every twin among them) answered in pages of 100, the other 100 in one
    assert hub.calls["GetFindingsV2"] == math.ceil(len(twins) / 100) + 1


def test_get_with_no_identifiers_calls_nothing(hub: SecurityHubV2Client):
    assert hub.get([]) == {}
    assert hub.calls == {}


# -- update --------------------------------------------------------------------------------------------------------
def test_updates_set_status_and_comment_grouped_in_calls_of_100(
    securityhub: SecurityHubSandbox, twins: list[dict[str, Any]], hub: SecurityHubV2Client
):
    assert len(twins) > 103
    many, few = twins[:-3], twins[-3:]
    long_note = "x" * 600
    updates = [
        *((ident(t), FindingUpdate(workflow=WorkflowStatus.NOTIFIED, note="hubsync:SEC-1",
                                   user_defined_fields={"hubsync": "SEC-1"}, verification_state="TRUE_POSITIVE"))
          for t in many),
        *((ident(t), FindingUpdate(workflow=WorkflowStatus.SUPPRESSED, note=long_note)) for t in few),
        (ident(twins[0]), FindingUpdate(user_defined_fields={"only": "fields"})),  # nothing V2 can write
    ]

    assert hub.update(updates) == []

    now = {t["metadata"]["uid"]: t for t in held(securityhub)}
    assert all((now[t["metadata"]["uid"]]["status_id"], now[t["metadata"]["uid"]]["comment"]) == (2, "hubsync:SEC-1")
               for t in many)
    assert all(now[t["metadata"]["uid"]]["status"] == "Suppressed" for t in few)
    assert {now[t["metadata"]["uid"]]["comment"] for t in few} == {"x" * 511 + "…"}
    assert hub.calls["BatchUpdateFindingsV2"] == math.ceil(len(many) / 100) + 1


def test_unprocessed_transient_findings_are_retried(
    securityhub: SecurityHubSandbox, twins: list[dict[str, Any]], hub: SecurityHubV2Client
):
    securityhub.control("POST", "/_sandbox/unprocessed-v2", json={"share": 1, "count": 2}).raise_for_status()

    assert hub.update([(ident(t), FindingUpdate(workflow=WorkflowStatus.RESOLVED)) for t in twins[:5]]) == []

    now = {t["metadata"]["uid"]: t for t in held(securityhub)}
    assert {now[t["metadata"]["uid"]]["status_id"] for t in twins[:5]} == {4}
    assert hub.calls["BatchUpdateFindingsV2"] == 2


def test_failures_that_outlast_the_retries_or_are_final_are_reported(
    securityhub: SecurityHubSandbox, twins: list[dict[str, Any]], hub: SecurityHubV2Client
):
    securityhub.control("POST", "/_sandbox/unprocessed-v2",
                        json={"share": 1, "error_code": "InternalServerException"}).raise_for_status()
    gone = FindingIdentifier("f" * 64, twins[0]["metadata"]["product"]["uid"])

    failures = hub.update([(ident(twins[0]), FindingUpdate(note="hubsync:SEC-2")), (gone, FindingUpdate(note="n"))])

    by_id = {failure.identifier: failure for failure in failures}
    assert set(by_id) == {ident(twins[0]), gone}
    assert (by_id[ident(twins[0])].error_code, by_id[ident(twins[0])].transient) == ("InternalServerException", True)
    assert hub.calls["BatchUpdateFindingsV2"] == 3 + 3  # two groups (their comments differ), three attempts each
    securityhub.control("DELETE", "/_sandbox/unprocessed-v2").raise_for_status()
    [final] = hub.update([(gone, FindingUpdate(workflow=WorkflowStatus.NEW))])
    assert (final.error_code, final.transient) == ("ResourceNotFoundException", False)


def test_a_finding_that_does_not_parse_is_skipped_and_counted(
    securityhub: SecurityHubSandbox, twins: list[dict[str, Any]], hub: SecurityHubV2Client,
    caplog: pytest.LogCaptureFixture
):
    bad = copy.deepcopy(twins[0])
    bad["metadata"]["uid"] = "b" * 64
    bad["finding_info"]["title"] = ["a title must be text"]
    securityhub.sim.ocsf_findings.put(bad)

    found = list(hub.findings({}))
    by_key = hub.get([ident(bad), ident(twins[1])])

    assert sorted(f.key for f in found) == sorted(ident(t).key for t in twins)
    assert set(by_key) == {ident(twins[1]).key}
    assert hub.invalid_findings == 2
    assert set(hub.unreadable) == {ident(bad).key}
    assert bad["metadata"]["uid"] in caplog.text

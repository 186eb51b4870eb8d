"""Security Hub V2 in the simulator: OCSF twins of the seeded findings, GetFindingsV2 and BatchUpdateFindingsV2
through boto3, the provider's lifecycle of a twin, and "Findings Imported V2" events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError
from flask import Flask, request

from hubsync_sandbox.httpserver import BackgroundServer
from hubsync_sandbox.securityhub import ocsf
from hubsync_sandbox.seed import seed_findings
from tests.fixtures.securityhub import (
    AGGREGATION_REGION,
    LINKED_REGION,
    MEMBER,
    OTHER_MEMBER,
    FakeClock,
    SecurityHubSandbox,
)

SEED_NOW = datetime(2025, 6, 1, tzinfo=UTC)
FAILING_CONTROLS = {"CompositeFilters": [{"NumberFilters": [{"FieldName": "compliance.status_id",
                                                             "Filter": {"Eq": 3}}]}]}


def seeded(sandbox: SecurityHubSandbox) -> list[dict[str, Any]]:
    """The seed's ASFF findings imported, and their OCSF twins added as enabling V2 would."""
    findings = seed_findings([MEMBER, OTHER_MEMBER], [AGGREGATION_REGION, LINKED_REGION], now=SEED_NOW)
    for region in (AGGREGATION_REGION, LINKED_REGION):
        batch = [f for f in findings if f["Resources"][0]["Region"] == region]
        client = sandbox.client(region=region)
        for start in range(0, len(batch), 100):
            assert client.batch_import_findings(Findings=batch[start : start + 100])["FailedCount"] == 0
    assert sandbox.sim.add_ocsf_twins() == len(findings)
    assert sandbox.sim.add_ocsf_twins() == 0  # once per finding
    return findings


def every_v2(client: Any, **kwargs: Any) -> list[dict[str, Any]]:
    pages = client.get_paginator("get_findings_v2").paginate(**kwargs)
    return [finding for page in pages for finding in page["Findings"]]


def by_finding_uid(findings: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {finding["finding_info"]["uid"]: finding for finding in findings}


def test_each_seeded_finding_has_a_twin_as_a_v2_account_sees_it(securityhub: SecurityHubSandbox) -> None:
    asff_findings = {f["Id"]: f for f in seeded(securityhub)}
    stored = {f["Id"]: f for f in securityhub.client().get_findings(MaxResults=100)["Findings"]}
    twins = every_v2(securityhub.client(), PaginationConfig={"PageSize": 17})
    assert len(twins) == len(asff_findings) and len({t["metadata"]["uid"] for t in twins}) == len(twins)
    for twin in twins:
        source = asff_findings[twin["finding_info"]["uid"]]
        assert twin["metadata"]["product"]["uid"] == source["ProductArn"].replace("::product/", "::productv2/")
        assert len(twin["metadata"]["uid"]) == 64 and int(twin["metadata"]["uid"], 16) >= 0
        assert twin["cloud"]["account"]["uid"] == source["AwsAccountId"]
        assert twin["status"] == ocsf.STATUS_NAMES[twin["status_id"]]
        assert twin["severity"] == ocsf.SEVERITY_NAMES[twin["severity_id"]]
        assert all(resource["type"].startswith("AWS::") for resource in twin["resources"])
        if source["RecordState"] == "ARCHIVED":
            assert (twin["status_id"], twin["activity_name"]) == (5, "Close")
        elif source.get("Compliance", {}).get("Status") == "PASSED":
            assert (twin["status"], twin["compliance"]["status"], twin["severity"]) == ("Resolved", "Pass",
                                                                                     "Informational")
        elif "Compliance" in source:
            assert (twin["status_id"], twin["compliance"]["status_id"]) == (1, 3)
            assert twin["compliance"]["control"] == source["Compliance"]["SecurityControlId"]
            assert twin["compliance"]["standards"]
        if source["Id"] in stored and stored[source["Id"]]["RecordState"] == "ACTIVE":
            assert ocsf.STATUS_BY_WORKFLOW[stored[source["Id"]]["Workflow"]["Status"]] == twin["status_id"]
    assert {t["class_uid"] for t in twins} == {2002, 2003, 2004}
    queues = [r for t in twins for r in t["resources"] if r["type"] == "AWS::SQS::Queue"]
    policies = [r for t in twins for r in t["resources"] if r["type"] == "AWS::IAM::Policy"]
    assert queues and all(q["uid"].startswith("https://sqs.") and q["uid_alt"].startswith("arn:aws:sqs:")
                          for q in queues)
    assert policies and all(not p["uid"].startswith("arn:") and p["uid_alt"].startswith("arn:aws:iam::")
                            for p in policies)


def test_get_findings_v2_filters_sorts_and_pages(securityhub: SecurityHubSandbox) -> None:
    seeded(securityhub)
    client = securityhub.client()
    failing = every_v2(client, Filters=FAILING_CONTROLS, PaginationConfig={"PageSize": 5},
                       SortCriteria=[{"Field": "severity_id", "SortOrder": "desc"},
                                     {"Field": "finding_info.modified_time_dt", "SortOrder": "asc"}])
    assert failing and all(f["compliance"]["status"] == "Fail" for f in failing)
    keys = [(-f["severity_id"], f["finding_info"]["modified_time_dt"]) for f in failing]
    assert keys == sorted(keys)
    newest_first = every_v2(client, SortCriteria=[{"Field": "finding_info.modified_time_dt", "SortOrder": "desc"}])
    times = [f["finding_info"]["modified_time_dt"] for f in newest_first]
    assert times == sorted(times, reverse=True)
    member = every_v2(securityhub.client(account_id=MEMBER))
    assert member and {f["cloud"]["account"]["uid"] for f in member} == {MEMBER}
    linked = every_v2(securityhub.client(region=LINKED_REGION))
    assert linked and {f["cloud"]["region"] for f in linked} == {LINKED_REGION}
    scoped = client.get_findings_v2(Scopes={"AwsOrganizations": [{"OrganizationId": "o-example"}]}, MaxResults=1)
    assert len(scoped["Findings"]) == 1
    with pytest.raises(client.exceptions.AccessDeniedException):
        securityhub.client(account_id=MEMBER).get_findings_v2(Scopes={"AwsOrganizations": [{"OrganizationId": "o"}]})
    with pytest.raises(client.exceptions.ValidationException):
        client.get_findings_v2(Filters={"CompositeFilters": [{"StringFilters": [
            {"FieldName": "Title", "Filter": {"Value": "x", "Comparison": "EQUALS"}}]}]})
    with pytest.raises(client.exceptions.ValidationException):
        client.get_findings_v2(NextToken="garbage")
    with pytest.raises(ClientError):
        client.get_findings_v2(MaxResults=101)


def test_batch_update_findings_v2_sets_status_severity_and_comment_only(securityhub: SecurityHubSandbox) -> None:
    seeded(securityhub)
    client = securityhub.client()
    [first, second] = client.get_findings_v2(Filters=FAILING_CONTROLS, MaxResults=2)["Findings"]
    answer = client.batch_update_findings_v2(MetadataUids=[first["metadata"]["uid"], "0" * 64], StatusId=2,
                                             SeverityId=5, Comment="hubsync:SEC-1")
    assert answer["ProcessedFindings"] == [{"MetadataUid": first["metadata"]["uid"]}]
    [missing] = answer["UnprocessedFindings"]
    assert (missing["MetadataUid"], missing["ErrorCode"]) == ("0" * 64, "ResourceNotFoundException")
    identifier = {"CloudAccountUid": second["cloud"]["account"]["uid"],
                  "FindingInfoUid": second["finding_info"]["uid"],
                  "MetadataProductUid": second["metadata"]["product"]["uid"]}
    answer = client.batch_update_findings_v2(FindingIdentifiers=[identifier], StatusId=3)
    assert answer["ProcessedFindings"] == [{"FindingIdentifier": identifier, "MetadataUid": second["metadata"]["uid"]}]
    now = by_finding_uid(every_v2(client))
    updated, suppressed = now[first["finding_info"]["uid"]], now[second["finding_info"]["uid"]]
    assert (updated["status"], updated["severity"], updated["comment"]) == ("In Progress", "Critical",
                                                                            "hubsync:SEC-1")
    assert updated["finding_info"] == first["finding_info"] and updated["time"] == first["time"]
    assert (suppressed["status_id"], suppressed["status"], suppressed["severity_id"]) == (3, "Suppressed",
                                                                                         second["severity_id"])
    asff_twin = client.get_findings(Filters={"Id": [{"Value": first["finding_info"]["uid"],
                                                     "Comparison": "EQUALS"}]})["Findings"][0]
    assert asff_twin["Workflow"]["Status"] == "NEW" and "Note" not in asff_twin  # the records are independent
    refused = [
        {"MetadataUids": [first["metadata"]["uid"]], "FindingIdentifiers": [identifier], "StatusId": 1},
        {"MetadataUids": [first["metadata"]["uid"]]},
        {"MetadataUids": [first["metadata"]["uid"]], "StatusId": 6},
        {"MetadataUids": [first["metadata"]["uid"]], "SeverityId": 7},
        {"MetadataUids": [first["metadata"]["uid"]], "Comment": "x" * 513},
        {"MetadataUids": ["u"] * 101, "StatusId": 1},
    ]
    for call in refused:
        with pytest.raises(client.exceptions.ValidationException):
            client.batch_update_findings_v2(**call)
    member = securityhub.client(account_id=MEMBER)
    others = [f for f in now.values() if f["cloud"]["account"]["uid"] == OTHER_MEMBER]
    answer = member.batch_update_findings_v2(MetadataUids=[others[0]["metadata"]["uid"]], StatusId=2)
    assert answer["UnprocessedFindings"][0]["ErrorCode"] == "ResourceNotFoundException"


def test_the_unprocessed_v2_knob_leaves_updates_undone_for_retries(securityhub: SecurityHubSandbox) -> None:
    seeded(securityhub)
    client = securityhub.client()
    uids = [f["metadata"]["uid"] for f in client.get_findings_v2(MaxResults=4)["Findings"]]
    assert securityhub.control("POST", "/_sandbox/unprocessed-v2",
                               json={"share": 1, "error_code": "CantDo"}).status_code == 400
    assert securityhub.control("POST", "/_sandbox/unprocessed-v2", json={"share": 1, "count": 3}).status_code == 200
    answer = client.batch_update_findings_v2(MetadataUids=uids, Comment="retry me")
    assert [u["ErrorCode"] for u in answer["UnprocessedFindings"]] == ["ConflictException"] * 3
    assert len(answer["ProcessedFindings"]) == 1
    assert securityhub.control("GET", "/_sandbox/unprocessed-v2").json()["served"] == 3
    again = client.batch_update_findings_v2(MetadataUids=[u["MetadataUid"] for u in answer["UnprocessedFindings"]],
                                            Comment="retry me")
    assert len(again["ProcessedFindings"]) == 3 and again["UnprocessedFindings"] == []
    assert securityhub.sim.unprocessed.settings()["served"] == 0  # the CSPM knob is apart


def test_the_provider_archives_and_reopens_a_twin(securityhub_factory: Any) -> None:
    clock = FakeClock(SEED_NOW)
    sandbox = securityhub_factory(clock=clock)
    seeded(sandbox)
    client = sandbox.client()
    [finding] = client.get_findings_v2(Filters=FAILING_CONTROLS, MaxResults=1)["Findings"]
    uid = finding["metadata"]["uid"]
    clock.advance(3600)
    archived = sandbox.control("POST", f"/_sandbox/ocsf/{uid}/archive").json()["finding"]
    assert (archived["status"], archived["activity_name"], archived["type_uid"]) == ("Archived", "Close", 200303)
    closed = client.get_findings_v2(Filters={"CompositeFilters": [{"StringFilters": [
        {"FieldName": "activity_name", "Filter": {"Value": "Close", "Comparison": "EQUALS"}}]}]})["Findings"]
    assert uid in {f["metadata"]["uid"] for f in closed}
    clock.advance(3600)
    client.batch_update_findings_v2(MetadataUids=[uid], StatusId=4)
    back = sandbox.sim.recur_ocsf(uid)
    assert (back["status"], back["activity_name"], back["compliance"]["status"]) == ("New", "Update", "Fail")
    assert back["finding_info"]["modified_time_dt"] == "2025-06-01T02:00:00.000Z"
    assert back["finding_info"]["modified_time_dt"] > finding["finding_info"]["modified_time_dt"]
    assert sandbox.control("POST", "/_sandbox/ocsf/nope/archive").status_code == 404


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    app = Flask("v2-receiver")

    @app.post("/events")
    def events() -> tuple[str, int]:
        received.append(json.loads(request.get_data()))
        return "", 204

    server = BackgroundServer(app, name="v2-receiver").start()
    yield f"{server.url}/events", received
    server.stop()


def test_v2_events_reach_only_targets_whose_rule_asks_for_them(
    securityhub: SecurityHubSandbox, receiver: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = receiver
    cspm_only = securityhub.sim.events.add_http_target(url + "?rule=cspm")
    v2 = securityhub.control("POST", "/_sandbox/event-targets",
                             json={"type": "http", "url": url, "detail_types": ["Findings Imported V2"]}).json()["id"]
    seeded(securityhub)
    [finding] = securityhub.client().get_findings_v2(MaxResults=1)["Findings"]
    securityhub.client().batch_update_findings_v2(MetadataUids=[finding["metadata"]["uid"]], Comment="c")
    securityhub.sim.events.flush(timeout=20)
    v2_events = [e["event"] for e in securityhub.sim.events.events() if e["event"]["detail-type"] ==
                 "Findings Imported V2"]
    assert all(set(e["deliveries"]) == {v2} for e in securityhub.sim.events.events()
               if e["event"]["detail-type"] == "Findings Imported V2")
    assert all(set(e["deliveries"]) == {cspm_only} for e in securityhub.sim.events.events()
               if e["event"]["detail-type"] != "Findings Imported V2")
    last = v2_events[-1]
    assert (last["source"], last["resources"], last["detail"]["findings"][0]["comment"]) == (
        "aws.securityhub", [finding["metadata"]["uid"]], "c")
    assert len([e for e in received if e["detail-type"] == "Findings Imported V2"]) == len(v2_events)

"""The knobs the chaos suite turns on the Security Hub simulator: BatchUpdateFindings leaving a share of its
findings unprocessed with a transient error code, and the count of requests the fault knobs hit."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from tests.fixtures.securityhub import SecurityHubSandbox, identifier, make_finding


def imported(sandbox: SecurityHubSandbox, count: int) -> tuple[Any, list[dict[str, Any]]]:
    client = sandbox.client()
    findings = [make_finding() for _ in range(count)]
    assert client.batch_import_findings(Findings=findings)["FailedCount"] == 0
    return client, findings


def workflow_of(client: Any, finding: dict[str, Any]) -> str:
    [found] = client.get_findings(Filters={"Id": [{"Value": finding["Id"], "Comparison": "EQUALS"}]})["Findings"]
    return found["Workflow"]["Status"]


def test_every_finding_is_processed_by_default(securityhub: SecurityHubSandbox) -> None:
    client, findings = imported(securityhub, 3)
    result = client.batch_update_findings(FindingIdentifiers=[identifier(f) for f in findings],
                                          Workflow={"Status": "NOTIFIED"})
    assert (len(result["ProcessedFindings"]), result["UnprocessedFindings"]) == (3, [])
    assert securityhub.control("GET", "/_sandbox/unprocessed").json() == {
        "share": 0.0, "error_code": "ConcurrentUpdateError", "count": None, "served": 0}


def test_a_share_of_findings_is_left_unprocessed_unchanged_with_a_transient_code(
    securityhub: SecurityHubSandbox,
) -> None:
    client, findings = imported(securityhub, 4)
    answer = securityhub.control("POST", "/_sandbox/unprocessed", json={"share": 1, "error_code": "InternalFailure",
                                                                        "count": 3})
    assert answer.status_code == 200, answer.text

    result = client.batch_update_findings(FindingIdentifiers=[identifier(f) for f in findings],
                                          Workflow={"Status": "NOTIFIED"})

    assert [(u["FindingIdentifier"], u["ErrorCode"]) for u in result["UnprocessedFindings"]] == [
        (identifier(f), "InternalFailure") for f in findings[:3]]
    assert result["ProcessedFindings"] == [identifier(findings[3])]  # the count ran out: the knob is off again
    assert [workflow_of(client, f) for f in findings] == ["NEW", "NEW", "NEW", "NOTIFIED"]
    assert securityhub.control("GET", "/_sandbox/unprocessed").json()["served"] == 3
    again = client.batch_update_findings(FindingIdentifiers=[identifier(findings[0])], Workflow={"Status": "NOTIFIED"})
    assert again["UnprocessedFindings"] == []


def test_the_unprocessed_knob_is_cleared_and_refuses_what_security_hub_never_answers(
    securityhub: SecurityHubSandbox,
) -> None:
    client, findings = imported(securityhub, 2)
    assert securityhub.control("POST", "/_sandbox/unprocessed", json={"share": 1}).status_code == 200
    assert securityhub.control("DELETE", "/_sandbox/unprocessed").status_code == 204
    result = client.batch_update_findings(FindingIdentifiers=[identifier(f) for f in findings],
                                          Workflow={"Status": "NOTIFIED"})
    assert result["UnprocessedFindings"] == []
    for body in ({"share": 2}, {"share": 0.5, "error_code": "FindingNotFound"}, {"share": 0.5, "count": 0},
                 {"error_code": "InternalFailure"}, {"share": 0.5, "extra": 1}):
        assert securityhub.control("POST", "/_sandbox/unprocessed", json=body).status_code == 400, body


def test_the_faults_in_force_and_the_requests_they_hit_are_listed(securityhub: SecurityHubSandbox) -> None:
    client = securityhub.client()
    securityhub.control("POST", "/_sandbox/faults", json={"status": 429, "count": 2})
    securityhub.control("POST", "/_sandbox/faults", json={"latency_ms": 1, "path_prefix": "/findings"})
    listed = securityhub.control("GET", "/_sandbox/faults").json()
    assert [(f["status"], f["count"]) for f in listed["faults"]] == [(429, 2), (None, None)]

    codes = []
    for _ in range(3):
        try:
            client.get_findings()
            codes.append(None)
        except ClientError as exc:
            codes.append(exc.response["Error"]["Code"])

    assert codes == ["LimitExceededException", "LimitExceededException", None]
    assert securityhub.control("GET", "/_sandbox/faults").json()["served"] == {"429": 2, "latency": 1}
    assert securityhub.control("DELETE", "/_sandbox/counters").status_code == 204
    assert securityhub.control("GET", "/_sandbox/faults").json()["served"] == {}

"""Security Hub events → hints: what the intake takes, what it refuses and how it ranks the work."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from hubsync.domain.finding import FindingIdentifier, Severity
from hubsync.domain.hint import HintSource, Priority
from hubsync.domain.tenant import AuthMode, JiraFlavour, Tenant
from hubsync.service.intake import (
    InvalidEvent,
    UnsupportedEvent,
    hints_for,
    parse_event_body,
    parse_events,
    tenants_watching,
)
from hubsync_sandbox.securityhub.events import custom_action_event, imported_event
from tests.fixtures.securityhub import make_finding

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
ADMIN = "222233334444"


def imported(**finding: Any) -> dict[str, Any]:
    return imported_event(make_finding(**finding), ADMIN, "eu-west-1", NOW)


def test_an_imported_event_names_its_finding_and_severity() -> None:
    event = imported(Severity={"Label": "CRITICAL", "Original": "CRITICAL"})
    finding = event["detail"]["findings"][0]

    [parsed] = parse_events(event)

    assert parsed.id == event["id"] and parsed.account == ADMIN
    assert parsed.source is HintSource.SECURITYHUB_IMPORTED
    assert parsed.findings[0].identifier == FindingIdentifier(finding["Id"], finding["ProductArn"])
    assert parsed.findings[0].severity is Severity.CRITICAL


def test_a_custom_action_event_escalates_by_hand_and_goes_first() -> None:
    finding = make_finding(Severity={"Label": "LOW"})
    event = custom_action_event(finding, "arn:aws:securityhub:eu-west-1:222233334444:action/custom/hubsync",
                                "Send to Jira", "Create or show the Jira ticket", ADMIN, "eu-west-1", NOW)

    hints = hints_for("t1", parse_events(event))

    assert [hint.by_hand for hint in hints] == [True]
    assert [hint.priority for hint in hints] == [Priority.BY_HAND]


def test_priorities_follow_severity_label_or_normalized_score() -> None:
    events = [imported(Severity={"Label": "HIGH"}), imported(Severity={"Normalized": 95}), imported(Severity={}),
              imported(Severity={"Label": "INFORMATIONAL"})]

    hints = hints_for("t1", parse_events(events))

    expected = [Priority.HIGH, Priority.CRITICAL, Priority.NORMAL, Priority.INFORMATIONAL]
    assert [hint.priority for hint in hints] == expected


@pytest.mark.parametrize(
    "severity",
    [{"Label": "SEVERE"}, {"Label": 7}, {"Normalized": 101}, {"Normalized": "high"}, {"Normalized": True}, "HIGH",
     None, []],
)
def test_a_severity_hubsync_cannot_read_ranks_the_hint_normal_rather_than_refusing_it(severity: Any) -> None:
    event = imported()
    event["detail"]["findings"][0]["Severity"] = severity

    [hint] = hints_for("t1", parse_events(event))

    assert hint.priority is Priority.NORMAL
    assert hint.finding == FindingIdentifier(event["detail"]["findings"][0]["Id"],
                                             event["detail"]["findings"][0]["ProductArn"])


def test_a_long_event_id_is_replaced_by_its_digest_the_same_on_every_delivery() -> None:
    event = imported()
    event["id"] = "e" * 256  # the longest id EventBridge may send
    event["detail"]["findings"].append(make_finding(Id="arn:aws:securityhub:eu-west-1:111122223333:finding/2"))
    short = imported()
    short["id"] = "s" * 200  # at the bound: kept as it is

    first = hints_for("t1", parse_events([event, short]))
    again = hints_for("t1", parse_events([event, short]))

    ids = [hint.event_id for hint in first]
    assert ids == [hint.event_id for hint in again]
    assert all(event_id is not None and len(event_id) <= 200 for event_id in ids)
    assert ids[0] == "sha256:" + hashlib.sha256(f"{'e' * 256}/0".encode()).hexdigest()
    assert ids[0] != ids[1] and ids[2] == "s" * 200


def test_each_hint_carries_the_event_id_so_a_redelivery_is_recognised() -> None:
    single = imported()
    several = imported()
    several["detail"]["findings"].append(make_finding(Id="arn:aws:securityhub:eu-west-1:111122223333:finding/2"))

    hints = hints_for("t1", parse_events([single, several]))

    assert [hint.event_id for hint in hints] == [single["id"], f"{several['id']}/0", f"{several['id']}/1"]
    assert {hint.tenant_id for hint in hints} == {"t1"}


def test_unknown_attributes_anywhere_are_ignored() -> None:
    event = imported(BrandNewAsffAttribute={"x": 1})
    event["new-envelope-field"] = True

    assert len(parse_events(event)) == 1


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda e: e.pop("id"), "id: Missing data for required field."),
        (lambda e: e.update(source="aws.guardduty"), "source: Must be equal to aws.securityhub."),
        (lambda e: e.update(account="12"), "account: not a 12-digit AWS account id"),
        (lambda e: e["detail"].update(findings=[]), "detail.findings: Length must be between 1 and 100."),
        (lambda e: e["detail"]["findings"][0].pop("ProductArn"),
         "detail.findings[0].ProductArn: Missing data for required field."),
    ],
)
def test_a_malformed_event_is_refused_saying_what_is_wrong(change, expected) -> None:
    event = imported()
    change(event)

    with pytest.raises(InvalidEvent) as error:
        parse_events(event)

    assert expected in error.value.lines


def test_every_problem_of_every_event_is_listed_with_its_place() -> None:
    first, second = imported(), imported()
    first.pop("id")
    second["detail"]["findings"][0].pop("Id")

    with pytest.raises(InvalidEvent) as error:
        parse_events([first, second])

    assert error.value.lines == ["[0].id: Missing data for required field.",
                                 "[1].detail.findings[0].Id: Missing data for required field."]


@pytest.mark.parametrize("body", [None, "text", 3, [], [1], {"detail-type": "Security Hub Findings - Imported"}])
def test_a_body_that_is_not_events_is_refused(body) -> None:
    with pytest.raises(InvalidEvent):
        parse_events(body)


@pytest.mark.parametrize("raw", [b"[" * 5000 + b"]" * 5000, b'{"a":' * 900 + b"1" + b"}" * 900, b"{", b"\xff"])
def test_a_raw_body_that_is_not_json_or_nests_too_deeply_is_invalid_never_a_recursion_error(raw: bytes) -> None:
    with pytest.raises(InvalidEvent) as error:
        parse_event_body(raw)

    assert error.value.lines[0].startswith("(body): not JSON")


def test_a_raw_body_of_events_is_parsed_as_its_json_is() -> None:
    event = imported()

    assert parse_event_body(json.dumps(event).encode()) == parse_events(event)


def test_another_detail_type_is_unsupported_not_malformed() -> None:
    event = imported()
    event["detail-type"] = "Security Hub Insight Results"

    with pytest.raises(UnsupportedEvent, match="Insight Results"):
        parse_events(event)


def test_an_event_from_a_queue_goes_to_the_tenants_watching_its_account() -> None:
    def tenant(name: str, account: str, enabled: bool = True) -> Tenant:
        return Tenant(id=name, name=name, jira_base_url="https://x", jira_flavour=JiraFlavour.CLOUD,
                      auth_mode=AuthMode.CONNECT, external_id="e", enabled=enabled,
                      aws_role_arn=f"arn:aws:iam::{account}:role/hubsync-securityhub")

    tenants = [tenant("a", ADMIN), tenant("b", "999988887777"), tenant("c", ADMIN), tenant("d", ADMIN, False)]

    assert [t.id for t in tenants_watching(ADMIN, tenants)] == ["a", "c"]
    assert tenants_watching(None, tenants) == []

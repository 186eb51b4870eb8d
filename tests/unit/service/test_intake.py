"""Security Hub events → hints: what the intake takes (CSPM's ASFF events and the new Security Hub's OCSF ones), what
it refuses, how it ranks the work, and which tenants it is work for."""

from __future__ import annotations

import hashlib
import itertools
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from hubsync.domain.finding import FindingIdentifier, Severity
from hubsync.domain.hint import HintSource, Priority
from hubsync.domain.tenant import AuthMode, JiraFlavour, SecurityHubGeneration, Tenant
from hubsync.service.intake import (
    InvalidEvent,
    UnsupportedEvent,
    hints_for,
    parse_event_body,
    parse_events,
    reads,
    tenants_watching,
)
from hubsync_sandbox.securityhub.events import custom_action_event, imported_event, imported_v2_event
from tests.fixtures.securityhub import make_finding

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
ADMIN = "222233334444"


PRODUCT_V2 = "arn:aws:securityhub:eu-west-1::productv2/aws/guardduty"
_uids = itertools.count(1)


def imported(**finding: Any) -> dict[str, Any]:
    return imported_event(make_finding(**finding), ADMIN, "eu-west-1", NOW)


def ocsf_finding(**changes: Any) -> dict[str, Any]:
    """A GuardDuty detection as the new Security Hub sends it in "Findings Imported V2"; keywords replace
    attributes."""
    data: dict[str, Any] = {
        "activity_id": 2, "activity_name": "Update", "category_uid": 2, "class_uid": 2004,
        "class_name": "Detection Finding", "type_uid": 200402, "time_dt": "2025-06-01T12:00:00.000Z",
        "severity_id": 4, "severity": "High", "status_id": 1, "status": "New",
        "metadata": {"version": "1.6.0", "uid": f"{next(_uids):064x}",
                     "product": {"name": "GuardDuty", "vendor_name": "AWS", "uid": PRODUCT_V2}},
        "cloud": {"provider": "AWS", "region": "eu-west-1", "account": {"uid": "111122223333"}},
        "finding_info": {"uid": "arn:aws:guardduty:eu-west-1:111122223333:detector/d/finding/f",
                         "title": "An AWS CloudTrail trail was disabled."},
        "resources": [{"type": "AWS::IAM::AccessKey", "uid": "ASIAEXAMPLEKEY"}],
    }
    data.update(changes)
    return data


def imported_v2(**finding: Any) -> dict[str, Any]:
    return imported_v2_event(ocsf_finding(**finding), ADMIN, "eu-west-1", NOW)


def make_tenant(name: str, account: str = ADMIN, enabled: bool = True,
                generation: SecurityHubGeneration = SecurityHubGeneration.CSPM) -> Tenant:
    return Tenant(id=name, name=name, jira_base_url="https://x", jira_flavour=JiraFlavour.CLOUD,
                  auth_mode=AuthMode.CONNECT, external_id="e", enabled=enabled, securityhub_generation=generation,
                  aws_role_arn=f"arn:aws:iam::{account}:role/hubsync-securityhub")


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
    tenants = [make_tenant("a"), make_tenant("b", "999988887777"), make_tenant("c"), make_tenant("d", enabled=False)]

    assert [t.id for t in tenants_watching(ADMIN, tenants)] == ["a", "c"]
    assert tenants_watching(None, tenants) == []


# -- the new Security Hub: "Findings Imported V2" (OCSF) --------------------------------------------------------


def test_an_imported_v2_event_names_its_finding_by_metadata_uid_under_its_product() -> None:
    event = imported_v2(severity_id=5, severity="Critical")
    finding = event["detail"]["findings"][0]

    [parsed] = parse_events(event)
    [hint] = hints_for("t1", [parsed])

    assert parsed.id == event["id"] and parsed.account == ADMIN
    assert parsed.generation is SecurityHubGeneration.V2
    assert parsed.source is HintSource.SECURITYHUB_IMPORTED
    assert parsed.findings[0].identifier == FindingIdentifier(finding["metadata"]["uid"], PRODUCT_V2)
    assert parsed.findings[0].severity is Severity.CRITICAL
    assert (hint.finding, hint.event_id, hint.priority) == (parsed.findings[0].identifier, event["id"],
                                                            Priority.CRITICAL)


@pytest.mark.parametrize(
    ("severity_id", "severity", "expected"),
    [
        (1, "Informational", Priority.INFORMATIONAL), (2, None, Priority.LOW), (3, "High", Priority.NORMAL),
        (4, None, Priority.HIGH), (5, None, Priority.CRITICAL), (6, "Fatal", Priority.CRITICAL),
        (None, "Fatal", Priority.CRITICAL), (None, "high", Priority.HIGH), (0, "Low", Priority.LOW),
        (99, "Other", Priority.NORMAL), (True, "Low", Priority.LOW), ("4", None, Priority.NORMAL),
        (7, None, Priority.NORMAL), (4.0, None, Priority.NORMAL), (None, ["High"], Priority.NORMAL),
        (None, None, Priority.NORMAL),
    ],
)
def test_a_v2_hint_is_ranked_by_severity_id_else_its_name_else_normal(severity_id, severity, expected) -> None:
    event = imported_v2(severity_id=severity_id, severity=severity)

    [hint] = hints_for("t1", parse_events(event))

    assert hint.priority is expected


@pytest.mark.parametrize("comment", ["#jira", "#JIRA please", "  \n\t#Jira: payments team", "#jira" + "x" * 100_000])
def test_a_v2_finding_whose_comment_asks_for_a_ticket_goes_first(comment: str) -> None:
    event = imported_v2(severity_id=1, comment=comment)

    [hint] = hints_for("t1", parse_events(event))

    assert hint.priority is Priority.BY_HAND
    assert hint.source is HintSource.SECURITYHUB_IMPORTED  # the worker reads the fresh finding's comment itself


@pytest.mark.parametrize("comment", ["please #jira", "jira", "# jira", "", None, 42, {"text": "#jira"}, ["#jira"]])
def test_any_other_comment_leaves_the_rank_to_the_severity(comment: Any) -> None:
    event = imported_v2(severity_id=2, comment=comment)

    [hint] = hints_for("t1", parse_events(event))

    assert hint.priority is Priority.LOW


@pytest.mark.parametrize(
    ("note", "expected"),
    [({"Text": "#jira", "UpdatedBy": "alice", "UpdatedAt": "2025-06-01T12:00:00Z"}, Priority.BY_HAND),
     ({"Text": " #Jira for the payments team"}, Priority.BY_HAND),
     ({"Text": "looked at it, #jira later"}, Priority.LOW), ({"Text": 5}, Priority.LOW), ("#jira", Priority.LOW),
     (None, Priority.LOW)],
)
def test_a_cspm_finding_whose_note_asks_for_a_ticket_goes_first(note: Any, expected: Priority) -> None:
    event = imported(Severity={"Label": "LOW"}, Note=note)

    [hint] = hints_for("t1", parse_events(event))

    assert hint.priority is expected and hint.source is HintSource.SECURITYHUB_IMPORTED


def test_several_v2_findings_and_an_array_of_both_generations_are_taken() -> None:
    several = imported_v2()
    several["detail"]["findings"].append(ocsf_finding(comment="#jira"))
    cspm = imported()

    events = parse_events([several, cspm])
    hints = hints_for("t1", events)

    assert [event.generation for event in events] == [SecurityHubGeneration.V2, SecurityHubGeneration.CSPM]
    assert [hint.event_id for hint in hints] == [f"{several['id']}/0", f"{several['id']}/1", cspm["id"]]
    assert [hint.priority for hint in hints] == [Priority.HIGH, Priority.BY_HAND, Priority.HIGH]
    assert [hint.finding.id for hint in hints if hint.finding] == [
        several["detail"]["findings"][0]["metadata"]["uid"], several["detail"]["findings"][1]["metadata"]["uid"],
        cspm["detail"]["findings"][0]["Id"]]


def test_the_rest_of_the_ocsf_is_ignored_whatever_it_holds() -> None:
    event = imported_v2(finding_info="not an object", resources=None, status_id="New", brand_new_attribute={"x": 1},
                        cloud=[], time_dt=17)
    event["detail"]["findings"][0]["metadata"]["version"] = ["1.9.0"]
    event["detail"]["findings"][0]["metadata"]["product"]["name"] = 3
    event["detail"]["other"] = True

    [parsed] = parse_events(event)

    assert parsed.findings[0].identifier.product_arn == PRODUCT_V2


def test_identifiers_at_their_longest_are_taken() -> None:
    event = imported_v2(metadata={"uid": "u" * 512, "product": {"uid": "p" * 2048}})

    [parsed] = parse_events(event)

    assert parsed.findings[0].identifier == FindingIdentifier("u" * 512, "p" * 2048)


def _set(path: str, value: Any) -> Any:
    """A change to the event's first finding: `value` at the dotted `path` (`...` deletes it)."""

    def change(event: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = event["detail"]["findings"][0]
        for name in parents:
            target = target[name]
        if value is ...:
            del target[last]
        else:
            target[last] = value

    return change


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_set("metadata.uid", ...), "detail.findings[0].metadata.uid: Missing data for required field."),
        (_set("metadata.product.uid", ...),
         "detail.findings[0].metadata.product.uid: Missing data for required field."),
        (_set("metadata.product", ...), "detail.findings[0].metadata.product: Missing data for required field."),
        (_set("metadata", ...), "detail.findings[0].metadata: Missing data for required field."),
        (_set("metadata.uid", 42), "detail.findings[0].metadata.uid: Not a valid string."),
        (_set("metadata.uid", None), "detail.findings[0].metadata.uid: Field may not be null."),
        (_set("metadata.uid", ["a"]), "detail.findings[0].metadata.uid: Not a valid string."),
        (_set("metadata.product.uid", {"arn": "x"}), "detail.findings[0].metadata.product.uid: Not a valid string."),
        (_set("metadata.product", "arn:aws:securityhub:eu-west-1::productv2/aws/guardduty"),
         "detail.findings[0].metadata.product: Invalid input type."),
        (_set("metadata", []), "detail.findings[0].metadata: Invalid input type."),
        (_set("metadata.uid", ""), "detail.findings[0].metadata.uid: Length must be between 1 and 512."),
        (_set("metadata.uid", "\u202e" * 513), "detail.findings[0].metadata.uid: Length must be between 1 and 512."),
        (_set("metadata.product.uid", "p" * 2049),
         "detail.findings[0].metadata.product.uid: Length must be between 1 and 2048."),
        (lambda e: e["detail"].update(findings={"0": {}}), "detail.findings: Not a valid list."),
        (lambda e: e["detail"].update(findings=[]), "detail.findings: Length must be between 1 and 100."),
        (lambda e: e["detail"]["findings"].__setitem__(0, "metadata"),
         "detail.findings[0]: Invalid input type."),
        (lambda e: e.update(detail="findings"), "detail: Not a valid mapping type."),
        (lambda e: e.update(source="aws.guardduty"), "source: Must be equal to aws.securityhub."),
    ],
)
def test_a_malformed_v2_event_is_refused_saying_what_is_wrong(change, expected) -> None:
    event = imported_v2()
    change(event)

    with pytest.raises(InvalidEvent) as error:
        parse_events(event)

    assert expected in error.value.lines, error.value.lines


def test_every_problem_of_every_v2_finding_is_listed_with_its_place() -> None:
    event = imported_v2()
    event["detail"]["findings"].append(ocsf_finding(metadata={"uid": "x" * 600, "product": {}}))
    del event["detail"]["findings"][0]["metadata"]["uid"]

    with pytest.raises(InvalidEvent) as error:
        parse_events([imported(), event])

    assert error.value.lines == [
        "[1].detail.findings[0].metadata.uid: Missing data for required field.",
        "[1].detail.findings[1].metadata.uid: Length must be between 1 and 512.",
        "[1].detail.findings[1].metadata.product.uid: Missing data for required field.",
    ]


def test_a_tenant_reads_the_events_of_its_own_security_hub_only() -> None:
    cspm, v2 = make_tenant("c"), make_tenant("v", generation=SecurityHubGeneration.V2)
    clicked = custom_action_event(make_finding(), "arn:aws:securityhub:eu-west-1:222233334444:action/custom/hubsync",
                                  "Send to Jira", "", ADMIN, "eu-west-1", NOW)
    imported_cspm, clicked_cspm, imported_new = parse_events([imported(), clicked, imported_v2()])

    assert [reads(cspm, event) for event in (imported_cspm, clicked_cspm, imported_new)] == [True, True, False]
    assert [reads(v2, event) for event in (imported_cspm, clicked_cspm, imported_new)] == [False, False, True]

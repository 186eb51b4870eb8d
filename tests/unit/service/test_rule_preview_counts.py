"""The rule preview and the onboarding count on a fake Security Hub: what a rule matches now, read with the
filters reconcile fetches with and counted by the rule itself; and the tickets a save would create."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from hubsync.domain.finding import Finding, RecordState, Severity, WorkflowStatus
from hubsync.domain.link import Link, LinkState
from hubsync.domain.policy import EscalationRule, Policy
from hubsync.domain.ports import SecurityHubUnavailable
from hubsync.domain.tenant import AuthMode, JiraFlavour, Tenant
from hubsync.service.rule_preview import (
    Onboarding,
    confirmation_of,
    count_onboarding,
    onboarding_of_save,
    parse_preview_request,
    preview_rules,
)
from hubsync.service.settings import AwsSettings, InvalidSettings, Settings
from tests.fakes import FakeClock, FakeSecurityHub, FakeStore
from tests.unit.domain.domain_values import a_finding

TENANT = "tenant-1"
ROLE = "arn:aws:iam::111122223333:role/hubsync"
GUARDDUTY_ARN = "arn:aws:securityhub:eu-west-1::product/aws/guardduty"


def findings(count: int, **changes: Any) -> list[Finding]:
    prefix = changes.pop("prefix", "f")
    return [a_finding(id=f"{prefix}-{index}", title=f"{prefix} finding {index}", **changes) for index in range(count)]


def link(finding: Finding, state: LinkState = LinkState.LINKED) -> Link:
    return Link(finding.key, finding.id, finding.product_arn, state,
                ticket_key="SEC-1" if state is LinkState.LINKED else None)


def stored(*links: Link) -> FakeStore:
    store = FakeStore(FakeClock())
    with store.transaction() as uow:
        for saved in links:
            uow.links.save(TENANT, saved)
    return store


def test_a_rule_counts_its_live_new_findings_and_shows_the_most_severe_first() -> None:
    critical = findings(2, prefix="crit", severity=Severity.CRITICAL, account_id="444455556666")
    high = findings(4, prefix="high")
    other_control = findings(3, prefix="s3-1", security_control_id="S3.1")
    not_live = [a_finding(id="archived", record_state=RecordState.ARCHIVED),
                a_finding(id="passed", compliance_status="PASSED"),
                a_finding(id="notified", workflow_status=WorkflowStatus.NOTIFIED),
                a_finding(id="low", severity=Severity.LOW)]
    securityhub = FakeSecurityHub(*high, *other_control, *critical, *not_live)

    [preview] = preview_rules(securityhub, [EscalationRule("S3.8 high", ("S3.8",), min_severity=Severity.HIGH)],
                              sample_size=3)

    assert (preview.matches, preview.capped) == (6, False)
    assert [f.id for f in preview.sample] == ["crit-0", "crit-1", "high-0"]
    shown = preview.to_json()
    assert shown["name"] == "S3.8 high"
    assert shown["sample"][0] == {"title": "crit finding 0", "accountId": "444455556666", "accountName": None,
                                  "severity": "CRITICAL", "region": "eu-west-1", "productName": "Security Hub"}


@pytest.mark.parametrize(("cap", "matches", "capped"), [(5, 5, True), (7, 7, False), (100, 7, False)])
def test_counting_stops_at_the_cap_and_says_so(cap: int, matches: int, capped: bool) -> None:
    securityhub = FakeSecurityHub(*findings(7))

    [preview] = preview_rules(securityhub, [EscalationRule("all")], cap=cap)

    assert (preview.matches, preview.capped) == (matches, capped)


def test_products_named_in_another_case_or_by_arn_prefix_count_as_the_sync_matches_them() -> None:
    guardduty = findings(3, prefix="gd", product_name="GuardDuty", product_arn=GUARDDUTY_ARN)
    inspector = findings(2, prefix="insp", product_name="Inspector",
                         product_arn="arn:aws:securityhub:eu-west-1::product/aws/inspector")
    securityhub = FakeSecurityHub(*guardduty, *inspector, *findings(2, prefix="hub"))
    by_name = EscalationRule("by name", products=("GuardDuty",))
    by_arn = EscalationRule("by arn", products=("arn:aws:securityhub:eu-west-1::product/aws/guard",))
    both = EscalationRule("both", products=("GuardDuty", "arn:aws:securityhub:eu-west-1::product/aws/inspector"))

    counts = [p.matches for p in preview_rules(securityhub, [by_name, by_arn, both])]

    # The fake ignores PREFIX filters (it returns every finding): the rule itself still counts only its own.
    assert counts == [3, 3, 5]


def test_each_rule_is_counted_on_its_own() -> None:
    securityhub = FakeSecurityHub(*findings(3, severity=Severity.CRITICAL))
    rules = [EscalationRule("critical", min_severity=Severity.CRITICAL),
             EscalationRule("high", min_severity=Severity.HIGH)]

    assert [p.matches for p in preview_rules(securityhub, rules)] == [3, 3]


def test_security_hub_that_cannot_be_read_is_raised_to_the_caller() -> None:
    securityhub = FakeSecurityHub(*findings(1))
    securityhub.fail_next("findings", SecurityHubUnavailable("AccessDeniedException: not authorized"))

    with pytest.raises(SecurityHubUnavailable):
        preview_rules(securityhub, [EscalationRule("all")])


def test_the_onboarding_counts_matches_once_without_the_findings_that_have_a_ticket() -> None:
    high = findings(6)
    critical = findings(2, prefix="crit", severity=Severity.CRITICAL)
    securityhub = FakeSecurityHub(*high, *critical, *findings(5, prefix="low", severity=Severity.LOW))
    store = stored(link(high[0]), link(high[1], LinkState.CLAIMED), link(high[2], LinkState.BROKEN),
                   link(critical[0]))
    policy = Policy("SEC", rules=(EscalationRule("critical", min_severity=Severity.CRITICAL),
                                  EscalationRule("high", min_severity=Severity.HIGH)))

    onboarding = count_onboarding(securityhub, store, TENANT, policy, threshold=5)

    # 8 matches (the critical ones twice), less the LINKED and the CLAIMED: a BROKEN link's ticket was deleted.
    assert onboarding == Onboarding(tickets=5, capped=False, threshold=5)
    assert not onboarding.needs_confirmation
    assert count_onboarding(securityhub, store, TENANT, policy, threshold=4).needs_confirmation
    assert "would create 5 tickets (more than 4)" in count_onboarding(securityhub, store, TENANT, policy, 4).message


def test_an_onboarding_past_the_cap_says_at_least() -> None:
    securityhub = FakeSecurityHub(*findings(12))
    onboarding = count_onboarding(securityhub, stored(), TENANT, Policy("SEC", rules=(EscalationRule("all"),)),
                                  threshold=3, cap=10)
    assert (onboarding.tickets, onboarding.capped) == (10, True)
    assert "would create at least 10 tickets" in onboarding.message
    uncounted = count_onboarding(securityhub, stored(), TENANT, Policy("SEC", rules=(EscalationRule("all"),)),
                                 threshold=50, cap=10)
    assert uncounted.needs_confirmation  # more than could be counted: perhaps above the threshold


def saved_tenant(policy: dict[str, Any] | None) -> Tenant:
    return Tenant(id=TENANT, name="acme", jira_base_url="https://acme.atlassian.net", jira_flavour=JiraFlavour.CLOUD,
                  auth_mode=AuthMode.CONNECT, external_id="external-1", aws_role_arn=ROLE,
                  aggregation_region="eu-west-1", policy=policy or {})


def settings(*rules: EscalationRule, role: str = ROLE) -> Settings:
    return Settings(AwsSettings(role, None, "eu-west-1"), Policy("SEC", rules=rules))


def test_a_save_that_keeps_the_rules_and_the_account_counts_nothing() -> None:
    asked: list[Tenant] = []
    saved = saved_tenant({"project_key": "SEC", "issue_type": "Bug", "rules": [{"name": "all"}]})

    def securityhub_of(tenant: Tenant) -> FakeSecurityHub:
        asked.append(tenant)
        return FakeSecurityHub(*findings(4))

    assert onboarding_of_save(saved, settings(EscalationRule("all")), securityhub_of, stored(), 2) is None
    assert asked == []
    changed = onboarding_of_save(saved, settings(EscalationRule("all"), role=ROLE + "-2"), securityhub_of, stored(), 2)
    assert changed == Onboarding(4, False, 2)
    assert asked[0].aws_role_arn == ROLE + "-2"  # read through the account being saved
    assert onboarding_of_save(saved, settings(EscalationRule("new")), securityhub_of, stored(), 2) is not None
    assert onboarding_of_save(saved_tenant(None), settings(EscalationRule("all")), securityhub_of, stored(), 2)


def test_a_preview_reads_a_policys_rules_or_one_rule_with_field_paths() -> None:
    rules = parse_preview_request({"policy": {"project_key": "", "rules": [{"min_severity": "HIGH"}, {"name": "x"}]}})
    assert [rule.name for rule in rules] == ["rule 1", "x"]  # the rest of an unsaved form does not matter
    assert parse_preview_request({"rule": {"products": ["GuardDuty"]}}) == (
        EscalationRule("rule 1", products=("GuardDuty",)),
    )

    with pytest.raises(InvalidSettings) as invalid:
        parse_preview_request({"policy": {"rules": [{}, {"account_ids": ["1234"], "min_severity": "SEVERE"}]}})
    assert set(invalid.value.fields) == {"policy.rules[1].account_ids[0]", "policy.rules[1].min_severity"}
    with pytest.raises(InvalidSettings) as invalid:
        parse_preview_request({"rule": {"colour": "red"}})
    assert set(invalid.value.fields) == {"rule.colour"}


@pytest.mark.parametrize("body", [None, [], {}, {"rule": {}, "policy": {}}, {"policies": []}, {"rule": "all"},
                                  {"policy": {"rules": {}}}, {"policy": "x"}])
def test_a_preview_request_of_another_shape_is_refused(body: Any) -> None:
    with pytest.raises(InvalidSettings):
        parse_preview_request(body)


def test_the_confirmation_flag_is_taken_off_the_settings() -> None:
    assert confirmation_of({"aws": {}, "confirmLargeOnboarding": True}) == ({"aws": {}}, True)
    assert confirmation_of({"aws": {}, "confirmLargeOnboarding": False}) == ({"aws": {}}, False)
    assert confirmation_of({"aws": {}}) == ({"aws": {}}, False)
    assert confirmation_of([1]) == ([1], False)
    with pytest.raises(InvalidSettings) as invalid:
        confirmation_of({"confirmLargeOnboarding": "yes"})
    assert invalid.value.fields == {"confirmLargeOnboarding": ["must be true or false"]}


def test_a_rule_matches_what_the_policy_escalates() -> None:
    rule = EscalationRule("gd", products=("guardduty",), min_severity=Severity.HIGH)
    finding = a_finding(product_name="GuardDuty")
    assert rule.matches(finding)
    assert not rule.matches(replace(finding, severity=Severity.MEDIUM))
    assert Policy("SEC", rules=(rule,)).escalation_rule_for(finding) is rule

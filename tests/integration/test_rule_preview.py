"""The rule preview and the onboarding count against the Security Hub simulator holding the sandbox's seeded
findings, read through the tenant's assumed role as the configure page reads them. The expected numbers are
worked out here from every finding the simulator holds (raw GetFindings, no hubsync code), not written down."""

from __future__ import annotations

from hubsync.domain.finding import Severity
from hubsync.domain.policy import EscalationRule
from hubsync.service.rule_preview import count_onboarding, preview_rules
from hubsync_sandbox.demo import Demo
from tests.fixtures.held_findings import Condition, Raw, at_least, everything, live_new_matching, product

INSPECTOR_ARN_PREFIX = "arn:aws:securityhub:eu-west-1::product/aws/inspector"


def count(findings: list[Raw], *conditions: Condition) -> int:
    return len(live_new_matching(findings, *conditions))


def test_each_rule_counts_what_the_simulator_holds(demo: Demo) -> None:
    held = everything(demo.sandbox.securityhub_client())
    account = held[0]["AwsAccountId"]
    rules_and_expected = [
        (EscalationRule("critical", min_severity=Severity.CRITICAL), count(held, at_least("CRITICAL"))),
        (EscalationRule("high guardduty", products=("GuardDuty",), min_severity=Severity.HIGH),
         count(held, at_least("HIGH"), product("GuardDuty"))),
        (EscalationRule("inspector", products=(INSPECTOR_ARN_PREFIX,)),
         count(held, lambda f: f["ProductArn"].startswith(INSPECTOR_ARN_PREFIX))),
        (EscalationRule("one account, medium and up", account_ids=(account,), min_severity=Severity.MEDIUM),
         count(held, at_least("MEDIUM"), lambda f: f["AwsAccountId"] == account)),
    ]
    assert all(expected > 0 for _rule, expected in rules_and_expected), "the seed no longer exercises every rule"

    previews = preview_rules(demo.ctx.securityhub, [rule for rule, _expected in rules_and_expected], sample_size=3)

    assert [(p.matches, p.capped) for p in previews] == [(expected, False) for _rule, expected in rules_and_expected]
    titles = {f["Title"] for f in held}
    for preview in previews:
        assert len(preview.sample) == 3
        assert all(f.title in titles for f in preview.sample)
        ranks = [f.severity.rank for f in preview.sample]
        assert ranks == sorted(ranks, reverse=True)  # the most severe first


def test_counting_stops_at_the_cap_after_as_many_pages(demo: Demo) -> None:
    held = everything(demo.sandbox.securityhub_client())
    assert count(held) > 150, "the seed is too small to page past the cap"
    securityhub = demo.ctx.securityhub
    before = securityhub.calls["GetFindings"]  # type: ignore[attr-defined]

    [preview] = preview_rules(securityhub, [EscalationRule("everything")], cap=150)

    assert (preview.matches, preview.capped) == (150, True)
    assert securityhub.calls["GetFindings"] - before == 2  # type: ignore[attr-defined]  # 100 a page


def test_the_onboarding_count_is_what_reconcile_then_creates(demo: Demo) -> None:
    policy = demo.ctx.policy
    held = everything(demo.sandbox.securityhub_client())
    expected = count(held, lambda f: any(rule_matches_raw(rule, f) for rule in policy.rules))

    onboarding = count_onboarding(demo.ctx.securityhub, demo.store, demo.ctx.tenant_id, policy, threshold=200)

    assert (onboarding.tickets, onboarding.capped) == (expected, False)
    report = demo.onboard()
    created = sum(1 for o in report.outcomes if "CreateTicket" in o.actions and not o.error)
    assert created == onboarding.tickets
    again = count_onboarding(demo.ctx.securityhub, demo.store, demo.ctx.tenant_id, policy, threshold=200)
    assert again.tickets == 0  # each has its ticket now


def rule_matches_raw(rule: EscalationRule, finding: Raw) -> bool:
    """The demo policy's criteria (severity, product by name), on the raw finding."""
    assert not (rule.security_control_ids or rule.generator_ids or rule.account_ids or rule.regions), rule
    if rule.min_severity is not None and not at_least(rule.min_severity.value)(finding):
        return False
    return not rule.products or finding.get("ProductName") in rule.products

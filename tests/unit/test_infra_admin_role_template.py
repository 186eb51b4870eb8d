"""infra/securityhub-admin-role.yaml grants what each Security Hub generation needs, the sandbox's role grants the
same, and cfn-lint's one exception for the role (its IAM action list lacks securityhub:GetFindingsV2) hides nothing
else."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from hubsync_sandbox.aws import _securityhub_policy
from tests.unit.test_infra_events_template import INFRA, CloudFormationLoader

TEMPLATE = INFRA / "securityhub-admin-role.yaml"
CSPM_ACTIONS = {"securityhub:GetFindings", "securityhub:BatchUpdateFindings"}
# GetFindingsV2 is documented under both read actions; BatchUpdateFindingsV2 under BatchUpdateFindings;
# the enablement probe under DescribeSecurityHubV2.
V2_ACTIONS = {"securityhub:GetFindings", "securityhub:GetFindingsV2", "securityhub:BatchUpdateFindings",
              "securityhub:DescribeSecurityHubV2"}
CUSTOM_ACTION = {"securityhub:CreateActionTarget", "securityhub:DescribeActionTargets"}  # CSPM's "Send to Jira"


def _allowed(statements: list[dict[str, Any]]) -> set[str]:
    return {action for statement in statements if statement["Effect"] == "Allow" for action in statement["Action"]}


@pytest.fixture(scope="module")
def role() -> dict[str, Any]:
    return yaml.load(TEMPLATE.read_text(), Loader=CloudFormationLoader)["Resources"]["SecurityHubRole"]


def test_the_role_grants_what_each_generation_needs_and_nothing_more(role: dict[str, Any]) -> None:
    [policy] = role["Properties"]["Policies"]
    allowed = _allowed(policy["PolicyDocument"]["Statement"])
    assert allowed == CSPM_ACTIONS | V2_ACTIONS | CUSTOM_ACTION


def test_the_sandboxs_role_grants_what_the_template_grants(role: dict[str, Any]) -> None:
    [policy] = role["Properties"]["Policies"]
    assert _allowed(_securityhub_policy()["Statement"]) == _allowed(policy["PolicyDocument"]["Statement"])


def test_the_lint_exception_is_only_for_the_action_cfn_lint_does_not_know(role: dict[str, Any]) -> None:
    from cfnlint.api import ManualArgs, lint

    assert role["Metadata"] == {"cfn-lint": {"config": {"ignore_checks": ["W3037"]}}}
    text = TEMPLATE.read_text()
    exception = "    Metadata:\n      cfn-lint: {config: {ignore_checks: [W3037]}}\n"
    action = "                  - securityhub:GetFindingsV2\n"
    assert exception in text and action in text
    without_both = text.replace(exception, "").replace(action, "")
    without_exception = text.replace(exception, "")

    assert lint(without_both, config=ManualArgs(regions=["us-east-1"])) == []
    assert [match.rule.id for match in lint(without_exception, config=ManualArgs(regions=["us-east-1"]))] == ["W3037"]

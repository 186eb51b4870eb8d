"""infra/securityhub-events.yaml: well-formed YAML, clean under cfn-lint (AWS's own template checker, with its
resource specifications), and in step with what hubsync takes: the detail-types of the intake, its API key header,
the custom action's ARN as `hubsync aws setup-action` prints it, a FIFO work queue with a dead-letter queue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from hubsync.domain.ports import ACTION_ID
from hubsync.service.intake import API_KEY_HEADER, CUSTOM_ACTION, IMPORTED

INFRA = Path(__file__).resolve().parents[2] / "infra"
TEMPLATE = INFRA / "securityhub-events.yaml"


class CloudFormationLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form functions (!Ref, !GetAtt, !If, …) read as {"Fn::…": value}."""


def _function(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CloudFormationLoader.add_multi_constructor("!", _function)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return yaml.load(TEMPLATE.read_text(), Loader=CloudFormationLoader)


def test_the_templates_pass_cfn_lint() -> None:
    from cfnlint.api import ManualArgs, lint_file

    for path in sorted(INFRA.glob("*.yaml")):
        matches = lint_file(path, ManualArgs(regions=["us-east-1", "eu-west-1"]))
        assert not matches, f"{path.name}:\n" + "\n".join(str(match) for match in matches)


def test_cfn_lint_would_catch_a_mistake(template: dict[str, Any]) -> None:
    """The check above can fail: a misspelt property is reported."""
    from cfnlint.api import ManualArgs, lint

    broken = TEMPLATE.read_text().replace("InvocationEndpoint:", "InvocationEndPoint:", 1)
    assert any("InvocationEndPoint" in str(match) for match in lint(broken, config=ManualArgs(regions=["us-east-1"])))


def test_the_rules_select_what_the_intake_takes(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    imported = resources["ImportedRule"]["Properties"]["EventPattern"]
    custom = resources["CustomActionRule"]["Properties"]["EventPattern"]

    assert imported["source"] == custom["source"] == ["aws.securityhub"]
    assert imported["detail-type"] == [IMPORTED]
    assert custom["detail-type"] == [CUSTOM_ACTION]
    assert custom["resources"] == [{"Ref": "CustomActionArn"}]
    assert imported["detail"]["findings"]["Severity"]["Label"] == {"Ref": "Severities"}
    assert template["Parameters"]["Severities"]["Default"].split(",") == [
        "CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"]


def test_the_connection_sends_the_tenants_key_in_hubsyncs_header(template: dict[str, Any]) -> None:
    connection = template["Resources"]["Connection"]["Properties"]
    assert connection["AuthorizationType"] == "API_KEY"
    assert connection["AuthParameters"]["ApiKeyAuthParameters"] == {
        "ApiKeyName": API_KEY_HEADER, "ApiKeyValue": {"Ref": "EventsApiKey"}}
    assert template["Parameters"]["EventsApiKey"]["NoEcho"] is True
    destination = template["Resources"]["ApiDestination"]["Properties"]
    assert destination["HttpMethod"] == "POST"


def test_the_custom_action_parameter_takes_the_arn_setup_action_prints(template: dict[str, Any]) -> None:
    import re

    pattern = re.compile(template["Parameters"]["CustomActionArn"]["AllowedPattern"])
    assert pattern.match(f"arn:aws:securityhub:eu-west-1:111122223333:action/custom/{ACTION_ID}")
    assert pattern.match("")  # no custom action rule
    assert not pattern.match("arn:aws:securityhub:eu-west-1:111122223333:product/aws/guardduty")


def test_the_work_queue_is_fifo_with_a_fifo_dead_letter_queue(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    queue, dead = resources["WorkQueue"]["Properties"], resources["WorkDeadLetterQueue"]["Properties"]
    assert queue["FifoQueue"] is True and dead["FifoQueue"] is True
    assert queue["QueueName"].endswith(".fifo") and dead["QueueName"].endswith(".fifo")
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": ["WorkDeadLetterQueue", "Arn"]},
                                      "maxReceiveCount": {"Ref": "WorkQueueMaxReceiveCount"}}
    assert queue["ContentBasedDeduplication"] is False  # hubsync sends a deduplication id per event

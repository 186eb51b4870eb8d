"""infra/securityhub-events.yaml: well-formed YAML, clean under cfn-lint (AWS's own template checker, with its
resource specifications), and in step with what hubsync takes: the detail-types of the intake for each Security
Hub generation chosen, the "#jira" escalation tag past the severity filters, its API key header, the custom
action's ARN as `hubsync aws setup-action` prints it, a FIFO work queue with a dead-letter queue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from hubsync.domain.finding import ESCALATION_TAG
from hubsync.domain.ports import ACTION_ID
from hubsync.service.intake import API_KEY_HEADER, CUSTOM_ACTION, IMPORTED, IMPORTED_V2

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
    imported_v2 = resources["ImportedV2Rule"]["Properties"]["EventPattern"]

    assert imported["source"] == custom["source"] == imported_v2["source"] == ["aws.securityhub"]
    assert imported["detail-type"] == [IMPORTED]
    assert custom["detail-type"] == [CUSTOM_ACTION]
    assert imported_v2["detail-type"] == [IMPORTED_V2]
    assert custom["resources"] == [{"Ref": "CustomActionArn"}]
    assert template["Parameters"]["Severities"]["Default"].split(",") == [
        "CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"]


def test_a_note_or_comment_asking_for_a_ticket_passes_the_severity_filters(template: dict[str, Any]) -> None:
    """A person's "#jira" on a finding below the severities sent still reaches hubsync at once (EventBridge's prefix
    match ignores case as `asks_for_ticket` does; a tag after leading spaces waits for the reconcile)."""
    resources = template["Resources"]
    tagged = [{"prefix": {"equals-ignore-case": ESCALATION_TAG}}]
    imported = resources["ImportedRule"]["Properties"]["EventPattern"]["detail"]["findings"]
    filtered_v2 = resources["ImportedV2Rule"]["Properties"]["EventPattern"]["detail"]["Fn::If"]

    assert imported == {"$or": [{"Severity": {"Label": {"Ref": "Severities"}}}, {"Note": {"Text": tagged}}]}
    assert filtered_v2 == ["FilterV2Severities",
                           {"findings": {"$or": [{"severity": {"Ref": "SeveritiesV2"}}, {"comment": tagged}]}},
                           {"Ref": "AWS::NoValue"}]
    assert template["Parameters"]["SeveritiesV2"]["Default"] == ""  # every finding of the new Security Hub
    conditions = template["Conditions"]
    assert condition(conditions, "FilterV2Severities", {"SeveritiesV2": [""]}) is False
    assert condition(conditions, "FilterV2Severities", {"SeveritiesV2": ["Fatal", "Critical"]}) is True


def condition(conditions: dict[str, Any], name: str, parameters: dict[str, Any]) -> bool:
    """A template condition's value for the given parameters (the functions this template's conditions use)."""

    def value(node: Any) -> Any:
        if isinstance(node, dict):
            [(function, argument)] = node.items()
            if function == "Ref":
                return parameters[argument]
            if function == "Fn::Condition":  # !Condition, as the loader reads it
                return condition(conditions, argument, parameters)
            arguments = [value(item) for item in argument] if function != "Fn::Join" else argument
            if function == "Fn::Equals":
                return arguments[0] == arguments[1]
            if function == "Fn::Not":
                return not arguments[0]
            if function == "Fn::And":
                return all(arguments)
            if function == "Fn::Join":
                return arguments[0].join(value(arguments[1]))
            raise AssertionError(f"a function the test does not evaluate: {function}")
        return node

    result: bool = value(conditions[name])
    return result


@pytest.mark.parametrize(
    ("generations", "action", "rules"),
    [
        ("cspm", "", {"ImportedRule"}),
        ("cspm", "arn", {"ImportedRule", "CustomActionRule"}),
        ("v2", "", {"ImportedV2Rule"}),
        ("both", "arn", {"ImportedRule", "CustomActionRule", "ImportedV2Rule"}),
    ],
)
def test_the_generations_parameter_chooses_the_rules(template: dict[str, Any], generations: str, action: str,
                                                     rules: set[str]) -> None:
    parameters = {"SecurityHubGenerations": generations, "CustomActionArn": action, "Delivery": "sqs",
                  "HubsyncAccountId": "", "CreateWorkQueue": "false", "SeveritiesV2": [""]}
    made = {name for name, resource in template["Resources"].items()
            if resource["Type"] == "AWS::Events::Rule"
            and condition(template["Conditions"], resource["Condition"], parameters)}

    assert made == rules
    assert template["Parameters"]["SecurityHubGenerations"]["AllowedValues"] == ["cspm", "v2", "both"]
    assert template["Parameters"]["SecurityHubGenerations"]["Default"] == "cspm"  # a stack made before keeps its rules
    senders = template["Resources"]["QueuesPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]["Condition"]
    allowed = {item["Fn::If"][1]["Fn::GetAtt"][0] for item in senders["ArnEquals"]["aws:SourceArn"]
               if condition(template["Conditions"], item["Fn::If"][0], parameters)}
    assert allowed == rules  # each rule may send to the queues, and its dead letters


def test_the_custom_action_is_refused_without_security_hub_cspm(template: dict[str, Any]) -> None:
    rule = template["Rules"]["CustomActionNeedsCspm"]

    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "SecurityHubGenerations"}, "v2"]}
    assert rule["Assertions"][0]["Assert"] == {"Fn::Equals": [{"Ref": "CustomActionArn"}, ""]}


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

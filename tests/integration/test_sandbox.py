"""The whole sandbox as `make run` starts it: what a developer and the engine rely on finding there."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import boto3
import pytest
import requests

from hubsync_sandbox import aws
from hubsync_sandbox.runner import REGIONS, WORKLOAD_ACCOUNTS, Sandbox


@pytest.fixture(scope="module")
def sandbox(sandbox_contracts) -> Iterator[Sandbox]:
    with Sandbox(wrap=sandbox_contracts.wrap) as running:
        yield running


def aws_client(sandbox: Sandbox, service: str, **overrides):
    """A client configured only from the printed environment, as a shell user would have it."""
    env = sandbox.environment()
    endpoint_var = "AWS_ENDPOINT_URL_" + service.upper().replace("SECRETSMANAGER", "SECRETS_MANAGER")
    return boto3.client(
        service,
        endpoint_url=env[endpoint_var],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        **overrides,
    )


def test_every_seeded_finding_is_in_security_hub(sandbox: Sandbox) -> None:
    client = sandbox.securityhub_client()  # the aggregation Region sees every Region
    seen = [f for page in client.get_paginator("get_findings").paginate() for f in page["Findings"]]
    assert sorted(f["Id"] for f in seen) == sorted(f["Id"] for f in sandbox.findings_seeded)
    assert {f["Region"] for f in seen} == set(REGIONS)
    assert {f["AwsAccountId"] for f in seen} == {a.id for a in sandbox.aws_world.workload_accounts}


def test_seeded_world_has_what_the_sync_rules_need(sandbox: Sandbox) -> None:
    client = sandbox.securityhub_client()

    def count(filters: dict) -> int:
        pages = client.get_paginator("get_findings").paginate(Filters=filters)
        return sum(len(page["Findings"]) for page in pages)

    eq = "EQUALS"
    assert count({"RecordState": [{"Value": "ARCHIVED", "Comparison": eq}]}) > 0
    assert count({"ComplianceStatus": [{"Value": "PASSED", "Comparison": eq}]}) > 0
    assert count({"GeneratorId": [{"Value": "security-control/", "Comparison": "PREFIX"}]}) > 0
    assert count({"ProductName": [{"Value": "GuardDuty", "Comparison": eq}]}) > 0
    assert count({"ProductName": [{"Value": "Inspector", "Comparison": eq}]}) > 0
    for label in ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"]:
        assert count({"SeverityLabel": [{"Value": label, "Comparison": eq}]}) > 0, label


def test_account_owners_are_tagged_in_organizations(sandbox: Sandbox) -> None:
    orgs = aws_client(sandbox, "organizations")
    owners = {}
    for account in sandbox.aws_world.workload_accounts:
        tags = {t["Key"]: t["Value"] for t in orgs.list_tags_for_resource(ResourceId=account.id)["Tags"]}
        owners[account.name] = tags.get(aws.OWNER_TAG)
    assert owners == {spec.name: spec.owner for spec in WORKLOAD_ACCOUNTS}


def test_roles_can_be_assumed_with_the_external_id(sandbox: Sandbox) -> None:
    env = sandbox.environment()
    sts = aws_client(sandbox, "sts")
    for role_var in ["HUBSYNC_SANDBOX_SECURITYHUB_ROLE_ARN", "HUBSYNC_SANDBOX_ORGANIZATIONS_ROLE_ARN"]:
        creds = sts.assume_role(
            RoleArn=env[role_var], RoleSessionName="hubsync-test", ExternalId=env["HUBSYNC_SANDBOX_EXTERNAL_ID"]
        )["Credentials"]
        assumed = boto3.client(
            "sts",
            endpoint_url=env["AWS_ENDPOINT_URL_STS"],
            region_name="us-east-1",
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
        assert assumed.get_caller_identity()["Arn"].endswith("/hubsync-test")


def test_jira_secret_holds_the_printed_credentials(sandbox: Sandbox) -> None:
    env = sandbox.environment()
    secret = aws_client(sandbox, "secretsmanager").get_secret_value(SecretId=aws.JIRA_SECRET_NAME)
    assert json.loads(secret["SecretString"])["token"] == env["HUBSYNC_JIRA_API_TOKEN"]


def test_printed_jira_credentials_work(sandbox: Sandbox) -> None:
    env = sandbox.environment()
    auth = (env["HUBSYNC_JIRA_USER"], env["HUBSYNC_JIRA_API_TOKEN"])
    response = requests.get(f"{env['HUBSYNC_JIRA_URL']}/rest/api/3/project/SEC", auth=auth, timeout=5)
    assert response.status_code == 200
    assert response.json()["key"] == "SEC"
    dc = requests.get(
        f"{env['HUBSYNC_SANDBOX_JIRA_DC_URL']}/rest/api/2/myself",
        headers={"Authorization": f"Bearer {env['HUBSYNC_SANDBOX_JIRA_DC_PAT']}"},
        timeout=5,
    )
    assert dc.status_code == 200


def test_imports_reach_the_events_queue(sandbox: Sandbox) -> None:
    """EventBridge rule → SQS: every seeded import arrived as a 'Findings - Imported' event."""
    sandbox.securityhub.events.flush(timeout=10)
    sqs = aws_client(sandbox, "sqs")
    queue = sandbox.environment()["HUBSYNC_SANDBOX_EVENTS_QUEUE_URL"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])
    assert int(attributes["Attributes"]["ApproximateNumberOfMessages"]) >= len(sandbox.findings_seeded)
    message = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1)["Messages"][0]
    event = json.loads(message["Body"])
    assert event["detail-type"] == "Security Hub Findings - Imported"
    assert len(event["detail"]["findings"]) == 1


def test_cli_prints_an_environment_block_and_stops_on_ctrl_c(tmp_path) -> None:
    env_file = tmp_path / "sandbox.env"
    process = subprocess.Popen(
        [sys.executable, "-m", "hubsync.cli", "sandbox", "--no-seed", "--env-file", str(env_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    output = []
    deadline = time.monotonic() + 60
    assert process.stdout is not None
    for line in process.stdout:
        output.append(line)
        if "Press Ctrl-C to stop." in line or time.monotonic() > deadline:
            break
    text = "".join(output)
    assert "export AWS_ENDPOINT_URL_SECURITYHUB=http://127.0.0.1:" in text, text
    exports = dict(
        line.removeprefix("export ").split("=", 1) for line in env_file.read_text().splitlines() if line
    )
    assert requests.get(exports["HUBSYNC_JIRA_URL"] + "/rest/api/3/serverInfo", timeout=5).status_code in (200, 401)

    process.send_signal(signal.SIGINT)
    rest, _ = process.communicate(timeout=30)
    assert process.returncode == 0, rest
    assert "Stopped." in rest

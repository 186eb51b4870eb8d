"""moto in server mode, dressed as a small AWS Organization: the STS, Organizations, Secrets Manager and SQS parts
of the sandbox.

The shape mirrors a real deployment: hubsync's own credentials live in the Organizations management account;
Security Hub is administered from a delegated security-tooling account; workload accounts carry the
`SecurityContactID` tag that names who owns their findings (one is left untagged on purpose).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import boto3
import requests
from moto.server import ThreadedMotoServer

from hubsync_sandbox.httpserver import free_port

MANAGEMENT_ACCOUNT_ID = "123456789012"  # moto's default caller account, which creates the organization
ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"
HOME_REGION = "us-east-1"
OWNER_TAG = "SecurityContactID"
SECURITYHUB_ROLE_NAME = "hubsync-securityhub"
ORGANIZATIONS_ROLE_NAME = "hubsync-organizations-read"
EXTERNAL_ID = "hubsync-sandbox-external-id"
JIRA_SECRET_NAME = "hubsync/jira"
WORK_QUEUE_NAME = "hubsync-work.fifo"
DEAD_LETTER_QUEUE_NAME = "hubsync-work-dlq.fifo"
EVENTS_QUEUE_NAME = "securityhub-events"


@dataclass(frozen=True)
class AccountSpec:
    """An account to create in the organization; `owner` is the SecurityContactID tag value (None: untagged)."""

    name: str
    email: str
    owner: str | None


@dataclass
class Account:
    id: str
    name: str
    owner: str | None


@dataclass
class AwsWorld:
    """What the sandbox created in moto, for printing and for tests."""

    endpoint_url: str
    management_account_id: str
    security_account: Account
    workload_accounts: list[Account]
    securityhub_role_arn: str
    organizations_role_arn: str
    external_id: str
    jira_secret_arn: str
    queues: dict[str, str] = field(default_factory=dict)

    @property
    def member_accounts(self) -> list[Account]:
        return self.workload_accounts


class MotoServer:
    """moto's threaded server on a free loopback port."""

    def __init__(self, port: int = 0) -> None:
        self.port = port or free_port()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MotoServer:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server.start()
        # moto keeps its state per process, not per server: start every sandbox from an empty AWS.
        requests.post(f"{self.url}/moto-api/reset", timeout=10).raise_for_status()
        return self

    def stop(self) -> None:
        self._server.stop()


def client(service: str, endpoint_url: str, credentials: dict[str, str] | None = None, region: str = HOME_REGION):
    """A boto3 client for moto; default credentials are the management account's."""
    creds = credentials or {"aws_access_key_id": ACCESS_KEY_ID, "aws_secret_access_key": SECRET_ACCESS_KEY}
    return boto3.client(service, endpoint_url=endpoint_url, region_name=region, **creds)


def build_organization(
    endpoint_url: str,
    security_account: AccountSpec,
    workload_accounts: list[AccountSpec],
    jira_secret: dict[str, str],
) -> AwsWorld:
    """Create the organization, accounts, tags, hubsync's two roles, the Jira secret and the queues."""
    orgs = client("organizations", endpoint_url)
    orgs.create_organization(FeatureSet="ALL")
    created = {spec.name: _create_account(orgs, spec) for spec in [security_account, *workload_accounts]}
    security = created[security_account.name]

    securityhub_role = _create_role(
        endpoint_url, security.id, SECURITYHUB_ROLE_NAME, _securityhub_policy(), external_id=EXTERNAL_ID
    )
    organizations_role = _create_role(
        endpoint_url, MANAGEMENT_ACCOUNT_ID, ORGANIZATIONS_ROLE_NAME, _organizations_policy(), external_id=EXTERNAL_ID
    )

    secrets = client("secretsmanager", endpoint_url)
    secret_arn = secrets.create_secret(Name=JIRA_SECRET_NAME, SecretString=json.dumps(jira_secret))["ARN"]

    sqs = client("sqs", endpoint_url)
    fifo = {"FifoQueue": "true", "ContentBasedDeduplication": "false"}
    dlq_url = sqs.create_queue(QueueName=DEAD_LETTER_QUEUE_NAME, Attributes=fifo)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})
    work_url = sqs.create_queue(QueueName=WORK_QUEUE_NAME, Attributes={**fifo, "RedrivePolicy": redrive})["QueueUrl"]
    events_url = sqs.create_queue(QueueName=EVENTS_QUEUE_NAME)["QueueUrl"]

    return AwsWorld(
        endpoint_url=endpoint_url,
        management_account_id=MANAGEMENT_ACCOUNT_ID,
        security_account=security,
        workload_accounts=[created[spec.name] for spec in workload_accounts],
        securityhub_role_arn=securityhub_role,
        organizations_role_arn=organizations_role,
        external_id=EXTERNAL_ID,
        jira_secret_arn=secret_arn,
        queues={"work": work_url, "dead-letter": dlq_url, "securityhub-events": events_url},
    )


def _create_account(orgs: Any, spec: AccountSpec) -> Account:
    tags = [{"Key": OWNER_TAG, "Value": spec.owner}] if spec.owner else []
    tags.append({"Key": "Name", "Value": spec.name})
    status = orgs.create_account(Email=spec.email, AccountName=spec.name, Tags=tags)["CreateAccountStatus"]
    return Account(id=status["AccountId"], name=spec.name, owner=spec.owner)


def _create_role(endpoint_url: str, account_id: str, name: str, policy: dict, external_id: str) -> str:
    """Create `name` in `account_id`, trusted by the management account when the ExternalId matches."""
    credentials = None
    if account_id != MANAGEMENT_ACCOUNT_ID:
        assumed = client("sts", endpoint_url).assume_role(
            RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole", RoleSessionName="sandbox-setup"
        )["Credentials"]
        credentials = {
            "aws_access_key_id": assumed["AccessKeyId"],
            "aws_secret_access_key": assumed["SecretAccessKey"],
            "aws_session_token": assumed["SessionToken"],
        }
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT_ACCOUNT_ID}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
            }
        ],
    }
    iam = client("iam", endpoint_url, credentials)
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    iam.put_role_policy(RoleName=name, PolicyName=f"{name}-policy", PolicyDocument=json.dumps(policy))
    return role["Arn"]


def _securityhub_policy() -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "securityhub:GetFindings",
                    "securityhub:BatchUpdateFindings",
                    "securityhub:CreateActionTarget",
                    "securityhub:DescribeActionTargets",
                ],
                "Resource": "*",
            },
            {  # the new Security Hub, as infra/securityhub-admin-role.yaml grants it
                "Sid": "NewSecurityHub",
                "Effect": "Allow",
                "Action": [
                    "securityhub:GetFindingsV2",
                    "securityhub:DescribeSecurityHubV2",
                ],
                "Resource": "*",
            },
        ],
    }


def _organizations_policy() -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["organizations:ListTagsForResource", "organizations:DescribeAccount"],
                "Resource": "*",
            }
        ],
    }

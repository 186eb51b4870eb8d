"""Start the whole sandbox on loopback ports: moto, the install-key server, Jira (Cloud, with Connect and Forge, and
Data Center) and Security Hub, seeded with a small AWS Organization and its findings."""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

import boto3

from hubsync_sandbox import aws, seed
from hubsync_sandbox.forge import ForgePlatform, forge_blueprint
from hubsync_sandbox.forge.host import issue_modules as forge_issue_modules
from hubsync_sandbox.httpserver import BackgroundServer
from hubsync_sandbox.jira import seed as jira_seed
from hubsync_sandbox.jira.app import create_jira_app, through_gateway
from hubsync_sandbox.jira.connect import connect_blueprint
from hubsync_sandbox.jira.install_keys import InstallKeyServer
from hubsync_sandbox.jira.world import JiraWorld
from hubsync_sandbox.securityhub import SecurityHubSimulator, create_securityhub_app

REGIONS = ["us-east-1", "eu-west-1"]
AGGREGATION_REGION = "us-east-1"

SECURITY_ACCOUNT = aws.AccountSpec("security-tooling", "aws-security@example.com", owner=None)
WORKLOAD_ACCOUNTS = [
    aws.AccountSpec("payments-prod", "aws-payments-prod@example.com", owner="alice@example.com"),
    aws.AccountSpec("payments-dev", "aws-payments-dev@example.com", owner="bob@example.com"),
    aws.AccountSpec("data-platform", "aws-data@example.com", owner="carol@example.com"),
    # Owners hubsync cannot route to: a departed colleague Jira does not know, and no tag at all.
    aws.AccountSpec("marketing-web", "aws-marketing@example.com", owner="dana.departed@example.com"),
    aws.AccountSpec("legacy-sandbox", "aws-legacy@example.com", owner=None),
]


WsgiWrapper = Callable[[str, Any], Any]


@dataclass
class Sandbox:
    """The running sandbox. `start()` brings everything up; `stop()` takes it down in reverse order.

    `wrap(name, app)` may wrap each simulator's WSGI app (names: `jira-cloud`, `jira-datacenter`, `securityhub`),
    e.g. so tests check every exchange against the official contracts (Jira Cloud's requests through the API
    gateway, `/ex/jira/<cloudId>/rest/...`, reach the wrapper as plain `/rest/...` requests).

    `forge` is the Forge side of the Cloud site: `sandbox.forge.install(manifest, remote_base_url=...)`.

    `jira_dc_version`: the version the Data Center site reports (None: the simulator's default, 10.x), which picks
    its admin webhooks' REST API and whether it signs their deliveries (9.x: no, a token in the URL instead)."""

    seed_findings: bool = True
    wrap: WsgiWrapper | None = None
    jira_dc_version: str | None = None
    aws_world: aws.AwsWorld | None = None
    findings_seeded: list[dict] = field(default_factory=list)

    def start(self) -> Sandbox:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._servers: list[BackgroundServer] = []
        self.moto = aws.MotoServer().start()
        jira_secret = {
            "auth": "basic_auth",
            "email": jira_seed.SANDBOX_JIRA_USER,
            "token": jira_seed.SANDBOX_JIRA_API_TOKEN,
        }
        self.aws_world = aws.build_organization(self.moto.url, SECURITY_ACCOUNT, WORKLOAD_ACCOUNTS, jira_secret)

        self.install_keys = InstallKeyServer()
        self.install_keys_server = self._serve(self.install_keys.wsgi_app, "install-keys")

        self.jira_cloud_server = self._serve(None, "jira-cloud")
        self.jira_cloud = JiraWorld("cloud", self.jira_cloud_server.url)
        self.forge = ForgePlatform(self.jira_cloud)
        forge_modules = partial(forge_issue_modules, self.forge)  # Forge's panels on the issue page
        cloud_blueprints = [connect_blueprint(self.jira_cloud, self.install_keys, forge_modules),
                            forge_blueprint(self.forge)]
        self.jira_cloud_server.mount(
            through_gateway(
                self._wrapped("jira-cloud", create_jira_app(self.jira_cloud, extra_blueprints=cloud_blueprints)),
                self.jira_cloud,
            )
        )
        self.jira_dc_server = self._serve(None, "jira-datacenter")
        self.jira_dc = JiraWorld("datacenter", self.jira_dc_server.url, version=self.jira_dc_version)
        self.jira_dc_server.mount(self._wrapped("jira-datacenter", create_jira_app(self.jira_dc)))

        self.securityhub = SecurityHubSimulator(
            admin_account_id=self.aws_world.security_account.id,
            member_account_ids=[account.id for account in self.aws_world.workload_accounts],
            regions=REGIONS,
            aggregation_region=AGGREGATION_REGION,
        )
        self.securityhub_server = self._serve(
            self._wrapped("securityhub", create_securityhub_app(self.securityhub)), "securityhub"
        )
        self.securityhub.events.add_sqs_target(
            self.aws_world.queues["securityhub-events"],
            endpoint_url=self.moto.url,
            region=aws.HOME_REGION,
            credentials={"aws_access_key_id": aws.ACCESS_KEY_ID, "aws_secret_access_key": aws.SECRET_ACCESS_KEY},
        )
        if self.seed_findings:
            self._seed_securityhub()
        return self

    def stop(self) -> None:
        self.forge.stop()
        self.securityhub.events.stop()
        for server in reversed(self._servers):
            server.stop()
        self.moto.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- what a shell or a test needs to talk to it ----------------------------------------------
    @contextmanager
    def exported(self) -> Iterator[dict[str, str]]:
        """`environment()` in this process's `os.environ` (boto3 finds the sandbox's endpoints and credentials
        there) until the block ends, when the variables are as they were before."""
        environment = self.environment()
        saved = {name: os.environ.get(name) for name in environment}
        os.environ.update(environment)
        try:
            yield environment
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    def environment(self) -> dict[str, str]:
        """Variables that point boto3, the AWS CLI and hubsync at the sandbox."""
        world = self._world()
        return {
            "AWS_ACCESS_KEY_ID": aws.ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": aws.SECRET_ACCESS_KEY,
            "AWS_DEFAULT_REGION": aws.HOME_REGION,
            "AWS_REGION": aws.HOME_REGION,
            "AWS_ENDPOINT_URL_SECURITYHUB": self.securityhub_server.url,
            "AWS_ENDPOINT_URL_STS": self.moto.url,
            "AWS_ENDPOINT_URL_IAM": self.moto.url,
            "AWS_ENDPOINT_URL_ORGANIZATIONS": self.moto.url,
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": self.moto.url,
            "AWS_ENDPOINT_URL_SQS": self.moto.url,
            "HUBSYNC_INSTALL_KEYS_URL": self.install_keys_server.url,
            "HUBSYNC_FORGE_JWKS_URL": self.forge.jwks_url,
            "HUBSYNC_JIRA_URL": self.jira_cloud_server.url,
            "HUBSYNC_JIRA_USER": jira_seed.SANDBOX_JIRA_USER,
            "HUBSYNC_JIRA_API_TOKEN": jira_seed.SANDBOX_JIRA_API_TOKEN,
            "HUBSYNC_SANDBOX_JIRA_DC_URL": self.jira_dc_server.url,
            "HUBSYNC_SANDBOX_JIRA_DC_PAT": jira_seed.SANDBOX_JIRA_PAT,
            "HUBSYNC_SANDBOX_SECURITYHUB_ROLE_ARN": world.securityhub_role_arn,
            "HUBSYNC_SANDBOX_ORGANIZATIONS_ROLE_ARN": world.organizations_role_arn,
            "HUBSYNC_SANDBOX_EXTERNAL_ID": world.external_id,
            "HUBSYNC_SANDBOX_EVENTS_QUEUE_URL": world.queues["securityhub-events"],
        }

    def summary(self) -> str:
        """What is running and what it holds, for a person at a terminal."""
        world = self._world()
        lines = [
            "hubsync sandbox is running",
            "",
            f"  Jira Cloud (REST v3, Connect)   {self.jira_cloud_server.url}",
            f"  {'Jira Data Center ' + self.jira_dc.version:<32}{self.jira_dc_server.url}",
            f"  Security Hub                    {self.securityhub_server.url}",
            f"  moto (STS, IAM, Organizations,  {self.moto.url}",
            "        Secrets Manager, SQS)",
            f"  Connect install keys            {self.install_keys_server.url}",
            f"  Forge JWKS                      {self.forge.jwks_url}",
            f"  Forge API gateway               {self.forge.api_base_url}/rest/api/3",
            "",
            f"  Organization: management {world.management_account_id}, "
            f"Security Hub administrator {world.security_account.id} ({world.security_account.name})",
        ]
        for account in world.workload_accounts:
            owner = account.owner or "(no SecurityContactID tag: default assignee)"
            lines.append(f"    {account.id}  {account.name:<16} owner {owner}")
        if self.findings_seeded:
            lines += ["", f"  Findings: {len(self.findings_seeded)} across {len(REGIONS)} Regions", ""]
            lines += ["    " + line for line in _findings_table(self.findings_seeded)]
        return "\n".join(lines)

    # -- internals ------------------------------------------------------------------------------
    def _serve(self, app: object, name: str) -> BackgroundServer:
        server = BackgroundServer(app, name=name).start()
        self._servers.append(server)
        return server

    def _wrapped(self, name: str, app: Any) -> Any:
        return self.wrap(name, app) if self.wrap else app

    def _world(self) -> aws.AwsWorld:
        if self.aws_world is None:
            raise RuntimeError("the sandbox is not started")
        return self.aws_world

    def _seed_securityhub(self) -> None:
        world = self._world()
        accounts = [account.id for account in world.workload_accounts]
        findings = seed.seed_findings(accounts, REGIONS, now=datetime.now(UTC))
        for region in REGIONS:
            in_region = [f for f in findings if f["Resources"][0]["Region"] == region]
            client = self.securityhub_client(region)
            for start in range(0, len(in_region), 100):
                result = client.batch_import_findings(Findings=in_region[start : start + 100])
                if result["FailedCount"]:
                    raise RuntimeError(f"seeding Security Hub failed: {result['FailedFindings'][:3]}")
        self.findings_seeded = findings
        self.securityhub.add_ocsf_twins()  # Security Hub V2 is on too: each finding's OCSF twin

    def securityhub_client(self, region: str = AGGREGATION_REGION):
        return boto3.client(
            "securityhub",
            endpoint_url=self.securityhub_server.url,
            region_name=region,
            aws_access_key_id=aws.ACCESS_KEY_ID,
            aws_secret_access_key=aws.SECRET_ACCESS_KEY,
        )


def _findings_table(findings: list[dict]) -> list[str]:
    """Counts by product and severity, and how many are archived or passed."""
    severities = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"]
    by_product: dict[str, Counter[str]] = {}
    for finding in findings:
        product = finding["ProductArn"].rsplit("/", 1)[-1]
        by_product.setdefault(product, Counter())[finding["Severity"]["Label"]] += 1
    header = f"{'product':<12}" + "".join(f"{s.lower():>15}" for s in severities)
    rows = [header]
    for product, counts in sorted(by_product.items()):
        rows.append(f"{product:<12}" + "".join(f"{counts[s]:>15}" for s in severities))
    archived = sum(1 for f in findings if f.get("RecordState") == "ARCHIVED")
    passed = sum(1 for f in findings if f.get("Compliance", {}).get("Status") == "PASSED")
    live = sum(
        1
        for f in findings
        if f.get("RecordState") != "ARCHIVED" and f.get("Compliance", {}).get("Status") != "PASSED"
    )
    rows.append(f"live (active, not passed) {live}; archived {archived}; passed {passed}")
    return rows

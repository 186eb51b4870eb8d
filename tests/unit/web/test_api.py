"""The iframe API `/api/v1` on its own: the blueprint on a bare app with a real store (SQLite) and the Security Hub
simulator behind the panel; context tokens signed as Jira signs them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import jwt
import pytest
from botocore.config import Config
from flask import Flask
from flask.testing import FlaskClient

from hubsync.adapters.connect_keys import HttpInstallKeys
from hubsync.adapters.jira import JiraClient
from hubsync.adapters.organizations import OwnerDirectory
from hubsync.adapters.securityhub import SecurityHubClient
from hubsync.adapters.store import SecretBox, Store, create_engine, upgrade
from hubsync.bootstrap import TenantClients, bootstrap
from hubsync.config import Settings
from hubsync.domain.finding import FindingIdentifier
from hubsync.domain.link import Link, LinkState
from hubsync.domain.tenant import APP_KEY, AuthMode, JiraFlavour, Tenant, TenantNotReady
from hubsync.web import api
from hubsync.web.errors import register_error_handlers
from hubsync.web.services import EXTENSION, Services
from hubsync_sandbox.httpserver import free_port
from hubsync_sandbox.jira.world import InstalledApp
from tests.fixtures.jira import JiraSandbox
from tests.fixtures.securityhub import SecurityHubSandbox, control_finding

BASE_URL = "https://hubsync.example.com"
CLIENT_KEY = "jira:5d3f6c1a-0e2b-4c8d-9f7a-1b2c3d4e5f60"
SECRET = "shared-secret-of-the-test-site-" + "x" * 32
VIEWER = "5d8f2a7c41e3b90c0a7e6d21"  # Alice, a developer
ADMIN = "5f3e2d1c0b9a887766554433"  # Sofia, the simulated site's Jira administrator: only she may use the settings
VALID_POLICY = {"project_key": "SEC", "rules": [{"name": "critical", "min_severity": "CRITICAL"}]}
ROLE_ARN = "arn:aws:iam::111111111111:role/hubsync-securityhub"


class RecordingQueue:
    def __init__(self) -> None:
        self.hints: list[Any] = []

    def put(self, hints: Any) -> None:
        self.hints.extend(hints)


@dataclass
class Sources:
    """What the panel reads through (a SyncContext in production)."""

    securityhub: Any
    owners: Any


class PanelSources:
    """The runtime's tenant clients with the panel's sources made by `build`; Jira's client is the real one (the
    simulated site answers who is an administrator and which issue a token names)."""

    def __init__(self, store: Store, build: Callable[[Tenant], Sources]) -> None:
        self._clients = TenantClients(store)
        self._build = build

    def jira(self, tenant: Tenant) -> JiraClient:
        return self._clients.jira(tenant)

    def sync_context(self, tenant: Tenant) -> Sources:
        return self._build(tenant)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(create_engine(f"sqlite:///{tmp_path / 'hubsync.sqlite3'}"), SecretBox(["k" * 40]))
    upgrade(store.engine)
    yield store
    store.dispose()


@pytest.fixture
def tenant(store: Store, jira_cloud: JiraSandbox) -> Tenant:
    """Installed on the simulated Jira Cloud site, which the settings routes ask who is an administrator."""
    jira_cloud.world.connect_apps[APP_KEY] = InstalledApp(APP_KEY, BASE_URL, CLIENT_KEY, SECRET, {"name": "hubsync"})
    with store.transaction() as uow:
        return uow.tenants.create(
            name="example", jira_base_url=jira_cloud.url, jira_flavour=JiraFlavour.CLOUD,
            auth_mode=AuthMode.CONNECT, jira_secret=SECRET, connect_client_key=CLIENT_KEY,
            aws_role_arn=ROLE_ARN, aggregation_region="us-east-1", policy=VALID_POLICY,
        )


@pytest.fixture
def app(store: Store) -> Flask:
    runtime = bootstrap(Settings.from_environment({"HUBSYNC_BASE_URL": BASE_URL}), store=store, queue=RecordingQueue(),
                        install_keys=HttpInstallKeys("http://127.0.0.1:9"))
    app = Flask(__name__)
    app.extensions[EXTENSION] = Services(runtime)
    register_error_handlers(app)
    app.register_blueprint(api.bp)
    return app


@pytest.fixture
def client(app: Flask, tenant: Tenant) -> FlaskClient:
    return app.test_client()


def context_token(issue_key: str | None = None, *, context: Any = None, **claims: Any) -> str:
    """A context token as Jira signs it; on an issue page its `context` names the issue (here by key)."""
    now = int(time.time())
    if context is None:
        context = {"jira": {"issue": {"key": issue_key}}} if issue_key else {"jira": {}}
    payload = {"iss": CLIENT_KEY, "sub": VIEWER, "iat": now, "exp": now + 180, "qsh": "context-qsh",
               "context": context, **claims}
    return jwt.encode(payload, SECRET, algorithm="HS256")


def auth(issue_key: str | None = None, **claims: Any) -> dict[str, str]:
    return {"Authorization": f"JWT {context_token(issue_key, **claims)}"}


def auth_by_issue_id(issue_id: Any) -> dict[str, str]:
    """A context token whose issue context carries the id alone."""
    return {"Authorization": f"JWT {context_token(context={'jira': {'issue': {'id': issue_id}}})}"}


def admin() -> dict[str, str]:
    """A context token of the site's Jira administrator, who alone may see or change the settings."""
    return auth(sub=ADMIN)


def link(store: Store, tenant: Tenant, finding: dict[str, Any], ticket_key: str) -> Link:
    identifier = FindingIdentifier(finding["Id"], finding["ProductArn"])
    saved = Link(identifier.key, identifier.id, identifier.product_arn, LinkState.LINKED, ticket_key=ticket_key)
    with store.transaction() as uow:
        uow.links.save(tenant.id, saved)
        uow.audit.append(tenant_id=tenant.id, finding_key=identifier.key, action="create_ticket", rule=1,
                         reason="escalated: critical", outcome="applied", ticket_key=ticket_key)
        uow.audit.append(tenant_id=tenant.id, finding_key=identifier.key, action="update_finding", rule=1,
                         reason="finding NOTIFIED", outcome="applied", ticket_key=ticket_key)
    return saved


def use_sources(app: Flask, store: Store, securityhub: Any) -> None:
    app.extensions[EXTENSION].runtime.tenants = PanelSources(
        store, build=lambda tenant: Sources(SecurityHubClient(securityhub), OwnerDirectory(None))
    )


# -- the panel -----------------------------------------------------------------------------------------------


def test_panel_shows_the_linked_finding_live_with_its_history(
    app: Flask, client: FlaskClient, store: Store, tenant: Tenant, securityhub: SecurityHubSandbox
) -> None:
    finding = control_finding("S3.8", Severity={"Label": "CRITICAL"}, Title="S3 buckets should block public access",
                              Remediation={"Recommendation": {"Text": "Block it.", "Url": "https://docs.aws/s3.8"}},
                              AwsAccountName="payments-prod")
    securityhub.client().batch_import_findings(Findings=[finding])
    link(store, tenant, finding, "SEC-7")
    use_sources(app, store, securityhub.client())

    response = client.get("/api/v1/panel?issueKey=SEC-7", headers=auth("SEC-7"))

    assert response.status_code == 200, response.json
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert body["state"] == "linked"
    shown = body["finding"]
    assert shown["title"] == "S3 buckets should block public access"
    assert shown["severity"] == "CRITICAL"
    assert shown["controlId"] == "S3.8"
    assert shown["workflowStatus"] == "NEW"
    assert shown["complianceStatus"] == "FAILED"
    assert shown["accountName"] == "payments-prod"
    assert shown["remediation"] == {"text": "Block it.", "url": "https://docs.aws/s3.8"}
    assert shown["consoleUrl"].startswith("https://us-east-1.console.aws.amazon.com/securityhub/")
    assert shown["resources"][0]["id"] == finding["Resources"][0]["Id"]
    assert [entry["reason"] for entry in body["timeline"]] == ["escalated: critical", "finding NOTIFIED"]
    assert body["link"]["ticketKey"] == "SEC-7"


@pytest.mark.parametrize(
    ("url", "shown"),
    [("javascript:alert(document.domain)", None), ("JavaScript:alert(1)", None), (" javascript:alert(1)", None),
     ("data:text/html,<script>alert(1)</script>", None), ("//evil.example/x", None), ("https:no-host", None),
     ("http://docs.example/fix", "http://docs.example/fix")],
)
def test_a_remediation_url_reaches_the_panel_only_when_it_is_http_or_https(
    app: Flask, client: FlaskClient, store: Store, tenant: Tenant, securityhub: SecurityHubSandbox, url: str,
    shown: str | None,
) -> None:
    finding = control_finding("S3.8", Remediation={"Recommendation": {"Text": "Block it.", "Url": url}})
    securityhub.client().batch_import_findings(Findings=[finding])
    link(store, tenant, finding, "SEC-7")
    use_sources(app, store, securityhub.client())

    body = client.get("/api/v1/panel?issueKey=SEC-7", headers=auth("SEC-7")).json

    assert body["state"] == "linked", body
    assert body["finding"]["remediation"] == {"text": "Block it.", "url": shown}


def test_panel_reads_security_hub_on_every_view(
    app: Flask, client: FlaskClient, store: Store, tenant: Tenant, securityhub: SecurityHubSandbox
) -> None:
    finding = control_finding("S3.8")
    securityhub.client().batch_import_findings(Findings=[finding])
    link(store, tenant, finding, "SEC-8")
    use_sources(app, store, securityhub.client())
    assert client.get("/api/v1/panel?issueKey=SEC-8", headers=auth("SEC-8")).json["finding"]["workflowStatus"] == "NEW"

    securityhub.client().batch_update_findings(
        FindingIdentifiers=[{"Id": finding["Id"], "ProductArn": finding["ProductArn"]}],
        Workflow={"Status": "SUPPRESSED"}, Note={"Text": "risk accepted in SEC-8", "UpdatedBy": "hubsync"},
    )

    shown = client.get("/api/v1/panel?issueKey=SEC-8", headers=auth("SEC-8")).json["finding"]
    assert shown["workflowStatus"] == "SUPPRESSED"
    assert shown["note"] == {"text": "risk accepted in SEC-8", "updatedBy": "hubsync"}


def test_an_issue_without_a_finding_says_so(client: FlaskClient) -> None:
    body = client.get("/api/v1/panel?issueKey=OPS-1", headers=auth("OPS-1")).json
    assert body["state"] == "no_finding"
    assert body["message"] == "No Security Hub finding is linked to this issue."
    assert body["finding"] is None


def test_a_finding_security_hub_no_longer_has_keeps_its_history(
    app: Flask, client: FlaskClient, store: Store, tenant: Tenant, securityhub: SecurityHubSandbox
) -> None:
    link(store, tenant, control_finding("S3.8"), "SEC-9")  # never imported
    use_sources(app, store, securityhub.client())
    body = client.get("/api/v1/panel?issueKey=SEC-9", headers=auth("SEC-9")).json
    assert body["state"] == "finding_gone"
    assert len(body["timeline"]) == 2


def test_aws_that_cannot_be_reached_is_said_with_the_reason(
    app: Flask, client: FlaskClient, store: Store, tenant: Tenant
) -> None:
    link(store, tenant, control_finding("S3.8"), "SEC-10")
    nobody = boto3.client("securityhub", endpoint_url=f"http://127.0.0.1:{free_port()}", region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="x",
                          config=Config(retries={"total_max_attempts": 1}, connect_timeout=1))
    use_sources(app, store, nobody)
    body = client.get("/api/v1/panel?issueKey=SEC-10", headers=auth("SEC-10")).json
    assert body["state"] == "aws_unreachable"
    assert body["message"].startswith("AWS cannot be reached: Could not connect to the endpoint URL")
    assert len(body["timeline"]) == 2  # the history is hubsync's own: shown all the same


def test_a_tenant_without_aws_settings_is_told_to_configure(
    app: Flask, client: FlaskClient, store: Store, tenant: Tenant
) -> None:
    link(store, tenant, control_finding("S3.8"), "SEC-11")

    def not_ready(tenant: Tenant) -> Sources:
        raise TenantNotReady("no AWS role ARN configured")

    app.extensions[EXTENSION].runtime.tenants = PanelSources(store, build=not_ready)
    body = client.get("/api/v1/panel?issueKey=SEC-11", headers=auth("SEC-11")).json
    assert body["state"] == "not_configured"
    assert "no AWS role ARN configured" in body["message"]


@pytest.mark.parametrize("key", ["", "sec", "SEC-0", "SEC-1 OR 1=1", "../SEC-1"])
def test_the_issue_key_must_be_one(client: FlaskClient, key: str) -> None:
    response = client.get("/api/v1/panel", query_string={"issueKey": key}, headers=auth("SEC-1"))
    assert response.status_code == 400
    assert "issueKey" in response.json["error"]


def test_a_token_issued_on_another_issue_cannot_read_this_one(client: FlaskClient) -> None:
    response = client.get("/api/v1/panel?issueKey=SEC-2", headers=auth("SEC-1"))
    assert response.status_code == 403
    assert response.json == {"error": "this token was issued for SEC-1, not SEC-2"}


@pytest.mark.parametrize(
    "context",
    [{"jira": {}}, {}, {"jira": {"project": {"key": "SEC", "id": "10000"}}}, {"jira": {"issue": {}}},
     {"jira": {"issue": {"key": ""}}}, {"jira": {"issue": None}}, {"jira": None}, "SEC-1"],
)
def test_a_token_issued_on_no_issue_cannot_read_a_panel(client: FlaskClient, store: Store, tenant: Tenant,
                                                        context: Any) -> None:
    link(store, tenant, control_finding("S3.8"), "SEC-1")
    response = client.get("/api/v1/panel?issueKey=SEC-1",
                          headers={"Authorization": f"JWT {context_token(context=context)}"})
    assert response.status_code == 403
    assert response.json == {"error": api.NO_ISSUE_CONTEXT}


def test_a_token_naming_its_issue_by_id_alone_reads_that_issue_only(
    app: Flask, client: FlaskClient, store: Store, tenant: Tenant, jira_cloud: JiraSandbox,
    securityhub: SecurityHubSandbox,
) -> None:
    alice = jira_cloud.world.user_by_name("alice")
    assert alice is not None
    fields = {"project": {"key": "SEC"}, "issuetype": {"name": "Task"}, "summary": "Public bucket"}
    shown, other = (jira_cloud.world.create_issue(fields, alice) for _ in range(2))
    finding = control_finding("S3.8")
    securityhub.client().batch_import_findings(Findings=[finding])
    link(store, tenant, finding, shown.key)
    use_sources(app, store, securityhub.client())

    own = client.get(f"/api/v1/panel?issueKey={shown.key}", headers=auth_by_issue_id(shown.id))
    numeric = client.get(f"/api/v1/panel?issueKey={shown.key}", headers=auth_by_issue_id(int(shown.id)))
    another = client.get(f"/api/v1/panel?issueKey={shown.key}", headers=auth_by_issue_id(other.id))
    missing = client.get("/api/v1/panel?issueKey=SEC-999", headers=auth_by_issue_id(shown.id))

    assert [own.status_code, numeric.status_code] == [200, 200], own.json
    assert own.json["state"] == "linked"
    assert another.status_code == 403 and another.json == {
        "error": f"this token was issued for issue id {other.id}, not {shown.key}"}
    assert missing.status_code == 403


def test_a_token_naming_its_issue_by_id_is_503_when_jira_cannot_be_asked(
    client: FlaskClient, store: Store, tenant: Tenant, jira_cloud: JiraSandbox
) -> None:
    jira_cloud.world.connect_apps.pop(APP_KEY)  # Jira no longer takes the app's calls
    response = client.get("/api/v1/panel?issueKey=SEC-1", headers=auth_by_issue_id("10001"))
    assert response.status_code == 503
    assert "SEC-1" in response.json["error"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/v1/panel?issueKey=SEC-1"), ("GET", "/api/v1/settings"), ("PUT", "/api/v1/settings"),
     ("POST", "/api/v1/settings/test-connection"), ("POST", "/api/v1/settings/events-api-key")],
)
def test_every_route_wants_a_jira_token(client: FlaskClient, store: Store, tenant: Tenant, method: str,
                                        path: str) -> None:
    unsigned = client.open(path, method=method, json={})
    claims = {"iss": CLIENT_KEY, "qsh": "context-qsh", "exp": int(time.time()) + 60}
    forged_token = jwt.encode(claims, "not-the-secret-" + "y" * 32, algorithm="HS256")
    forged = client.open(path, method=method, json={}, headers={"Authorization": f"JWT {forged_token}"})
    expired = client.open(path, method=method, json={}, headers=auth(exp=int(time.time()) - 600))
    assert [unsigned.status_code, forged.status_code, expired.status_code] == [401, 401, 401]
    assert all("error" in response.json for response in (unsigned, forged, expired))
    with store.read() as uow:
        assert uow.tenants.get(tenant.id) == tenant


# -- settings ------------------------------------------------------------------------------------------------


def test_settings_show_the_external_id_and_the_events_endpoint_never_a_key(client: FlaskClient,
                                                                           tenant: Tenant) -> None:
    body = client.get("/api/v1/settings", headers=admin()).json
    assert body["aws"] == {"roleArn": ROLE_ARN, "organizationsRoleArn": None, "externalId": tenant.external_id,
                           "aggregationRegion": "us-east-1"}
    assert body["policy"]["project_key"] == "SEC"
    assert body["policy"]["priorities"]["CRITICAL"] == "Highest"  # the defaults, spelled out
    assert body["events"] == {"url": f"{BASE_URL}/events/securityhub/{tenant.id}", "apiKeyHeader": "X-Hubsync-Api-Key"}
    assert tenant.events_api_key not in str(body)


def test_invalid_settings_are_refused_with_messages_by_field(client: FlaskClient, store: Store,
                                                             tenant: Tenant) -> None:
    settings = {
        "aws": {"roleArn": "arn:aws:iam::123:user/bob", "aggregationRegion": "moon-1",
                "organizationsRoleArn": "role"},
        "policy": {"project_key": "sec", "rules": [{"min_severity": "SEVERE", "account_ids": ["1234"]}],
                   "priorities": {"CRITICAL": "Highest"}, "status_dispositions": {"Risk approved": "MAYBE"},
                   "risk_acceptance_days": 0},
    }
    response = client.put("/api/v1/settings", json=settings, headers=admin())

    assert response.status_code == 400
    fields = response.json["fields"]
    assert set(fields) == {
        "aws.roleArn", "aws.aggregationRegion", "aws.organizationsRoleArn", "policy.project_key",
        "policy.rules[0].min_severity", "policy.rules[0].account_ids[0]", "policy.priorities",
        "policy.status_dispositions.Risk approved", "policy.risk_acceptance_days",
    }
    assert fields["policy.rules[0].account_ids[0]"] == ["an AWS account id is 12 digits"]
    assert "HIGH is missing" in fields["policy.priorities"]
    with store.read() as uow:
        assert uow.tenants.get(tenant.id) == tenant  # nothing saved


def test_valid_settings_are_saved_and_read_back(client: FlaskClient, store: Store, tenant: Tenant) -> None:
    settings = {
        "aws": {"roleArn": "arn:aws:iam::222233334444:role/path/hubsync", "aggregationRegion": "eu-west-1",
                "organizationsRoleArn": " arn:aws:iam::444455556666:role/org-read "},
        "policy": {"project_key": "OPS", "issue_type": "Bug", "default_assignee": "5b10ac8d82e05b22cc7d4ef5",
                   "rules": [{"name": "public buckets", "security_control_ids": ["S3.8"], "regions": ["eu-west-1"]}],
                   "risk_acceptance_days": None,  # OPS's stock workflow: its own statuses (the project check)
                   "status_dispositions": {"Done": "FIXED"}, "risk_request_status": "In Progress"},
    }
    response = client.put("/api/v1/settings", json=settings, headers=admin())

    assert response.status_code == 200, response.json
    with store.read() as uow:
        saved = uow.tenants.get(tenant.id)
    assert saved is not None
    assert saved.aws_role_arn == "arn:aws:iam::222233334444:role/path/hubsync"
    assert saved.organizations_role_arn == "arn:aws:iam::444455556666:role/org-read"
    assert saved.aggregation_region == "eu-west-1"
    assert saved.policy["project_key"] == "OPS"
    assert saved.policy["risk_acceptance_days"] is None
    assert saved.jira_secret == SECRET  # the install's secret survives a save
    assert saved.external_id == tenant.external_id
    assert response.json["policy"] == client.get("/api/v1/settings", headers=admin()).json["policy"]


def test_settings_show_the_security_hub_generation_and_refuse_one_that_is_unknown(
    client: FlaskClient, store: Store, tenant: Tenant
) -> None:
    assert client.get("/api/v1/settings", headers=admin()).json["securityhub"] == {
        "generation": "cspm", "generations": ["cspm", "v2"]}
    aws = {"roleArn": ROLE_ARN, "aggregationRegion": "us-east-1", "securityhubGeneration": "ocsf"}

    saved = client.put("/api/v1/settings", json={"aws": aws, "policy": {"project_key": "SEC"}}, headers=admin())
    tested = client.post("/api/v1/settings/test-connection", json={"aws": aws}, headers=admin())

    assert (saved.status_code, tested.status_code) == (400, 400)
    assert saved.json["fields"] == tested.json["fields"] == {
        "aws.securityhubGeneration": ["'ocsf' is not a Security Hub generation (one of: cspm, v2)"]}
    with store.read() as uow:
        assert uow.tenants.get(tenant.id) == tenant  # nothing saved


def test_a_tenant_moves_to_the_new_security_hub_from_the_settings(
    client: FlaskClient, store: Store, tenant: Tenant
) -> None:
    aws = {"roleArn": ROLE_ARN, "aggregationRegion": "us-east-1", "securityhubGeneration": "v2"}

    saved = client.put("/api/v1/settings", json={"aws": aws, "policy": {"project_key": "SEC"}}, headers=admin())

    assert saved.status_code == 200 and saved.json["securityhub"]["generation"] == "v2"
    with store.read() as uow:
        assert uow.tenants.get(tenant.id).securityhub_generation.value == "V2"


def test_a_stored_policy_that_no_longer_validates_comes_back_with_its_errors(
    client: FlaskClient, store: Store, tenant: Tenant
) -> None:
    with store.transaction() as uow:
        uow.tenants.update(Tenant(**{**tenant.__dict__, "policy": {"project_key": "SEC", "colour": "red"}}))
    body = client.get("/api/v1/settings", headers=admin()).json
    assert body["policy"] == {"project_key": "SEC", "colour": "red"}
    assert body["errors"] == {"policy.colour": ["is not a setting hubsync knows"]}


def test_settings_must_be_an_object(client: FlaskClient) -> None:
    response = client.put("/api/v1/settings", data="[1]", content_type="application/json", headers=admin())
    assert response.status_code == 400
    assert response.json["fields"] == {"": ["the settings must be a JSON object"]}


def test_rotating_the_events_key_shows_the_new_key_once(client: FlaskClient, store: Store, tenant: Tenant) -> None:
    first = client.post("/api/v1/settings/events-api-key", json={}, headers=admin()).json
    assert first["url"] == f"{BASE_URL}/events/securityhub/{tenant.id}"
    assert first["previousKeyValidHours"] == 24
    with store.read() as uow:
        assert uow.tenants.verify_events_api_key(tenant.id, first["apiKey"])
        assert uow.tenants.verify_events_api_key(tenant.id, tenant.events_api_key)  # grace period
    assert first["apiKey"] not in str(client.get("/api/v1/settings", headers=admin()).json)

    second = client.post("/api/v1/settings/events-api-key", json={"revokePrevious": True}, headers=admin()).json
    assert second["previousKeyValidHours"] == 0
    with store.read() as uow:
        assert uow.tenants.verify_events_api_key(tenant.id, second["apiKey"])
        assert not uow.tenants.verify_events_api_key(tenant.id, first["apiKey"])


def test_testing_unsaved_aws_settings_validates_them_first(client: FlaskClient) -> None:
    response = client.post("/api/v1/settings/test-connection", json={"aws": {"roleArn": "nope"}}, headers=admin())
    assert response.status_code == 400
    assert set(response.json["fields"]) == {"aws.roleArn", "aws.aggregationRegion"}


def test_testing_a_connection_with_nothing_saved_says_what_is_missing(
    client: FlaskClient, store: Store, tenant: Tenant
) -> None:
    with store.transaction() as uow:
        uow.tenants.update(Tenant(**{**tenant.__dict__, "aws_role_arn": None}))
    body = client.post("/api/v1/settings/test-connection", json={}, headers=admin()).json
    assert body["ok"] is False
    assert body["steps"] == [{"name": "Assume the Security Hub role", "ok": None, "status": "skipped",
                              "detail": "no role ARN and Region saved yet"}]

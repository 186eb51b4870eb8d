"""The rule preview route and the large-onboarding confirmation of a settings save, on a bare app with a real store
(SQLite), the Jira Cloud simulator (who is an administrator) and the Security Hub simulator."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import boto3
import pytest
from botocore.config import Config
from flask import Flask
from flask.testing import FlaskClient

from hubsync.adapters.connect_keys import HttpInstallKeys
from hubsync.adapters.securityhub import SecurityHubClient
from hubsync.adapters.store import Store
from hubsync.bootstrap import TenantClients, bootstrap
from hubsync.config import Settings
from hubsync.domain.finding import FindingIdentifier
from hubsync.domain.link import Link, LinkState
from hubsync.domain.tenant import Tenant
from hubsync.web import api
from hubsync.web.errors import register_error_handlers
from hubsync.web.services import EXTENSION, Services
from hubsync_sandbox.httpserver import free_port
from tests.fixtures.securityhub import MEMBER, SecurityHubSandbox, control_finding
from tests.unit.web.test_api import BASE_URL, ROLE_ARN, RecordingQueue, admin, auth

# The store and the installed tenant are those of the settings routes' tests.
from tests.unit.web.test_api import store as store
from tests.unit.web.test_api import tenant as tenant

THRESHOLD = 2
HOSTILE = '<img src=x onerror="alert(1)"> & </script>'


class Sources:
    """The runtime's tenant clients, but Security Hub is `client` (a simulator's, or one that reaches nothing);
    the tenants it was asked for are kept."""

    def __init__(self, store: Store, client: Any) -> None:
        self._clients = TenantClients(store)
        self._client = client
        self.asked: list[Tenant] = []

    def jira(self, tenant: Tenant) -> Any:
        return self._clients.jira(tenant)

    def securityhub(self, tenant: Tenant) -> SecurityHubClient:
        self.asked.append(tenant)
        return SecurityHubClient(self._client)


@pytest.fixture
def app(store: Store) -> Flask:
    settings = Settings.from_environment({"HUBSYNC_BASE_URL": BASE_URL,
                                          "HUBSYNC_ONBOARDING_CONFIRM_ABOVE": str(THRESHOLD)})
    runtime = bootstrap(settings, store=store, queue=RecordingQueue(), install_keys=HttpInstallKeys("http://127.0.0.1:9"))
    app = Flask(__name__)
    app.extensions[EXTENSION] = Services(runtime)
    register_error_handlers(app)
    app.register_blueprint(api.bp)
    return app


@pytest.fixture
def client(app: Flask, tenant: Tenant) -> FlaskClient:
    return app.test_client()


def use(app: Flask, store: Store, securityhub: Any) -> Sources:
    sources = Sources(store, securityhub)
    app.extensions[EXTENSION].runtime.tenants = sources
    return sources


def seeded(securityhub: SecurityHubSandbox) -> dict[str, list[dict[str, Any]]]:
    """Three critical S3.8 findings (one titled with markup), two low ones, and a critical one already PASSED."""
    findings = {
        "critical": [control_finding("S3.8", Severity={"Label": "CRITICAL"}, Title=title)
                     for title in (HOSTILE, "bucket 2", "bucket 3")],
        "low": [control_finding("S3.8", Severity={"Label": "LOW"}) for _ in range(2)],
        "passed": [control_finding("S3.8", status="PASSED", Severity={"Label": "CRITICAL"})],
    }
    securityhub.client().batch_import_findings(Findings=[f for group in findings.values() for f in group])
    return findings


def settings(*rules: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"aws": {"roleArn": ROLE_ARN, "aggregationRegion": "us-east-1"},
            "policy": {"project_key": "SEC", "rules": list(rules)}, **extra}


def unreachable() -> Any:
    return boto3.client("securityhub", endpoint_url=f"http://127.0.0.1:{free_port()}", region_name="us-east-1",
                        aws_access_key_id="x", aws_secret_access_key="x",
                        config=Config(retries={"total_max_attempts": 1}, connect_timeout=1))


# -- the preview ---------------------------------------------------------------------------------------------


def test_each_rule_of_the_unsaved_form_shows_its_live_matches_and_the_first_few(
    app: Flask, client: FlaskClient, store: Store, securityhub: SecurityHubSandbox
) -> None:
    seeded(securityhub)
    use(app, store, securityhub.client())
    form = {"project_key": "", "rules": [{"name": "critical", "min_severity": "CRITICAL"},
                                         {"security_control_ids": ["S3.8"]}, {"account_ids": ["999999999999"]}]}

    response = client.post("/api/v1/settings/rule-preview", json={"policy": form}, headers=admin())

    assert response.status_code == 200, response.json
    assert response.headers["Cache-Control"] == "no-store"
    rules = response.json["rules"]
    assert [(r["name"], r["matches"], r["capped"]) for r in rules] == [
        ("critical", 3, False), ("rule 2", 5, False), ("rule 3", 0, False)]
    assert sorted(f["title"] for f in rules[0]["sample"]) == sorted([HOSTILE, "bucket 2", "bucket 3"])
    assert {f["severity"] for f in rules[0]["sample"]} == {"CRITICAL"}
    assert rules[1]["sample"][0]["severity"] == "CRITICAL"  # the most severe first
    assert rules[0]["sample"][0]["accountId"] == MEMBER
    assert response.json["readCap"] == 1000


def test_a_single_rule_can_be_previewed(
    app: Flask, client: FlaskClient, store: Store, securityhub: SecurityHubSandbox
) -> None:
    seeded(securityhub)
    use(app, store, securityhub.client())
    response = client.post("/api/v1/settings/rule-preview", json={"rule": {"min_severity": "LOW"}}, headers=admin())
    assert [(r["name"], r["matches"]) for r in response.json["rules"]] == [("rule 1", 5)]


def test_an_invalid_rule_is_a_400_with_its_field_paths_and_reads_nothing(
    app: Flask, client: FlaskClient, store: Store
) -> None:
    sources = use(app, store, unreachable())
    response = client.post("/api/v1/settings/rule-preview", headers=admin(),
                           json={"policy": {"rules": [{}, {"account_ids": ["12"], "regions": ["mars"]}]}})
    assert response.status_code == 400
    assert set(response.json["fields"]) == {"policy.rules[1].account_ids[0]", "policy.rules[1].regions[0]"}
    not_json = client.post("/api/v1/settings/rule-preview", data="{", content_type="application/json",
                           headers=admin())
    assert not_json.status_code == 400 and "error" in not_json.json
    assert sources.asked == []


def test_a_tenant_without_an_aws_role_is_a_409(client: FlaskClient, store: Store, tenant: Tenant) -> None:
    with store.transaction() as uow:
        uow.tenants.update(replace(tenant, aws_role_arn=None))
    response = client.post("/api/v1/settings/rule-preview", json={"rule": {}}, headers=admin())
    assert response.status_code == 409
    assert "no AWS role ARN configured" in response.json["error"]


def test_security_hub_that_cannot_be_reached_is_a_502_saying_why(
    app: Flask, client: FlaskClient, store: Store
) -> None:
    use(app, store, unreachable())
    response = client.post("/api/v1/settings/rule-preview", json={"rule": {}}, headers=admin())
    assert response.status_code == 502
    assert response.json["error"].startswith("Security Hub could not be read: Could not connect to the endpoint")


def test_a_user_who_is_not_an_admin_is_refused(app: Flask, client: FlaskClient, store: Store) -> None:
    sources = use(app, store, unreachable())
    response = client.post("/api/v1/settings/rule-preview", json={"rule": {}}, headers=auth())
    assert response.status_code == 403
    assert sources.asked == []


# -- the save -----------------------------------------------------------------------------------------------


def test_a_save_that_would_create_more_tickets_than_the_threshold_waits_for_a_confirmation(
    app: Flask, client: FlaskClient, store: Store, tenant: Tenant, securityhub: SecurityHubSandbox
) -> None:
    seeded(securityhub)
    use(app, store, securityhub.client())
    new_rules = settings({"name": "S3.8", "security_control_ids": ["S3.8"]})

    refused = client.put("/api/v1/settings", json=new_rules, headers=admin())

    assert refused.status_code == 409, refused.json
    assert refused.json["onboarding"] == {"tickets": 5, "capped": False, "threshold": THRESHOLD}
    assert "would create 5 tickets (more than 2)" in refused.json["error"]
    with store.read() as uow:
        assert uow.tenants.get(tenant.id) == tenant  # nothing saved

    confirmed = client.put("/api/v1/settings", json={**new_rules, "confirmLargeOnboarding": True}, headers=admin())

    assert confirmed.status_code == 200, confirmed.json
    assert confirmed.json["policy"]["rules"][0]["security_control_ids"] == ["S3.8"]
    assert "onboarding" not in confirmed.json  # confirmed: not counted again


def test_findings_that_have_a_ticket_are_not_counted(
    app: Flask, client: FlaskClient, store: Store, tenant: Tenant, securityhub: SecurityHubSandbox
) -> None:
    critical = seeded(securityhub)["critical"]
    use(app, store, securityhub.client())
    identifier = FindingIdentifier(critical[0]["Id"], critical[0]["ProductArn"])
    with store.transaction() as uow:
        uow.links.save(tenant.id, Link(identifier.key, identifier.id, identifier.product_arn, LinkState.LINKED,
                                       ticket_key="SEC-1"))

    response = client.put("/api/v1/settings", json=settings({"min_severity": "HIGH"}), headers=admin())

    assert response.status_code == 200, response.json  # 2 tickets: not above the threshold
    assert response.json["onboarding"] == {"tickets": 2, "capped": False, "threshold": THRESHOLD}


def test_a_save_that_keeps_the_rules_reads_no_findings(
    app: Flask, client: FlaskClient, store: Store, tenant: Tenant
) -> None:
    sources = use(app, store, unreachable())
    response = client.put("/api/v1/settings", json=settings(*tenant.policy["rules"]), headers=admin())
    assert response.status_code == 200, response.json
    assert "onboarding" not in response.json
    assert sources.asked == []


def test_a_save_goes_ahead_when_security_hub_cannot_count(
    app: Flask, client: FlaskClient, store: Store, tenant: Tenant
) -> None:
    sources = use(app, store, unreachable())
    response = client.put("/api/v1/settings", json=settings({"min_severity": "LOW"}), headers=admin())
    assert response.status_code == 200, response.json
    assert "onboarding" not in response.json
    assert [asked.aws_role_arn for asked in sources.asked] == [ROLE_ARN]


@pytest.mark.parametrize("flag", ["yes", 1, None])
def test_the_confirmation_must_be_a_boolean(client: FlaskClient, flag: Any) -> None:
    response = client.put("/api/v1/settings", json=settings(confirmLargeOnboarding=flag), headers=admin())
    assert response.status_code == 400
    assert response.json["fields"] == {"confirmLargeOnboarding": ["must be true or false"]}


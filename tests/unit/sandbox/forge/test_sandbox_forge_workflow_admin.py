"""A Forge app administers workflows through the API gateway when its manifest holds `manage:jira-configuration`:
its app user acts as a Jira administrator, a user token only for a person who is one; without the scope, 403."""

from __future__ import annotations

from hubsync_sandbox.forge import Installation
from hubsync_sandbox.jira.rest_workflows import ADMIN_ONLY
from tests.unit.sandbox.forge.conftest import ForgeSite
from tests.unit.sandbox.forge.forge_remote import manifest

NEW_STATUS = {"scope": {"type": "GLOBAL"}, "statuses": [{"name": "Awaiting vendor", "statusCategory": "TODO"}]}


def test_the_app_user_with_the_scope_administers_workflows(forge_site: ForgeSite, installed: Installation) -> None:
    token = forge_site.forge.system_token()

    created = forge_site.gateway("POST", "/rest/api/3/statuses", token, json=NEW_STATUS)
    schemes = forge_site.gateway("GET", "/rest/api/3/workflowscheme/project?projectId=10000", token)

    assert created.status_code == 200 and created.json()[0]["name"] == "Awaiting vendor"
    assert schemes.status_code == 200
    assert schemes.json()["values"][0]["workflowScheme"]["defaultWorkflow"] == "SecDevOps Risk Workflow"


def test_a_user_token_administers_only_for_a_jira_administrator(
    forge_site: ForgeSite, installed: Installation
) -> None:
    developer = forge_site.gateway("GET", "/rest/api/3/workflows/search",
                                   forge_site.forge.user_token(forge_site.user("alice")))
    admin = forge_site.gateway("GET", "/rest/api/3/workflows/search",
                               forge_site.forge.user_token(forge_site.user("ssecurity")))

    assert developer.status_code == 403 and developer.json()["errorMessages"] == [ADMIN_ONLY]
    assert admin.status_code == 200 and admin.json()["total"] == 2


def test_without_the_scope_the_app_is_refused(forge_site: ForgeSite) -> None:
    without_scope = manifest().replace(" manage:jira-configuration,", "")
    forge_site.forge.install(without_scope, remote_base_url=forge_site.remote.url)
    forge_site.settle()

    refused = forge_site.gateway("POST", "/rest/api/3/statuses", forge_site.forge.system_token(), json=NEW_STATUS)

    assert refused.status_code == 403
    assert "manage:jira-configuration" in refused.json()["errorMessages"][0]
    assert "Awaiting vendor" not in {status.name for status in forge_site.world.statuses()}

"""The whole sandbox carries the Forge side on its Jira Cloud site, with the gateway's exchanges contract-checked."""

from __future__ import annotations

import requests

from hubsync_sandbox.runner import Sandbox
from tests.conformance.jira_openapi import ContractCheckedApp
from tests.fixtures.sandbox import SandboxContracts
from tests.unit.sandbox.forge.forge_remote import StandInRemote, manifest


def test_the_sandbox_serves_forge_on_its_cloud_site(sandbox_contracts: SandboxContracts,
                                                    remote: StandInRemote) -> None:
    with Sandbox(seed_findings=False, wrap=sandbox_contracts.wrap) as sandbox:
        assert sandbox.environment()["HUBSYNC_FORGE_JWKS_URL"] == sandbox.forge.jwks_url
        remote.jwks_url = sandbox.forge.jwks_url
        sandbox.forge.install(manifest(), remote_base_url=remote.url)
        assert sandbox.forge.wait_idle(10)
        assert [d.outcome for d in sandbox.forge.deliveries()] == ["delivered"]

        checkers = [c for c in sandbox_contracts._checkers
                    if isinstance(c, ContractCheckedApp) and c.contract.flavour == "cloud"]
        before = sum(checker.checked for checker in checkers)
        me = requests.get(f"{sandbox.forge.api_base_url}/rest/api/3/myself",
                          headers={"Authorization": f"Bearer {sandbox.forge.system_token()}"}, timeout=10)
        assert me.status_code == 200
        assert me.json()["accountType"] == "app"
        if checkers:  # with HUBSYNC_SPECS_DIR: the gateway call reached the contract check as /rest/api/3/myself
            assert sum(checker.checked for checker in checkers) == before + 1

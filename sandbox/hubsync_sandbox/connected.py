"""hubsync wired to the sandbox the way it runs in production: its web app on a loopback port, installed into the
simulated Jira Cloud site, configured as an admin does on the configure page, Security Hub's events delivered to its
EventBridge endpoint with the tenant's API key, and a worker taking the hints that Jira's and Security Hub's events
put on the queue.

Two ways into Jira Cloud (`platform`):
- "connect": a Connect app installed from its descriptor URL (signed install, verified against the sandbox's
  install-key server); Jira tells hubsync of issue changes by Connect webhooks.
- "forge": a Forge app whose backend is hubsync (Forge Remote), installed from the project's manifest
  (connect-descriptor/forge/manifest.yml) with the sandbox's app id and hubsync's loopback URL as the remote;
  hubsync verifies Forge's invocation tokens against the sandbox's JWKS, the installed event creates the tenant
  (keyed by its installation), Jira's issue changes arrive as Forge product events, and the app system token each
  call hands over is what hubsync calls Jira with, at the site's API gateway. No Connect install, no webhooks.

On the Data Center site (no apps there), `datacenter_hubsync`: the tenant with its account's personal access
token, as `hubsync tenant add` makes it, and hubsync's admin webhook registered by the site's Jira administrator;
Jira tells hubsync of issue changes by that webhook's deliveries.

    with installed_hubsync(sandbox, store, policy, platform="forge") as hubsync:
        hubsync.tenant            # the tenant the install created (Forge: auth mode FORGE, its installation id)
        hubsync.settle()          # every event delivered and every hint synced
    with datacenter_hubsync(sandbox, store, policy, reconcile_interval=timedelta(days=1)) as hubsync:
        hubsync.admin_webhook_deliveries()   # what the site posted to hubsync's webhook
        hubsync.periodic_reconciles          # the tenants the worker's periodic turns reconciled
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import requests

from hubsync.adapters.faults import is_transient
from hubsync.adapters.queue import LocalQueue, WorkerTimers
from hubsync.adapters.store import Store
from hubsync.bootstrap import bootstrap, jira_admin_webhooks
from hubsync.config import ConfigError
from hubsync.config import Settings as HubsyncSettings
from hubsync.domain.policy_schema import load_policy
from hubsync.domain.tenant import AuthMode, JiraFlavour, SecurityHubGeneration, Tenant
from hubsync.service.intake import API_KEY_HEADER
from hubsync.service.jira_webhooks import register
from hubsync.service.periodic_reconcile import turn_taken
from hubsync.service.reconcile import ReconcileReport, reconcile
from hubsync.service.settings import AwsSettings, Settings, events_url, rotate_events_api_key, save_settings
from hubsync.service.sync import SyncContext
from hubsync.service.worker import Worker, WorkerSettings
from hubsync.web import create_app
from hubsync.web.forge_manifest import built_resources, load_template
from hubsync_sandbox.forge import SANDBOX_APP_ID, Installation
from hubsync_sandbox.httpserver import BackgroundServer
from hubsync_sandbox.jira import seed as jira_seed
from hubsync_sandbox.runner import AGGREGATION_REGION, Sandbox
from hubsync_sandbox.securityhub.delivery import CSPM_DETAIL_TYPES
from hubsync_sandbox.securityhub.events import IMPORTED_V2

INSTALL_TIMEOUT_S = 30
Platform = Literal["forge", "connect"]
PLATFORMS: tuple[Platform, ...] = ("forge", "connect")
Runs = Literal["forge", "connect", "datacenter"]  # how Jira tells hubsync: Forge's events, Connect's or admin webhooks
# The events the tenant's EventBridge rule sends hubsync, by the Security Hub it syncs with: CSPM's Imported and
# Custom Action, or the new Security Hub's Findings Imported V2 (it has no custom actions).
DETAIL_TYPES = {SecurityHubGeneration.CSPM: CSPM_DETAIL_TYPES, SecurityHubGeneration.V2: (IMPORTED_V2,)}


@dataclass
class InstalledHubsync:
    sandbox: Sandbox
    server: BackgroundServer
    store: Store
    queue: LocalQueue
    tenant: Tenant
    platform: Runs = "connect"
    forge_installation: Installation | None = None  # the Forge app's installation on the site (platform "forge")
    periodic_reconciles: list[str] = field(default_factory=list)  # the tenants the worker's periodic turns ran

    @property
    def app_url(self) -> str:
        return self.server.url

    def settle(self, timeout: float = 30.0) -> None:
        """Until Jira's webhooks (Connect; the admin webhook on Data Center) or Forge's deliveries (Forge) and
        Security Hub's events are delivered and the worker has synced every hint (hubsync's own writes come back
        as events too, and settle with them)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sandbox.securityhub.events.flush(timeout=max(deadline - time.monotonic(), 0.1))
            if self.platform == "forge":
                self.sandbox.forge.wait_idle(min(2.0, max(deadline - time.monotonic(), 0.1)))
            else:
                requests.get(self._deliveries_url, params={"wait_ms": 2000}, timeout=10)
            if self.queue.depth() == 0:
                return
            time.sleep(0.05)
        raise TimeoutError(f"{self.queue.depth()} hints still queued after {timeout:g} s")

    def admin_webhook_deliveries(self) -> list[dict[str, Any]]:
        """What the Data Center site posted to hubsync's admin webhook, each with its status per attempt."""
        url = f"{self.sandbox.jira_dc_server.url}/_sandbox/admin-webhooks/deliveries"
        deliveries = requests.get(url, timeout=10).json()["deliveries"]
        return [d for d in deliveries if d["url"].startswith(self.app_url)]

    @property
    def _deliveries_url(self) -> str:
        if self.platform == "datacenter":
            return f"{self.sandbox.jira_dc_server.url}/_sandbox/admin-webhooks/deliveries"
        return f"{self.sandbox.jira_cloud_server.url}/_sandbox/connect/deliveries"


def sandbox_settings(sandbox: Sandbox, policy: dict,
                     generation: SecurityHubGeneration = SecurityHubGeneration.CSPM) -> Settings:
    """What an admin enters on the configure page for the sandbox's organization."""
    environment = sandbox.environment()
    return Settings(
        AwsSettings(
            role_arn=environment["HUBSYNC_SANDBOX_SECURITYHUB_ROLE_ARN"],
            organizations_role_arn=environment["HUBSYNC_SANDBOX_ORGANIZATIONS_ROLE_ARN"],
            aggregation_region=AGGREGATION_REGION,
            securityhub_generation=generation,
        ),
        load_policy(policy),
    )


@contextmanager
def installed_hubsync(
    sandbox: Sandbox,
    store: Store,
    policy: dict,
    *,
    reconcile_interval: timedelta | None = None,
    platform: Platform = "connect",
    generation: SecurityHubGeneration = SecurityHubGeneration.CSPM,
) -> Iterator[InstalledHubsync]:
    """Serve, install, configure and run hubsync against `sandbox` (Jira Cloud), on `store`; stop it afterwards.
    `reconcile_interval`: the worker's periodic reconcile (None: only events and webhooks drive it). `platform`:
    installed as a Connect app, or as a Forge app (see the module's docstring); the Forge app's hourly trigger
    runs on its real interval while it is installed. `generation`: the Security Hub the admin chooses on the
    configure page, whose events the EventBridge rule sends hubsync."""
    if platform not in PLATFORMS:
        raise ValueError(f"platform must be one of {', '.join(PLATFORMS)}, not {platform!r}")
    environment = sandbox.environment()
    variables = {
        "HUBSYNC_INSTALL_KEYS_URL": environment["HUBSYNC_INSTALL_KEYS_URL"],
        "HUBSYNC_ALLOWED_JIRA_HOSTS": urlsplit(sandbox.jira_cloud_server.url).netloc,
    }
    if platform == "forge":
        variables.update(HUBSYNC_FORGE_APP_ID=SANDBOX_APP_ID, HUBSYNC_FORGE_JWKS_URL=sandbox.forge.jwks_url)

    def install(settings: HubsyncSettings, app_url: str) -> tuple[Tenant, Installation | None]:
        if platform == "forge":
            installation = _install_forge(sandbox, settings, app_url)
            tenant = configure_forge_installed(store, sandbox, installation.installation_id, policy, generation)
            sandbox.forge.start_schedules()  # the hourly trigger, every hour: a fresh app token for a long run
            return tenant, installation
        return configure_installed(store, sandbox, _install(sandbox, app_url), policy, generation), None

    try:
        with _running(sandbox, store, variables, install, platform=platform, generation=generation,
                      reconcile_interval=reconcile_interval) as hubsync:
            try:
                yield hubsync
            finally:  # before hubsync stops: the hourly trigger would find no one there
                sandbox.forge.stop_schedules()
    finally:  # and if the install failed after they started
        sandbox.forge.stop_schedules()


@contextmanager
def datacenter_hubsync(
    sandbox: Sandbox,
    store: Store,
    policy: dict,
    *,
    reconcile_interval: timedelta | None = None,
    generation: SecurityHubGeneration = SecurityHubGeneration.CSPM,
) -> Iterator[InstalledHubsync]:
    """hubsync as a Data Center customer runs it, against the sandbox's Data Center site: its web app and worker;
    the tenant `hubsync tenant add` makes, syncing with its own account's personal access token; hubsync's admin
    webhook registered once by the site's Jira administrator with her PAT (`jira_webhooks.register`; her token is
    used for that call only, never stored), so that Jira tells hubsync of every change to its tickets; and
    Security Hub's events sent to the intake with the tenant's events key. `reconcile_interval`: the worker's
    periodic reconcile, whose first turn is an interval after the start (the demo onboards the tenant itself)."""
    environment = sandbox.environment()
    world = sandbox.jira_dc

    def add_tenant(settings: HubsyncSettings, app_url: str) -> tuple[Tenant, None]:
        with store.transaction() as uow:
            tenant = uow.tenants.create(
                name="sandbox (datacenter)",
                jira_base_url=world.base_url,
                jira_flavour=JiraFlavour.DATA_CENTER,
                auth_mode=AuthMode.PAT,
                jira_user=None,
                jira_secret=jira_seed.SANDBOX_JIRA_PAT,
                aws_role_arn=environment["HUBSYNC_SANDBOX_SECURITYHUB_ROLE_ARN"],
                organizations_role_arn=environment["HUBSYNC_SANDBOX_ORGANIZATIONS_ROLE_ARN"],
                aggregation_region=AGGREGATION_REGION,
                policy=policy,
                external_id=environment["HUBSYNC_SANDBOX_EXTERNAL_ID"],
                securityhub_generation=generation,
            )
        administrator = dataclasses.replace(tenant, jira_secret=jira_seed.SANDBOX_JIRA_ADMIN_PAT)
        register(store, tenant, jira_admin_webhooks(administrator), app_url)
        with store.read() as uow:
            registered = uow.tenants.get(tenant.id)
        assert registered is not None
        return registered, None

    with _running(sandbox, store, {}, add_tenant, platform="datacenter", generation=generation,
                  reconcile_interval=reconcile_interval) as hubsync:
        yield hubsync


@contextmanager
def _running(
    sandbox: Sandbox,
    store: Store,
    variables: dict[str, str],
    set_up: Callable[[HubsyncSettings, str], tuple[Tenant, Installation | None]],
    *,
    platform: Runs,
    generation: SecurityHubGeneration,
    reconcile_interval: timedelta | None,
) -> Iterator[InstalledHubsync]:
    """hubsync's web app on a loopback port (HUBSYNC_BASE_URL) with `variables` set, the tenant `set_up` makes
    there, Security Hub's events sent to its intake, and a worker; everything stopped afterwards."""
    queue = LocalQueue(store.engine)
    server = BackgroundServer(name="hubsync").start()
    stop = threading.Event()
    worker_thread: threading.Thread | None = None
    try:
        settings = HubsyncSettings.from_environment({"HUBSYNC_BASE_URL": server.url, **variables})
        runtime = bootstrap(settings, store=store, queue=queue)
        server.mount(create_app(runtime))
        tenant, forge_installation = set_up(settings, server.url)
        key = rotate_events_api_key(store, tenant.id, server.url)["apiKey"]
        sandbox.securityhub.events.add_http_target(
            events_url(server.url, tenant.id), header_name=API_KEY_HEADER, header_value=key,
            detail_types=DETAIL_TYPES[generation],
        )
        hubsync = InstalledHubsync(sandbox, server, store, queue, tenant, platform, forge_installation)
        worker_settings = WorkerSettings(wait_seconds=0.2, reconcile_interval=reconcile_interval)
        timers = WorkerTimers(store.engine, runtime.clock)
        if reconcile_interval is not None:
            turn_taken(timers, tenant.id, reconcile_interval, worker_settings.reconcile_lease)

        def periodic_reconcile(ctx: SyncContext) -> ReconcileReport:
            hubsync.periodic_reconciles.append(ctx.tenant_id)
            return reconcile(ctx, progress=None)

        worker = Worker(store, queue, contexts=runtime.tenants, is_transient=is_transient, settings=worker_settings,
                        events=runtime.events_source(), timers=timers, reconcile_tenant=periodic_reconcile,
                        clock=runtime.clock)
        worker_thread = threading.Thread(target=worker.run, args=(stop,), name="hubsync-worker", daemon=True)
        worker_thread.start()
        yield hubsync
    finally:
        stop.set()
        queue.close()
        if worker_thread is not None:
            worker_thread.join(timeout=15)
        server.stop()


def configure_installed(store: Store, sandbox: Sandbox, client_key: str, policy: dict,
                        generation: SecurityHubGeneration = SecurityHubGeneration.CSPM) -> Tenant:
    """The tenant the install of `client_key` created, saved with the settings an admin enters on the configure
    page for the sandbox's organization."""
    with store.read() as uow:
        tenant = uow.tenants.get_by_client_key(client_key)
    if tenant is None:
        raise RuntimeError("Jira installed hubsync but the installed callback created no tenant")
    return save_settings(store, tenant.id, sandbox_settings(sandbox, policy, generation))


def configure_forge_installed(store: Store, sandbox: Sandbox, installation_id: str, policy: dict,
                              generation: SecurityHubGeneration = SecurityHubGeneration.CSPM) -> Tenant:
    """The tenant Forge's installed event created for the installation `installation_id`, saved with the settings
    an admin enters on the configure page for the sandbox's organization."""
    with store.read() as uow:
        tenant = uow.tenants.get_by_forge_installation(installation_id)
    if tenant is None:
        raise RuntimeError(f"Forge installed hubsync ({installation_id}) but its installed event created no tenant")
    return save_settings(store, tenant.id, sandbox_settings(sandbox, policy, generation))


def _install(sandbox: Sandbox, app_url: str) -> str:
    """What a Jira admin does in "Manage apps → Upload app": Jira fetches the descriptor and calls `installed`.
    Returns the site's clientKey."""
    jira = sandbox.jira_cloud_server.url
    descriptor = f"{app_url}/atlassian-connect.json"
    answer = requests.post(f"{jira}/_sandbox/connect/install", json={"descriptorUrl": descriptor},
                           timeout=INSTALL_TIMEOUT_S)
    if answer.status_code != 200:
        raise RuntimeError(f"installing hubsync into the sandbox's Jira failed: {answer.status_code} {answer.text}")
    return answer.json()["clientKey"]



def _built_resources(settings: HubsyncSettings) -> dict[str, Path] | None:
    """The Custom UI resources `make forge-ui` built (the simulated site's pages embed them), None when they are
    not built: the pages then say so."""
    try:
        return built_resources(settings)
    except ConfigError:
        return None


def _install_forge(sandbox: Sandbox, settings: HubsyncSettings, app_url: str) -> Installation:
    """What `forge deploy` and `forge install` do: the project's manifest (its template, with the sandbox's app id
    and hubsync's URL as the remote's base URL) installed on the site; returns once Forge's
    avi:forge:installed:app has reached hubsync (2xx)."""
    forge = sandbox.forge
    installation = forge.install(load_template(settings), remote_base_url=app_url, app_id=SANDBOX_APP_ID,
                                 resources=_built_resources(settings))
    if not forge.wait_idle(INSTALL_TIMEOUT_S):
        raise RuntimeError(f"Forge's installed event did not reach hubsync within {INSTALL_TIMEOUT_S} s")
    lifecycle = [d for d in forge.deliveries()
                 if d.installation_id == installation.installation_id and d.kind == "lifecycle"]
    failed = [d for d in lifecycle if d.outcome != "delivered"]
    if not lifecycle or failed:
        answers = ", ".join(f"{d.url}: {d.status}" for d in failed) or "no lifecycle trigger was called"
        raise RuntimeError(f"installing hubsync as a Forge app failed: {answers}")
    return installation

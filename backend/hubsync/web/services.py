"""What the blueprints share, kept in `app.extensions["hubsync"]`: the runtime `bootstrap` built (settings, store,
queue, the tenants' clients), the Connect install keys and the app's own Jira users. Blueprints reach it with
`services()` (inside a request) or `app.extensions["hubsync"]`."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from hubsync.bootstrap import Runtime, TenantClients
from hubsync.config import Settings
from hubsync.domain.ports import AppAccounts, HintQueue, InstallKeys, StorePort

EXTENSION = "hubsync"


@dataclass(frozen=True)
class Services:
    runtime: Runtime

    @property
    def install_keys(self) -> InstallKeys:
        return self.runtime.install_keys

    @property
    def app_accounts(self) -> AppAccounts:  # the app's own Jira user per tenant: events it caused are not hints
        return self.runtime.app_accounts

    @property
    def config(self) -> Settings:
        return self.runtime.settings

    @property
    def store(self) -> StorePort:
        return self.runtime.store

    @property
    def queue(self) -> HintQueue:
        return self.runtime.queue

    @property
    def tenants(self) -> TenantClients:
        return self.runtime.tenants


def services() -> Services:
    registered: Services = current_app.extensions[EXTENSION]  # put there by `create_app`
    return registered

"""The periodic reconcile: every enabled tenant reconciled once per interval, by one worker of however many share
the store.

    every ≤30 s: for each enabled tenant ─> claim its timer's turn ("reconcile:<tenant id>", `TimersPort`)
        ─> reconcile it (the turn's lease renewed while it runs) ─> the next turn an interval from now

A worker that dies mid-reconcile stops renewing its lease: another takes the turn once `lease` has passed, not an
interval later. One tenant's failure waits for its next turn, and never stops the others.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Protocol

from hubsync.domain.ports import StorePort, TimersPort
from hubsync.domain.tenant import Tenant
from hubsync.service.background import every
from hubsync.service.reconcile import ReconcileReport
from hubsync.service.sync import SyncContext

log = logging.getLogger(__name__)

Reconcile = Callable[[SyncContext], ReconcileReport]


class TenantContexts(Protocol):
    """Each tenant's sync context (`bootstrap.TenantClients`)."""

    def sync_context(self, tenant: Tenant) -> SyncContext:
        """Raises `TenantNotReady` when a setting the sync needs is missing."""

    def forget(self, tenant_id: str) -> None:
        """Build the tenant's clients afresh next time (after a failure that may be theirs)."""


class PeriodicReconcile:
    def __init__(
        self,
        store: StorePort,
        timers: TimersPort,
        *,
        contexts: TenantContexts,
        reconcile_tenant: Reconcile,
        lease: timedelta,
    ) -> None:
        """`lease`: how long a turn is held without a renewal (a crashed worker's reconcile falls to another after
        it)."""
        self.store = store
        self._timers = timers
        self._contexts = contexts
        self._reconcile = reconcile_tenant
        self._lease = lease

    def run(self, stop: threading.Event, interval: timedelta) -> None:
        """Until `stop` is set: reconcile the tenants whose turn it is, then look again (at least every 30 s)."""
        tick = min(interval.total_seconds(), 30.0)
        while not stop.is_set():
            self.reconcile_due(interval)
            stop.wait(tick)

    def reconcile_due(self, interval: timedelta) -> list[str]:
        """Reconcile every enabled tenant whose turn it is (one worker per interval per tenant); returns their ids.
        The turn is held by a lease renewed while the reconcile runs: if this process dies mid-run, another worker
        takes the turn once the lease has passed, not an interval later."""
        with self.store.read() as uow:
            tenants = uow.tenants.list(enabled_only=True)
        done = []
        lease = self._lease
        for tenant in tenants:
            timer = f"reconcile:{tenant.id}"
            if not self._timers.claim(timer, lease):
                continue
            try:
                with every(lease.total_seconds() / 3, partial(self._timers.renew, timer, lease),
                           f"renew the reconcile turn of tenant {tenant.name}"):
                    report = self._reconcile_tenant(tenant)
            except Exception as exc:  # one tenant's trouble must not stop the others
                log.warning("periodic reconcile of tenant %s failed: %s", tenant.name, exc)
                self._timers.finish(timer, interval)
                continue
            self._timers.finish(timer, interval)
            log.info("reconciled tenant %s: %d changed, %d failed", tenant.name, len(report.changed),
                     len(report.failed))
            done.append(tenant.id)
        return done

    def _reconcile_tenant(self, tenant: Tenant) -> ReconcileReport:
        return self._reconcile(self._contexts.sync_context(tenant))

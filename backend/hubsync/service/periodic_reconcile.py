"""The periodic reconcile: every enabled tenant reconciled once per interval, by one worker of however many share
the store.

    every ≤30 s: for each enabled tenant ─> claim its timer's turn ("reconcile:<tenant id>", `TimersPort`)
        ─> reconcile it (the turn's lease renewed while it runs) ─> the next turn `next_turn` from now

A worker that dies mid-reconcile stops renewing its lease: another takes the turn once `lease` has passed, not an
interval later. One tenant's failure waits for its next turn, and never stops the others.

It is the safety net under the events that tell hubsync of changes as they happen. A tenant whose Jira admin webhook
is registered, and whose reconcile has just found nothing those events had missed, waits the longer
`webhook_interval` for its next turn (`next_turn`): the reconcile's own outcome is the evidence the deliveries
keep up, at no cost per delivery; the first turn that has to catch something up brings the tenant back to
`interval`.
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


def timer_name(tenant_id: str) -> str:
    """The shared timer whose turns the tenant's periodic reconcile takes."""
    return f"reconcile:{tenant_id}"


def next_turn(
    tenant: Tenant, report: ReconcileReport | None, interval: timedelta, webhook_interval: timedelta | None
) -> timedelta:
    """How long until the tenant's next periodic reconcile. `webhook_interval` (never shorter than `interval`) when
    the tenant's webhook works: registered on its Jira site (`jira_webhook.webhook_id`) and this reconcile found
    nothing to change and failed nowhere, so the webhook's deliveries and Security Hub's events had told hubsync of
    everything. Else `interval`: no webhook (app tenants included, whose events this rule does not judge), a
    reconcile that had to catch something up (a delivery lost, the webhook removed on the site, an event rule
    missing), or failed (`report` None)."""
    working = (
        webhook_interval is not None and tenant.jira_webhook.webhook_id is not None
        and report is not None and not report.changed and not report.failed
    )
    return max(interval, webhook_interval) if working and webhook_interval else interval


def turn_taken(timers: TimersPort, tenant_id: str, interval: timedelta, lease: timedelta) -> bool:
    """A reconcile of the tenant ran outside its periodic turns (an onboarding run by hand): its next turn is
    `interval` from now rather than at once. False when the turn is held (a worker is reconciling it)."""
    name = timer_name(tenant_id)
    if not timers.claim(name, lease):
        return False
    timers.finish(name, interval)
    return True


class PeriodicReconcile:
    def __init__(
        self,
        store: StorePort,
        timers: TimersPort,
        *,
        contexts: TenantContexts,
        reconcile_tenant: Reconcile,
        lease: timedelta,
        webhook_interval: timedelta | None = None,
    ) -> None:
        """`lease`: how long a turn is held without a renewal (a crashed worker's reconcile falls to another after
        it). `webhook_interval`: the longer wait of a tenant whose webhook works (`next_turn`); None: every tenant
        waits the same interval."""
        self.store = store
        self._timers = timers
        self._contexts = contexts
        self._reconcile = reconcile_tenant
        self._lease = lease
        self._webhook_interval = webhook_interval

    def run(self, stop: threading.Event, interval: timedelta) -> None:
        """Until `stop` is set: reconcile the tenants whose turn it is, then look again (at least every 30 s)."""
        tick = min(interval.total_seconds(), 30.0)
        while not stop.is_set():
            self.reconcile_due(interval)
            stop.wait(tick)

    def reconcile_due(self, interval: timedelta) -> list[str]:
        """Reconcile every enabled tenant whose turn it is (one worker per interval per tenant); returns their ids.
        The turn is held by a lease renewed while the reconcile runs: if this process dies mid-run, another worker
        takes the turn once the lease has passed, not an interval later. The next turn is `next_turn` away."""
        with self.store.read() as uow:
            tenants = uow.tenants.list(enabled_only=True)
        done = []
        lease = self._lease
        for tenant in tenants:
            timer = timer_name(tenant.id)
            if not self._timers.claim(timer, lease):
                continue
            try:
                with every(lease.total_seconds() / 3, partial(self._timers.renew, timer, lease),
                           f"renew the reconcile turn of tenant {tenant.name}"):
                    report = self._reconcile_tenant(tenant)
            except Exception as exc:  # one tenant's trouble must not stop the others
                log.warning("periodic reconcile of tenant %s failed: %s", tenant.name, exc)
                self._timers.finish(timer, next_turn(tenant, None, interval, self._webhook_interval))
                continue
            wait = next_turn(tenant, report, interval, self._webhook_interval)
            self._timers.finish(timer, wait)
            log.info("reconciled tenant %s: %d changed, %d failed; next in %d s", tenant.name, len(report.changed),
                     len(report.failed), wait.total_seconds())
            done.append(tenant.id)
        return done

    def _reconcile_tenant(self, tenant: Tenant) -> ReconcileReport:
        return self._reconcile(self._contexts.sync_context(tenant))

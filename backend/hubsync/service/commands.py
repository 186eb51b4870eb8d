"""What the CLI's commands do, once their arguments are parsed: open the store, pick tenants, run, report."""

from __future__ import annotations

from collections.abc import Callable

from hubsync.adapters.store import Store, Tenant, upgrade
from hubsync.service.reconcile import ReconcileReport, reconcile
from hubsync.service.tenants import TenantNotReady, sync_context


def reconcile_tenants(tenant: str | None, dry_run: bool, out: Callable[[str], None]) -> int:
    """Reconcile one tenant (by id or name) or every enabled one. Exit status 0 when nothing failed."""
    store = Store.from_environment()
    upgrade(store.engine)
    with store.read() as uow:
        tenants = uow.tenants.list(enabled_only=tenant is None)
    chosen = [t for t in tenants if tenant in (None, t.id, t.name)]
    if not chosen:
        out(f"no tenant {tenant!r}" if tenant else "no enabled tenants: configure one in Jira first")
        return 2
    status = 0
    for each in chosen:
        try:
            report = reconcile(sync_context(each, store), dry_run=dry_run, progress=None)
        except TenantNotReady as exc:
            out(str(exc))
            status = 2
            continue
        out(report_table(each, report, dry_run))
        status = max(status, 1 if report.failed else 0)
    return status


def report_table(tenant: Tenant, report: ReconcileReport, dry_run: bool) -> str:
    verb = "would change" if dry_run else "changed"
    lines = [
        f"tenant {tenant.name}: {report.findings_seen} new findings matched, {report.links_seen} linked pairs "
        f"checked; {verb} {len(report.changed)}, {len(report.failed)} failed"
    ]
    if report.outcomes:
        lines.append(f"  {'finding':<24} {'ticket':<10} {'rule':>4}  what")
    for outcome in report.outcomes:
        tail = outcome.finding_id.rsplit("/", 1)[-1][:22]
        what = f"FAILED: {outcome.error}" if outcome.error else f"{', '.join(outcome.actions)}: {outcome.reason}"
        lines.append(f"  {tail:<24} {outcome.ticket_key or '-':<10} {outcome.rule or '-':>4}  {what}")
    return "\n".join(lines)

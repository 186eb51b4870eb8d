"""`hubsync jira workflow-xml`: the risk workflow as XML for a Jira Data Center site to import.

Data Center's REST API creates neither statuses nor workflows, and the XML names each status by the site's id. So
the command reads the tenant's site statuses: when every status of the risk workflow exists (by name) it writes
the XML with their ids; otherwise it writes nothing and lists the statuses the admin must create first (name and
category), to run it again after.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from hubsync.domain import risk_workflow as risk
from hubsync.domain.ports import JiraUnavailable, StatusChoice, StorePort
from hubsync.domain.tenant import JiraFlavour, Tenant, TenantNotReady
from hubsync.domain.ticket import StatusCategory

CATEGORY_NAMES = {StatusCategory.TO_DO: "To Do", StatusCategory.IN_PROGRESS: "In Progress",
                  StatusCategory.DONE: "Done"}  # as Jira's status editor names them


def status_ids(site: Sequence[StatusChoice]) -> tuple[dict[str, str], list[risk.WorkflowStatus]]:
    """The site's id for each status of the workflow (by name, as Jira compares them: ignoring case), and the
    statuses the site lacks."""
    by_name = {status.name.casefold(): status for status in reversed(site)}  # the first of a name wins
    ids = {each.key: by_name[each.name.casefold()].id for each in risk.STATUSES if each.name.casefold() in by_name}
    return ids, [each for each in risk.STATUSES if each.key not in ids]


def workflow_xml_command(
    store: StorePort,
    site_statuses: Callable[[Tenant], Sequence[StatusChoice]],
    render: Callable[[Mapping[str, str]], str],
    tenant: str | None,
    out: Callable[[str], None],
    say: Callable[[str], None],
) -> int:
    """Write the XML through `out` for one Data Center tenant (named, or the only enabled one); everything else is
    said through `say`. 0: written; 1: statuses missing or Jira unavailable; 2: no such tenant."""
    chosen = _data_center_tenant(store, tenant, say)
    if chosen is None:
        return 2
    try:
        site = site_statuses(chosen)
    except (TenantNotReady, JiraUnavailable) as exc:
        say(f"cannot read the statuses of {chosen.jira_base_url}: {exc}")
        return 1
    ids, missing = status_ids(site)
    if missing:
        say(f"{chosen.jira_base_url} lacks {len(missing)} of the risk workflow's statuses. Create them first "
            "(Administration > Issues > Statuses > Add status), then run this again:")
        for each in missing:
            say(f"  {each.name}  (category: {CATEGORY_NAMES[each.category]})")
        return 1
    categories = {status.id: status.category for status in site}
    for each in risk.STATUSES:
        if categories[ids[each.key]] is not each.category:
            say(f"note: the site's status {each.name!r} is in category {CATEGORY_NAMES[categories[ids[each.key]]]}"
                f", the risk workflow expects {CATEGORY_NAMES[each.category]}")
    out(render(ids))
    say(f"Import it into {chosen.jira_base_url} as {risk.NAME!r}: Administration > Issues > Workflows > Import from "
        "XML; then add it to a workflow scheme and switch the project to that scheme (README: Jira Data Center, the "
        "risk workflow).")
    return 0


def _data_center_tenant(store: StorePort, name: str | None, say: Callable[[str], None]) -> Tenant | None:
    with store.read() as uow:
        tenants = uow.tenants.list(enabled_only=name is None)
    if name is not None:
        named = [t for t in tenants if name in (t.id, t.name)]
        if not named:
            say(f"no tenant {name!r}")
            return None
        if named[0].jira_flavour is not JiraFlavour.DATA_CENTER:
            say(f"tenant {named[0].name} is on Jira Cloud, which cannot import workflow XML: run "
                "`hubsync jira setup-workflow` there instead")
            return None
        return named[0]
    data_center = [t for t in tenants if t.jira_flavour is JiraFlavour.DATA_CENTER]
    if len(data_center) != 1:
        say("no enabled Data Center tenant: add one with `hubsync tenant add --flavour datacenter`" if not data_center
            else "several Data Center tenants: name one with --tenant (" + ", ".join(t.name for t in data_center) + ")")
        return None
    return data_center[0]

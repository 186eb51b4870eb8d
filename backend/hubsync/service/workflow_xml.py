"""`hubsync jira workflow-xml`: the risk workflow as XML for a Jira Data Center site to import.

Data Center's REST API creates neither statuses nor workflows, and the XML names each status, and the resolution
each done status gets, by the site's id. So the command reads the tenant's site statuses and resolutions: when every
status of the risk workflow exists (by name) and each done status has a resolution to take, it writes the XML with
their ids; otherwise it writes nothing and lists what the admin must create first (statuses with their category,
resolutions with the statuses that need them), to run it again after.

Which resolution a done status takes follows its disposition: a fixed finding "Fixed", else "Done"; any other
(accepted risk, false positive, risk not approved) "Won't Fix", else "Won't Do", else "Done". "Fixed" and "Won't
Fix" are among a Data Center site's stock resolutions; "Done" and "Won't Do" come with the project templates of Jira
Software and Jira Core.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from hubsync.domain import risk_workflow as risk
from hubsync.domain.ports import JiraUnavailable, ResolutionChoice, StatusChoice, StorePort
from hubsync.domain.tenant import JiraFlavour, Tenant, TenantNotReady
from hubsync.domain.ticket import Disposition, StatusCategory
from hubsync.service.commands import NoSingleTenant, one_tenant

CATEGORY_NAMES = {StatusCategory.TO_DO: "To Do", StatusCategory.IN_PROGRESS: "In Progress",
                  StatusCategory.DONE: "Done"}  # as Jira's status editor names them
FIXED_RESOLUTIONS = ("Fixed", "Done")  # by preference; the first is the one to create when none exists
UNFIXED_RESOLUTIONS = ("Won't Fix", "Won't Do", "Done")


def status_ids(site: Sequence[StatusChoice]) -> tuple[dict[str, str], list[risk.WorkflowStatus]]:
    """The site's id for each status of the workflow (by name, as Jira compares them: ignoring case), and the
    statuses the site lacks."""
    by_name = {status.name.casefold(): status for status in reversed(site)}  # the first of a name wins
    ids = {each.key: by_name[each.name.casefold()].id for each in risk.STATUSES if each.name.casefold() in by_name}
    return ids, [each for each in risk.STATUSES if each.key not in ids]


def resolution_ids(site: Sequence[ResolutionChoice]) -> tuple[dict[str, str], dict[str, list[risk.WorkflowStatus]]]:
    """The site's resolution for each done status of the workflow (by name, ignoring case; the first of a name
    wins), and, where the site has none of a status's names, the resolution to create with the statuses that
    need it."""
    by_name = {resolution.name.casefold(): resolution for resolution in reversed(site)}
    ids: dict[str, str] = {}
    lacking: dict[str, list[risk.WorkflowStatus]] = {}
    for each in risk.STATUSES:
        if each.category is not StatusCategory.DONE:
            continue
        names = FIXED_RESOLUTIONS if each.disposition is Disposition.FIXED else UNFIXED_RESOLUTIONS
        found = next((by_name[name.casefold()] for name in names if name.casefold() in by_name), None)
        if found is None:
            lacking.setdefault(names[0], []).append(each)
        else:
            ids[each.key] = found.id
    return ids, lacking


def workflow_xml_command(
    store: StorePort,
    site_statuses: Callable[[Tenant], Sequence[StatusChoice]],
    site_resolutions: Callable[[Tenant], Sequence[ResolutionChoice]],
    render: Callable[[Mapping[str, str], Mapping[str, str]], str],
    tenant: str | None,
    out: Callable[[str], None],
    say: Callable[[str], None],
) -> int:
    """Write the XML through `out` for one Data Center tenant (named, or the only enabled one); everything else is
    said through `say`. 0: written; 1: statuses or resolutions missing, or Jira unavailable; 2: no such tenant."""
    try:
        chosen = one_tenant(store, tenant, flavour=None if tenant else JiraFlavour.DATA_CENTER)
    except NoSingleTenant as exc:
        say(str(exc))
        return 2
    if chosen.jira_flavour is not JiraFlavour.DATA_CENTER:
        say(f"tenant {chosen.name} is on Jira Cloud, which cannot import workflow XML: run "
            "`hubsync jira setup-workflow` there instead")
        return 2
    try:
        site = site_statuses(chosen)
        resolutions = site_resolutions(chosen)
    except (TenantNotReady, JiraUnavailable) as exc:
        say(f"cannot read the statuses and resolutions of {chosen.jira_base_url}: {exc}")
        return 1
    ids, missing = status_ids(site)
    resolved, lacking = resolution_ids(resolutions)
    if missing:
        say(f"{chosen.jira_base_url} lacks {len(missing)} of the risk workflow's statuses. Create them first "
            "(Administration > Issues > Statuses > Add status), then run this again:")
        for each in missing:
            say(f"  {each.name}  (category: {CATEGORY_NAMES[each.category]})")
    if lacking:
        say(f"{chosen.jira_base_url} has no resolution for {sum(map(len, lacking.values()))} of the risk workflow's "
            "done statuses. Create them first (Administration > Issues > Resolutions > Add resolution), then run this "
            "again:")
        for name, statuses in lacking.items():
            say(f"  {name}  (for: {', '.join(each.name for each in statuses)})")
    if missing or lacking:
        return 1
    categories = {status.id: status.category for status in site}
    for each in risk.STATUSES:
        if categories[ids[each.key]] is not each.category:
            say(f"note: the site's status {each.name!r} is in category {CATEGORY_NAMES[categories[ids[each.key]]]}"
                f", the risk workflow expects {CATEGORY_NAMES[each.category]}")
    names = {resolution.id: resolution.name for resolution in resolutions}
    say("Resolutions set on entering a done status (cleared on leaving it): " + "; ".join(
        f"{each.name} -> {names[resolved[each.key]]}" for each in risk.STATUSES if each.key in resolved))
    out(render(ids, resolved))
    say(f"Import it into {chosen.jira_base_url} as {risk.NAME!r}: Administration > Issues > Workflows > Import from "
        "XML; then add it to a workflow scheme and switch the project to that scheme (README: Jira Data Center, the "
        "risk workflow).")
    return 0

"""`hubsync jira workflow-xml`'s choices: which tenant, which site statuses and resolutions fill the XML, what it
says instead."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from hubsync.domain import risk_workflow as risk
from hubsync.domain.ports import JiraUnavailable, ResolutionChoice, StatusChoice
from hubsync.domain.tenant import AuthMode, JiraFlavour, Tenant
from hubsync.domain.ticket import StatusCategory
from hubsync.service.workflow_xml import resolution_ids, status_ids, workflow_xml_command

SITE = [StatusChoice(str(500 + index), each.name.upper(), each.category) for index, each in enumerate(risk.STATUSES)]
# A Data Center site's stock resolutions, then those its project templates add.
STOCK = [ResolutionChoice("1", "Fixed"), ResolutionChoice("2", "Won't Fix"), ResolutionChoice("3", "Duplicate"),
         ResolutionChoice("4", "Incomplete"), ResolutionChoice("5", "Cannot Reproduce")]
TEMPLATES = [ResolutionChoice("10000", "Done"), ResolutionChoice("10001", "Won't Do")]
FIXED_KEYS = ["resolved"]
UNFIXED_KEYS = ["approved", "not_approved", "accepted_fp"]


def tenant(name: str, flavour: JiraFlavour = JiraFlavour.DATA_CENTER) -> Tenant:
    return Tenant(f"id-{name}", name, f"https://{name}.example.com", flavour, AuthMode.PAT, "ext", jira_secret="pat")


@dataclass
class Tenants:
    stored: list[Tenant]

    def list(self, enabled_only: bool = False) -> list[Tenant]:
        return [t for t in self.stored if t.enabled or not enabled_only]


class Store:
    def __init__(self, *tenants: Tenant) -> None:
        self.tenants = Tenants(list(tenants))

    @contextmanager
    def read(self) -> Iterator[Any]:
        yield self


def run(store: Store, site: Sequence[StatusChoice] | Exception = SITE, name: str | None = None,
        resolutions: Sequence[ResolutionChoice] = STOCK + TEMPLATES) -> tuple[int, list[str], list[str]]:
    out: list[str] = []
    said: list[str] = []

    def statuses(_: Tenant) -> Sequence[StatusChoice]:
        if isinstance(site, Exception):
            raise site
        return site

    def render(ids: Mapping[str, str], resolved: Mapping[str, str]) -> str:
        return repr((sorted(ids.items()), sorted(resolved.items())))

    status = workflow_xml_command(store, statuses, lambda _: resolutions, render, tenant=name, out=out.append,
                                  say=said.append)
    return status, out, said


def test_statuses_are_matched_by_name_whatever_the_case_and_the_first_of_a_name_wins() -> None:
    site = [*SITE, StatusChoice("999", "open", StatusCategory.TO_DO)]
    ids, missing = status_ids(site)
    assert ids == {each.key: str(500 + index) for index, each in enumerate(risk.STATUSES)}
    assert missing == []
    ids, missing = status_ids([s for s in SITE if s.name != "RISK APPROVED"])
    assert [each.key for each in missing] == ["approved"] and "approved" not in ids


def test_the_only_data_center_tenant_is_used_and_its_ids_rendered() -> None:
    status, out, said = run(Store(tenant("onprem"), tenant("cloudy", JiraFlavour.CLOUD)))
    assert status == 0
    resolved = {**dict.fromkeys(FIXED_KEYS, "1"), **dict.fromkeys(UNFIXED_KEYS, "2")}
    assert out == [repr((sorted(status_ids(SITE)[0].items()), sorted(resolved.items())))]
    assert said[0] == ("Resolutions set on entering a done status (cleared on leaving it): Resolved -> Fixed; "
                       "Risk approved -> Won't Fix; Risk not approved -> Won't Fix; "
                       "Accepted false positive -> Won't Fix")
    assert "Import from XML" in said[-1] and risk.NAME in said[-1]


@pytest.mark.parametrize(("site", "fixed", "unfixed"), [
    (STOCK + TEMPLATES, "1", "2"),  # a stock site with a Software project: Fixed, Won't Fix
    (TEMPLATES, "10000", "10001"),  # the stock ones deleted: Done, Won't Do
    ([ResolutionChoice("7", "DONE")], "7", "7"),  # only Done: both take it (names compared ignoring case)
    ([ResolutionChoice("8", "won't fix"), ResolutionChoice("9", "Won't Fix"), ResolutionChoice("10000", "Done")],
     "10000", "8"),  # the first of a name wins
])
def test_each_done_status_takes_a_resolution_by_its_disposition(
    site: list[ResolutionChoice], fixed: str, unfixed: str
) -> None:
    ids, lacking = resolution_ids(site)
    assert ids == {**dict.fromkeys(FIXED_KEYS, fixed), **dict.fromkeys(UNFIXED_KEYS, unfixed)}
    assert lacking == {}


def test_resolutions_the_site_lacks_are_named_with_the_statuses_that_need_them_and_nothing_is_written() -> None:
    status, out, said = run(Store(tenant("onprem")), resolutions=[ResolutionChoice("3", "Duplicate")])
    assert status == 1 and out == []
    assert "has no resolution for 4 of the risk workflow's done statuses" in said[0] and "Add resolution" in said[0]
    assert said[1:] == ["  Fixed  (for: Resolved)",
                        "  Won't Fix  (for: Risk approved, Risk not approved, Accepted false positive)"]
    status, out, said = run(Store(tenant("onprem")), resolutions=[ResolutionChoice("2", "Won't Fix")])
    assert status == 1 and out == [] and said[1:] == ["  Fixed  (for: Resolved)"]


def test_missing_statuses_and_resolutions_are_said_in_one_run() -> None:
    status, out, said = run(Store(tenant("onprem")), site=SITE[1:], resolutions=[ResolutionChoice("1", "Fixed")])
    assert status == 1 and out == []
    assert said == [
        said[0], "  Open  (category: To Do)",
        said[2], "  Won't Fix  (for: Risk approved, Risk not approved, Accepted false positive)",
    ]
    assert "lacks 1 of the risk workflow's statuses" in said[0] and "has no resolution for 3" in said[2]


def test_missing_statuses_are_listed_with_their_category_and_nothing_is_written() -> None:
    status, out, said = run(Store(tenant("onprem")), site=SITE[2:])
    assert status == 1 and out == []
    assert "lacks 2" in said[0]
    assert said[1:] == ["  Open  (category: To Do)", "  Allocated for fix  (category: In Progress)"]


def test_a_status_in_another_category_is_noted() -> None:
    site = [StatusChoice(s.id, s.name, StatusCategory.DONE) if s.name == "TEST FIX" else s for s in SITE]
    status, out, said = run(Store(tenant("onprem")), site=site)
    assert status == 0 and out
    assert any("'Test fix'" in line and "category Done" in line and "expects In Progress" in line for line in said)


def test_a_cloud_tenant_is_sent_to_setup_workflow() -> None:
    status, out, said = run(Store(tenant("cloudy", JiraFlavour.CLOUD)), name="cloudy")
    assert status == 2 and out == []
    assert "setup-workflow" in said[0]


def test_no_or_several_data_center_tenants_ask_for_one() -> None:
    assert run(Store(), name="ghost")[2] == ["no tenant 'ghost' (`hubsync tenant list` shows them)"]
    assert "tenant add --flavour datacenter" in run(Store())[2][0]
    status, _, said = run(Store(tenant("a"), tenant("b")))
    assert status == 2 and said == ["several Data Center tenants, pass --tenant with one of: a, b"]
    assert run(Store(tenant("a"), tenant("b")), name="b")[0] == 0


def test_jira_unavailable_is_said_in_one_line() -> None:
    status, out, said = run(Store(tenant("onprem")), site=JiraUnavailable("Jira answered 503"))
    assert status == 1 and out == []
    assert said == ["cannot read the statuses and resolutions of https://onprem.example.com: Jira answered 503"]

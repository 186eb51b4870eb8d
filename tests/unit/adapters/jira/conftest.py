"""A `JiraClient` for a running Jira simulator, signed in as the bot, and drafts to create tickets from."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hubsync.adapters import rate_limits
from hubsync.adapters.jira import ApiToken, JiraClient, PersonalAccessToken
from hubsync.domain.document import Document
from hubsync.domain.finding import finding_key, marker_label
from hubsync.domain.ports import TicketDraft
from hubsync.domain.ticket import MARKER_PROPERTY, FindingMarker
from tests.fixtures.jira import JiraSandbox

PRODUCT_ARN = "arn:aws:securityhub:eu-west-1::product/aws/securityhub"


def client_for(sandbox: JiraSandbox, sleeps: list[float] | None = None, **options: object) -> JiraClient:
    """The client hubsync would build for this site: API token on Cloud, personal access token on Data Center."""
    cloud = sandbox.flavour == "cloud"
    auth = ApiToken(sandbox.login, sandbox.secret) if cloud else PersonalAccessToken(sandbox.secret)
    recorded = sleeps if sleeps is not None else []
    return JiraClient(sandbox.url, sandbox.flavour, auth, sleep=recorded.append, **options)  # type: ignore[arg-type]


def marker_for(number: int) -> FindingMarker:
    finding_id = f"arn:aws:securityhub:eu-west-1:111122223333:finding/{number:08d}"
    return FindingMarker(finding_id, PRODUCT_ARN, finding_key(PRODUCT_ARN, finding_id))


def draft(number: int, *, project: str = "SEC", priority: str | None = "High", assignee: str | None = None,
          marked: bool = True) -> TicketDraft:
    """A ticket for finding `number`: marker property and label when `marked`."""
    marker = marker_for(number)
    return TicketDraft(
        project_key=project,
        issue_type="Task",
        summary=f"AWS Security Issue :: 111122223333 :: eu-west-1 :: finding {number}",
        description=Document.paragraph(f"Finding {number} needs attention."),
        priority=priority,
        labels=("security-hub", marker_label(marker.key)) if marked else ("security-hub",),
        assignee=assignee,
        properties={MARKER_PROPERTY: marker.to_property()} if marked else {},
    )


class FakeTime:
    """The clock the sites' rate budgets run on in these tests: it moves only when the client sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now


class Sleeps(list[float]):
    """The waits the client asked for; it never really sleeps, each wait passes on the fake clock instead."""

    def __init__(self, time: FakeTime) -> None:
        super().__init__()
        self._time = time

    def append(self, seconds: float) -> None:
        super().append(seconds)
        self._time.now += seconds


@pytest.fixture(autouse=True)
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    """Fresh Jira site budgets (no fixed rate; 429s still pause them) on a fake clock, for every test."""
    time = FakeTime()
    monkeypatch.setattr(rate_limits, "JIRA_BUDGETS",
                        rate_limits.Budgets(lambda _site: rate_limits.UNLIMITED, clock=time.monotonic))
    return time


@pytest.fixture
def sleeps(fake_time: FakeTime) -> Sleeps:
    return Sleeps(fake_time)


@pytest.fixture
def client_of(sleeps: list[float]) -> Callable[..., JiraClient]:
    return lambda sandbox, **options: client_for(sandbox, sleeps, **options)

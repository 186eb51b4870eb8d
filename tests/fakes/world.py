"""One tenant's world in memory: Security Hub, Jira, the owner directory and the store on one clock, and the
`SyncContext` a sync of it takes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from hubsync.domain.policy import Policy
from hubsync.service.sync import SyncContext
from tests.fakes.clock import FakeClock
from tests.fakes.errors import fake_is_transient
from tests.fakes.jira import FakeJira
from tests.fakes.owners import FakeOwners
from tests.fakes.securityhub import FakeSecurityHub
from tests.fakes.store import FakeStore

TENANT = "tenant-1"


@dataclass
class FakeWorld:
    policy: Policy
    clock: FakeClock = field(default_factory=FakeClock)
    tenant_id: str = TENANT
    securityhub: FakeSecurityHub = field(default_factory=FakeSecurityHub)
    owners: FakeOwners = field(default_factory=FakeOwners)
    jira: FakeJira = field(init=False)
    store: FakeStore = field(init=False)

    def __post_init__(self) -> None:
        self.jira = FakeJira(self.clock)
        self.store = FakeStore(self.clock)

    def context(self) -> SyncContext:
        return SyncContext(
            tenant_id=self.tenant_id,
            policy=self.policy,
            securityhub=self.securityhub,
            jira=self.jira,
            owners=self.owners,
            store=self.store,
            clock=self.clock,
            is_transient=fake_is_transient,
        )

    def with_owner(self, account_id: str, tag: str, jira_user: str) -> FakeWorld:
        """The account's owner tag names `tag` (an email, say), which Jira knows as the assignable `jira_user`."""
        self.owners.owners[account_id] = tag
        self.jira.users[tag.casefold()] = jira_user
        return self

    def advance(self, by: timedelta | float) -> None:
        self.clock.advance(by)

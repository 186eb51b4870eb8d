"""In-memory fakes of the domain's ports (`hubsync.domain.ports`), for fast unit tests of the service layer.

Plain Python, dict-backed, faithful to each port's documented contract, with knobs for the faults the real
sides show (Jira refusing or losing a create, search lag, Security Hub refusing an update, an owner lookup that
fails, an interrupted claim, lost sync locks). `FakeWorld` puts one of each together with one clock and builds a
`SyncContext` from them. Each module ends with a function that mypy checks the fake against its Protocol.

`tests.fakes.offline` is the fast tier's pytest plugin (`make test-fast`): no network, subprocess or database.
"""

from tests.fakes.clock import FakeClock
from tests.fakes.errors import FakeOutage, fake_is_transient
from tests.fakes.jira import CreateFault, FakeIssue, FakeJira
from tests.fakes.owners import FakeOwners
from tests.fakes.securityhub import FakeSecurityHub
from tests.fakes.store import FakeStore
from tests.fakes.world import FakeWorld

__all__ = [
    "CreateFault",
    "FakeClock",
    "FakeIssue",
    "FakeJira",
    "FakeOutage",
    "FakeOwners",
    "FakeSecurityHub",
    "FakeStore",
    "FakeWorld",
    "fake_is_transient",
]

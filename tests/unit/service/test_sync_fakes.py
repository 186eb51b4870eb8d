"""The fakes the sync tests run on are the ports they stand in for: mypy checks the assignments below (run it over
tests/fakes and these tests), and at run time every member of each port is on its fake, with the same
parameters, so a port that changes shows here first rather than as a puzzling failure of a sync test."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from hubsync.domain.ports import (
    AuditRepository,
    JiraPort,
    LinkRepository,
    OwnerDirectoryPort,
    SecurityHubPort,
    StorePort,
    TenantRepository,
    UnitOfWorkPort,
)
from hubsync.service.sync import SyncContext
from tests.fakes import FakeClock, FakeJira, FakeOwners, FakeSecurityHub, FakeStore, FakeWorld
from tests.fakes.store import FakeUnitOfWork
from tests.unit.domain.domain_values import POLICY

PORTS: list[Any] = [SecurityHubPort, JiraPort, OwnerDirectoryPort, StorePort, UnitOfWorkPort, LinkRepository,
                    AuditRepository, TenantRepository]


def fake_of(port: Any) -> object:
    clock = FakeClock()
    store = FakeStore(clock)
    uow = FakeUnitOfWork(store, writable=True)
    fakes = {SecurityHubPort: FakeSecurityHub(), JiraPort: FakeJira(clock), OwnerDirectoryPort: FakeOwners(),
             StorePort: store, UnitOfWorkPort: uow, LinkRepository: uow.links, AuditRepository: uow.audit,
             TenantRepository: uow.tenants}
    return fakes[port]


def test_the_fakes_type_check_as_the_ports() -> None:
    clock = FakeClock()
    securityhub: SecurityHubPort = FakeSecurityHub()
    jira: JiraPort = FakeJira(clock)
    owners: OwnerDirectoryPort = FakeOwners()
    store: StorePort = FakeStore(clock)
    with store.transaction() as uow:
        links: LinkRepository = uow.links
        audit: AuditRepository = uow.audit
        tenants: TenantRepository = uow.tenants
    context: SyncContext = FakeWorld(POLICY).context()
    assert all((securityhub, jira, owners, store, links, audit, tenants, context))


def members(port: Any) -> dict[str, object]:
    """The port's own methods, properties and attributes (what a class must have to be one)."""
    found: dict[str, object] = dict.fromkeys(getattr(port, "__annotations__", {}))
    found |= {name: value for name, value in vars(port).items()
              if not name.startswith("_") and (callable(value) or isinstance(value, property))}
    return found


@pytest.mark.parametrize("port", PORTS, ids=[port.__name__ for port in PORTS])
def test_every_member_of_a_port_is_on_its_fake_with_the_same_parameters(port: Any) -> None:
    fake = fake_of(port)
    for name, member in members(port).items():
        assert hasattr(fake, name), f"{type(fake).__name__} lacks {port.__name__}.{name}"
        if callable(member):
            wanted = [(p.name, p.kind) for p in list(inspect.signature(member).parameters.values())[1:]]  # no self
            have = [(p.name, p.kind) for p in inspect.signature(getattr(fake, name)).parameters.values()]
            assert have == wanted, f"{type(fake).__name__}.{name}: {have} is not {port.__name__}.{name}: {wanted}"

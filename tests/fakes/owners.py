"""The owner directory in memory: each AWS account's owner tag (Organizations' `SecurityContactID`, say)."""

from __future__ import annotations

from collections.abc import Mapping

from hubsync.domain.ports import OwnerDirectoryPort


class FakeOwners:
    """`owners`: account id → the owner tag's value (absent or None: the account has no such tag). `failing`:
    account id → the error a lookup of that account raises (Organizations unreachable, access denied)."""

    def __init__(self, owners: Mapping[str, str | None] | None = None) -> None:
        self.owners: dict[str, str | None] = dict(owners or {})
        self.failing: dict[str, BaseException] = {}
        self.lookups: list[str] = []

    def owner_of(self, account_id: str) -> str | None:
        self.lookups.append(account_id)
        if account_id in self.failing:
            raise self.failing[account_id]
        return self.owners.get(account_id)


def _conforms(fake: FakeOwners) -> OwnerDirectoryPort:
    return fake  # mypy checks the fake against the port

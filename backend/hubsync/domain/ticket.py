"""A Jira issue as the sync rules see it, and what its status means for the finding (its disposition)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

MARKER_PROPERTY = "hubsync.finding"  # the issue property naming the ticket's finding


class Disposition(StrEnum):
    """What a ticket's status decides about its finding (the mapping lives in the policy)."""

    OPEN = "OPEN"
    FIXED = "FIXED"
    ACCEPTED = "ACCEPTED"  # risk accepted
    FALSE_POSITIVE = "FALSE_POSITIVE"
    EXPIRED = "EXPIRED"  # risk approval expired
    MISSING = "MISSING"  # the ticket was deleted


class StatusCategory(StrEnum):
    """Jira's status category keys."""

    TO_DO = "new"
    IN_PROGRESS = "indeterminate"
    DONE = "done"


@dataclass(frozen=True)
class FindingMarker:
    """The issue property `hubsync.finding` that ties a ticket to its finding from the Jira side."""

    finding_id: str
    product_arn: str
    key: str

    def to_property(self) -> dict[str, str]:
        """The property's value, as hubsync writes it on the ticket (and `from_property` reads it back)."""
        return {"id": self.finding_id, "productArn": self.product_arn, "key": self.key}

    @classmethod
    def from_property(cls, value: Any) -> FindingMarker | None:
        """The property's value as a marker; None when absent or not hubsync's shape (anyone may edit it)."""
        if not isinstance(value, Mapping):
            return None
        parts = [value.get("id"), value.get("productArn"), value.get("key")]
        texts = [part for part in parts if isinstance(part, str) and part]
        if len(texts) != len(parts):
            return None
        finding_id, product_arn, key = texts
        return cls(finding_id=finding_id, product_arn=product_arn, key=key)


@dataclass(frozen=True)
class Ticket:
    key: str
    id: str
    project_key: str
    status: str
    status_category: StatusCategory
    summary: str
    priority: str | None = None
    labels: tuple[str, ...] = ()
    assignee: str | None = None  # Cloud accountId or Data Center user name
    marker: FindingMarker | None = None
    status_changed_by: str | None = None  # display name of whoever moved it into its current status
    status_changed_at: datetime | None = None
    status_id: str = ""  # where a workflow walk starts (with the project and issue type)
    issue_type_id: str = ""

"""The audit timeline's entry: one thing hubsync did (or decided not to do) to a pair, and why."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# The "finding key" of entries about the tenant itself (an install, a re-link), not about one pair.
TENANT_EVENTS = "(tenant)"


@dataclass(frozen=True)
class AuditEntry:
    """What happened, why (the rule and a sentence), and the pair before and after. `before`/`after` are JSON
    objects; datetimes, enums and dataclasses (a `Link`, say) in them are stored as ISO strings, values and
    objects."""

    tenant_id: str
    finding_key: str
    at: datetime
    action: str  # e.g. create_ticket, update_finding, move_ticket, comment, mark_broken
    reason: str
    outcome: str  # e.g. applied, failed, skipped, planned (dry run)
    rule: int | None = None  # row of the rules table in DESIGN.md
    ticket_key: str | None = None
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    id: int | None = None  # set by the store

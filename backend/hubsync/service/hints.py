"""The one place that turns a batch of hints (`domain.hint.SyncHint`) into syncs: findings by identifier, tickets
by key, each synced from the current state of both sides."""

from __future__ import annotations

from collections.abc import Sequence

from hubsync.domain.hint import SyncHint
from hubsync.service.sync import Outcome, SyncContext, sync_hints, sync_tickets


def process(ctx: SyncContext, hints: Sequence[SyncHint]) -> list[Outcome]:
    """Sync what a batch of one tenant's hints names: findings by identifier (escalating the custom action's by
    hand), tickets by key."""
    foreign = {hint.tenant_id for hint in hints} - {ctx.tenant_id}
    if foreign:
        raise ValueError(f"hints of tenants {sorted(foreign)} given to tenant {ctx.tenant_id}'s sync")
    identifiers = [hint.finding for hint in hints if hint.finding is not None]
    by_hand = frozenset(hint.finding.key for hint in hints if hint.finding is not None and hint.by_hand)
    ticket_keys = list(dict.fromkeys(hint.ticket_key for hint in hints if hint.ticket_key is not None))
    outcomes = sync_hints(ctx, identifiers, by_hand=by_hand) if identifiers else []
    if ticket_keys:
        outcomes += sync_tickets(ctx, ticket_keys)
    return outcomes

"""When a hint that did not sync comes back, and when it is given up on: the worker's decisions, pure (no I/O, no
clock: the time is passed in).

A hint's sync comes to one of three `Fate`s:

    DONE      synced, or nothing to do                  ack it
    HELD_UP   a passing failure: a side said "not now", retry soon, the attempt given back (uncounted):
              another sync holds the finding              `transient_backoff`, at most `transient_max_seconds`,
                                                          and not before the moment the sync named
    FAILED    its own sync failed                         retry at the exponential `backoff`, the attempt
                                                          counted; dead-letter after the queue's `max_attempts`

A whole batch that cannot be synced (AWS or Jira unreachable) is not the hints' fault: retried, uncounted, at the
`outage_backoff`, which grows with how long the hint has waited, up to `retry_max_seconds`. A queue that counts
every receive whatever the worker says (SQS) parks an uncounted retry whose count has run out anyway (`gives_up`);
`outage_window` is how long an outage such a queue's hints survive.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from hubsync.domain.hint import SyncHint
from hubsync.service.sync import Outcome


class Fate(Enum):
    DONE = "done"  # ack
    HELD_UP = "held up"  # retry soon, uncounted
    FAILED = "failed"  # retry at the backoff, counted; dead-letter once the attempts run out


def fate(outcome: Outcome | None) -> Fate:
    """What becomes of a hint whose sync came to `outcome` (None: the sync had nothing to say about it)."""
    if outcome is None or outcome.error is None:
        return Fate.DONE
    if outcome.transient:
        return Fate.HELD_UP
    return Fate.FAILED


@dataclass(frozen=True)
class Failures:
    """One sync's failed outcomes, found by the hint they answer: a finding's hint by its finding key, a ticket's
    hint (a Jira webhook) by its ticket key."""

    by_finding: Mapping[str, Outcome]
    by_ticket: Mapping[str, Outcome]

    @classmethod
    def of(cls, outcomes: Iterable[Outcome]) -> Failures:
        failed = [o for o in outcomes if o.error]
        return cls(
            by_finding={o.finding_key: o for o in failed},
            by_ticket={o.ticket_key: o for o in failed if o.ticket_key},
        )

    def for_hint(self, hint: SyncHint) -> Outcome | None:
        if hint.finding:
            return self.by_finding.get(hint.finding.key)
        return self.by_ticket.get(hint.ticket_key) if hint.ticket_key is not None else None


def gives_up(attempts: int, max_attempts: int, *, counted: bool, counts_every_receive: bool) -> bool:
    """Whether a hint received `attempts` times is dead-lettered rather than retried. A counted retry (its own sync
    failed) gives up once the queue's `max_attempts` are used; an uncounted one (held up, or an outage) only where
    the queue counts every receive anyway (SQS would move it to its dead-letter queue on the next receive)."""
    if not counted and not counts_every_receive:
        return False
    return attempts >= max_attempts


def clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


@dataclass(frozen=True)
class RetryPolicy:
    """How long a hint waits before it comes back (seconds)."""

    retry_base_seconds: float = 5.0
    retry_max_seconds: float = 300.0
    transient_max_seconds: float = 30.0  # the longest wait after one pair's passing failure

    def backoff(self, attempts: int) -> float:
        """After the hint's own sync failed on its `attempts`-th receive: doubling from the base, up to the cap."""
        doublings: int = 2 ** max(0, attempts - 1)  # a whole number: the exponent is never negative
        return min(self.retry_max_seconds, self.retry_base_seconds * doublings)

    def outage_backoff(self, enqueued_at: datetime | None, now: datetime) -> float:
        """As long as the hint has waited so far (since `enqueued_at`; unknown: none), between the base and the
        cap: doubling, without counting attempts (which an outage does not use up)."""
        waited = 0.0
        if enqueued_at is not None:
            waited = (now - enqueued_at).total_seconds()
        return float(round(clamp(waited, self.retry_base_seconds, self.retry_max_seconds)))

    def transient_backoff(self, enqueued_at: datetime | None, retry_at: datetime | None, now: datetime) -> float:
        """A pair that failed for a passing reason: not before the moment the sync named (`retry_at`, a claim's
        lease), and otherwise soon; the outage backoff, but at most `transient_max_seconds`, since the rest of the
        tenant's side answered."""
        delay = min(self.outage_backoff(enqueued_at, now), self.transient_max_seconds)
        if retry_at is not None:
            delay = max(delay, (retry_at - now).total_seconds() + 1.0)
        return float(round(delay))

    def outage_window(self, max_receives: int) -> timedelta:
        """How long a tenant may stay unreachable before a queue that counts every receive (SQS,
        `maxReceiveCount` = `max_receives`) parks its hints: the outage backoffs between the first receive and
        the last."""
        waited = 0.0
        for _ in range(max(0, max_receives - 1)):
            waited += clamp(waited, self.retry_base_seconds, self.retry_max_seconds)
        return timedelta(seconds=waited)

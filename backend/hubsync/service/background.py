"""What the worker's loops share: `every` keeps something alive on a helper thread while a block runs
(a batch's leases, a reconcile's turn)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)


@contextmanager
def every(seconds: float, action: Callable[[], None], what: str, enabled: bool = True) -> Iterator[None]:
    """Run `action` every `seconds` on a helper thread while the block runs (keeping leases alive)."""
    if not enabled:
        yield
        return
    done = threading.Event()

    def keep() -> None:
        while not done.wait(seconds):
            try:
                action()
            except Exception as exc:  # the next try may work; a lost lease costs a repeated sync only
                log.warning("could not %s: %s", what, exc)

    keeper = threading.Thread(target=keep, name="hubsync-lease-keeper", daemon=True)
    keeper.start()
    try:
        yield
    finally:
        done.set()
        keeper.join()

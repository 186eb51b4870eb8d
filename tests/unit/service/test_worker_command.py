"""`hubsync worker` as an operator runs it: starts on the configured database, stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def test_the_worker_command_starts_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "HUBSYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'hubsync.sqlite3'}",
        "HUBSYNC_SECRET_KEY": "worker-command-test-secret-key-0123456789",
        "HUBSYNC_QUEUE_URL": "",
        "HUBSYNC_EVENTS_QUEUE_URL": "",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "hubsync.cli", "worker", "--concurrency", "2", "--reconcile-interval", "60"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        first = process.stdout.readline()
        assert "hubsync worker: 2 threads on the local queue" in first, first
        assert "every 60s" in first
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, rest
    assert "stopped" in rest
    assert time.monotonic() - started < 5  # waiting receivers are woken, not waited for

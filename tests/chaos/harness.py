"""The chaos rig: hubsync as it runs for real (`hubsync serve` and `hubsync worker` OS processes on a PostgreSQL
cluster of its own), the sandbox's simulators, and the hands that break things and then check that nothing broke.

    with Rig(scratch, workers=2) as rig:
        story = rig.new_story("my-scenario", findings=30)   # findings imported in Security Hub, each with a story
        with rig.storm(story):                             # events posted (EventBridge-like, retried), people act
            rig.kill_worker(0); rig.postgres.stop("immediate"); ...
        result = rig.converge(story, faults_ended_at=time.monotonic())

What it is made of:
- `PostgresCluster`: initdb + pg_ctl (the Debian binaries, /usr/lib/postgresql/<v>/bin) in a temporary directory,
  on a free port, trust authentication, fsync off. `stop("fast")` / `stop("immediate")` and `start()` again on
  the same port, so the outage is real and the shared server is never touched. As root it runs them as the
  `postgres` user (initdb refuses root).
- `Service`: one restartable OS process in its own process group, its output in a new file per start. The web
  server is `hubsync serve` (gunicorn, 2 processes; kill -9 takes down the whole group, master and workers); the
  workers are `python -m hubsync.cli worker` with the periodic reconcile off (`--reconcile-interval 0`): what
  converges must converge from the hints' own retries.
- The sandbox (Jira Cloud, Security Hub, moto) runs in this process; hubsync is installed into the Jira
  simulator through the Connect flow and configured as an admin would. Jira retries a failed webhook over
  ~16 s here (a knob; real Jira retries for longer), so a web server that is down for a few seconds gets its
  webhooks late, not never. Security Hub's own events are not sent: the rig posts the events itself, like
  EventBridge's API destination, retrying what got no 2xx (connection errors, 429, 5xx) until it is taken.
- The checks (`Verdict`): no finding with two tickets (Jira searched by the marker label, read-consistently); every
  escalated finding LINKED to the one ticket that carries its marker, and none for the others; every pair in the
  state its story says; no hint dead-lettered; a dry-run reconcile that plans nothing for the story's findings;
  no "Traceback" in any hubsync process's output. `converge` polls them until they hold, or a deadline, and
  times it from the end of the last fault.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pwd
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

from hubsync.adapters.queue import LocalQueue
from hubsync.adapters.store import SecretBox, Store, create_engine, upgrade
from hubsync.adapters.store.models import QueuedHintRow
from hubsync.bootstrap import build_sync_context
from hubsync.domain.finding import WorkflowStatus, marker_label
from hubsync.domain.link import LinkState
from hubsync.domain.tenant import Tenant
from hubsync.service.reconcile import reconcile
from hubsync.web.events import API_KEY_HEADER
from hubsync_sandbox.connected import configure_installed
from hubsync_sandbox.demo import demo_policy
from hubsync_sandbox.httpserver import free_port
from hubsync_sandbox.jira import seed as jira_seed
from hubsync_sandbox.runner import AGGREGATION_REGION, Sandbox
from hubsync_sandbox.securityhub.events import imported_event
from hubsync_sandbox.securityhub.simulator import Caller
from tests.fixtures.stories import (
    ARCHIVED,
    CLICKS,
    EXPECTED,
    FALSE_POSITIVE,
    LEFT_OPEN,
    NOT_ESCALATED,
    STORY_SHARES,
    StoryFinding,
)

SECRET_KEY = "chaos-secret-key-shared-by-every-process-0123456789"
# Jira retries a webhook that got no 2xx; the sandbox's default gives up within a second, real Jira goes on for
# longer. These pauses (about 16 s in all) outlast a web server's restart or a database restart.
WEBHOOK_RETRY_DELAYS_MS = [250, 500, 1000, 2000, 4000, 8000]

def postgres_bin() -> Path | None:
    """The newest Debian PostgreSQL binaries, /usr/lib/postgresql/<version>/bin, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name))
    return Path(found[-1]).parent if found else None


def unavailable_reason() -> str | None:
    """Why the rig cannot run here, or None."""
    if postgres_bin() is None:
        return "no PostgreSQL binaries in /usr/lib/postgresql/*/bin (apt-get install postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to run initdb as"
    return None


# -- PostgreSQL --------------------------------------------------------------------------------------------------
class PostgresCluster:
    """A throw-away PostgreSQL cluster in a temporary directory of its own (`root`, which the postgres user can
    walk into when we are root), on a free loopback port that it keeps across restarts; `close` removes it."""

    def __init__(self) -> None:
        bin_dir = postgres_bin()
        if bin_dir is None:
            raise RuntimeError(unavailable_reason() or "no PostgreSQL")
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="hubsync-chaos-postgres-"))
        self.data = self.root / "pgdata"
        self.log = self.root / "postgresql.log"
        self.port = free_port()
        self.running = False
        self.stops: Counter[str] = Counter()  # by mode
        self._owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str, timeout: float = 120) -> None:
        command = [str(self.bin / argv[0]), *argv[1:]]
        if self._owner is not None:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            tail = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(argv[:2])} failed ({done.returncode}): {done.stderr or done.stdout}\n{tail}")

    def init(self) -> PostgresCluster:
        self.root.chmod(0o755)  # the postgres user walks into it
        self.log.touch()
        if self._owner is not None:
            os.chown(self.log, self._owner.pw_uid, self._owner.pw_gid)
            self.data.mkdir(mode=0o700)
            os.chown(self.data, self._owner.pw_uid, self._owner.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C",
                  "--no-sync")
        return self

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.data} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300")
        self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o", options)
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        """`pg_ctl stop -m fast` (connections ended, a clean shutdown) or `-m immediate` (no shutdown: crash
        recovery at the next start)."""
        if mode not in ("smart", "fast", "immediate"):
            raise ValueError(mode)
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w", "-t", "60")
        self.running = False
        self.stops[mode] += 1

    def close(self) -> None:
        if self.running:
            with contextlib.suppress(Exception):
                self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w", "-t", "30")
            self.running = False
        shutil.rmtree(self.root, ignore_errors=True)


# -- processes ---------------------------------------------------------------------------------------------------
class Service:
    """One restartable OS process in a process group of its own, its output in a new file per start."""

    def __init__(self, name: str, argv: list[str], environment: dict[str, str], logs: Path) -> None:
        self.name = name
        self.argv = argv
        self.environment = environment
        self.logs = logs
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.kills = 0
        self.log_files: list[Path] = []

    def start(self) -> Service:
        self.starts += 1
        log = self.logs / f"{self.name}.{self.starts}.log"
        self.log_files.append(log)
        with log.open("wb") as out:
            self.process = subprocess.Popen(self.argv, env=self.environment, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill9(self) -> None:
        """SIGKILL to the whole process group (gunicorn's workers with their master), then reap."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)
        self.kills += 1

    def terminate(self, timeout: float = 30) -> int | None:
        """SIGTERM (a worker finishes its batch, gunicorn its requests) and wait; SIGKILL past `timeout`."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(30)
            return None


@dataclass
class LogMark:
    """Where each log file stood, so a scenario reads only what was written during it."""

    sizes: dict[Path, int]


def tracebacks_since(files: list[Path], mark: LogMark) -> list[str]:
    """Lines of the files (from the mark on) that carry a traceback, with a little of the error that follows."""
    found = []
    for path in files:
        if not path.exists():
            continue
        with path.open("rb") as handle:
            handle.seek(mark.sizes.get(path, 0))
            text = handle.read().decode("utf-8", "replace")
        for line in text.splitlines():
            if "Traceback" in line:
                found.append(f"{path.name}: {_gist(line)}")
    return found


def _gist(line: str) -> str:
    """A JSON log line's message and the last line of its traceback; a plain line as it is."""
    try:
        entry = json.loads(line)
    except ValueError:
        return line[:400]
    if not isinstance(entry, dict):
        return line[:400]
    trace = next((str(v) for v in entry.values() if isinstance(v, str) and "Traceback" in v), "")
    last = trace.strip().splitlines()[-1] if trace.strip() else ""
    return f"{entry.get('message', entry.get('msg', ''))!s:.200} | {last:.300}"


# -- the findings and their stories ------------------------------------------------------------------------------
@dataclass
class Story:
    """One scenario's findings (a generator id of their own), what happens to them, and the counts on the way."""

    name: str
    findings: list[StoryFinding]
    events_per_finding: int
    faults: Counter[str] = field(default_factory=Counter)  # what was injected, by kind
    acted: set[str] = field(default_factory=set)  # findings whose story happened (keys)
    dead_mark: int = 0  # the last queue row id before the scenario
    sent_mark: int = 0  # events the sender had had accepted before the scenario
    log_mark: LogMark = field(default_factory=lambda: LogMark({}))

    @property
    def escalated(self) -> list[StoryFinding]:
        return [f for f in self.findings if f.story != NOT_ESCALATED]


@dataclass
class Verdict:
    duplicates: list[str] = field(default_factory=list)  # findings with more than one ticket
    unlinked: list[str] = field(default_factory=list)  # escalated findings not LINKED to their one ticket
    stray: list[str] = field(default_factory=list)  # tickets or links for findings no rule escalates
    wrong_state: list[str] = field(default_factory=list)
    dead: list[str] = field(default_factory=list)  # dead-lettered hints, with their last error
    planned: list[str] = field(default_factory=list)  # what a dry-run reconcile would still do, or its failures
    tracebacks: list[str] = field(default_factory=list)
    pending: str = ""  # why the check did not look further (queue not drained, webhooks under way)
    queue: list[str] = field(default_factory=list)  # what still waited on the queue at the end (a failure's report)

    @property
    def holds(self) -> bool:
        return not (self.pending or self.duplicates or self.unlinked or self.stray or self.wrong_state or self.dead
                    or self.planned or self.tracebacks)

    def problems(self) -> list[str]:
        out = [f"pending: {self.pending}"] if self.pending else []
        for name in ("duplicates", "unlinked", "stray", "wrong_state", "dead", "planned", "tracebacks", "queue"):
            items = getattr(self, name)
            if items:
                out.append(f"{name} ({len(items)}): " + "; ".join(items[:5]))
        return out


@dataclass
class Result:
    scenario: str
    findings: int
    events_posted: int
    faults: dict[str, int]
    converge_seconds: float | None  # None: not within the deadline
    verdict: Verdict
    duplicates: int
    lost: int  # escalated findings without their ticket, or not in their story's state, at the end
    dead: int

    @property
    def ok(self) -> bool:
        return self.verdict.holds and self.converge_seconds is not None

    def line(self) -> str:
        faults = sum(self.faults.values())
        converged = f"{self.converge_seconds:.1f} s" if self.converge_seconds is not None else "NO"
        return (f"{self.scenario:<28} {self.findings:>4} findings {self.events_posted:>5} events "
                f"{faults:>5} faults  dup {self.duplicates}  lost {self.lost}  dead {self.dead}  "
                f"converged {converged}")


# -- the EventBridge sender --------------------------------------------------------------------------------------
class Sender:
    """Posts events to the intake as EventBridge's API destination does: an answer other than 2xx (a connection
    error, 429, 5xx) is retried with a short backoff until it is taken or the deadline passes; 4xx other than 429
    is final (recorded as refused)."""

    def __init__(self, url: str, key: str) -> None:
        self.url = url
        self.key = key
        self._local = threading.local()
        self._lock = threading.Lock()
        self.statuses: Counter[str] = Counter()  # every answer, "conn" for a connection error
        self.accepted = 0
        self.refused: list[str] = []
        self.given_up = 0

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def post(self, event: dict[str, Any], deadline: float) -> bool:
        body = json.dumps(event)
        headers = {"Content-Type": "application/json", API_KEY_HEADER: self.key}
        pause = 0.1
        while True:
            try:
                response = self._session().post(self.url, data=body, headers=headers, timeout=15)
                status, retry_after = str(response.status_code), response.headers.get("Retry-After")
            except requests.RequestException:
                self._local.session = None
                status, retry_after = "conn", None
            with self._lock:
                self.statuses[status] += 1
            if status.startswith("2"):
                with self._lock:
                    self.accepted += 1
                return True
            if status != "conn" and status != "429" and not status.startswith("5"):
                with self._lock:
                    self.refused.append(f"{status}: {response.text[:200]}")
                return False
            if time.monotonic() > deadline:
                with self._lock:
                    self.given_up += 1
                return False
            wait = pause
            if retry_after and retry_after.isdigit():
                wait = max(wait, min(float(retry_after), 2.0))
            time.sleep(wait * (0.5 + random.random()))
            pause = min(pause * 2, 2.0)

    @property
    def retried(self) -> int:
        return sum(count for status, count in self.statuses.items() if not status.startswith("2"))


# -- the rig -----------------------------------------------------------------------------------------------------
class Rig:
    """Everything of one chaos run; see the module's docstring."""

    def __init__(self, scratch: Path, workers: int = 2, threads: int = 2, web_processes: int = 2,
                 seed: int = 9, environment: dict[str, str] | None = None) -> None:
        self.scratch = scratch
        self.worker_count = workers
        self.threads = threads
        self.web_processes = web_processes
        self.random = random.Random(seed)
        self.logs = scratch / "logs"
        self._stack = contextlib.ExitStack()
        self._stories = 0
        self.extra_environment = dict(environment or {})  # more variables for the hubsync processes
        self._kill_lock = threading.Lock()

    # -- set-up --------------------------------------------------------------------------------------------------
    def __enter__(self) -> Rig:
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()

    def _start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        self.postgres = PostgresCluster().init()
        self._stack.callback(self.postgres.close)
        self.postgres.start()

        self.sandbox = self._stack.enter_context(Sandbox(seed_findings=False))
        environment = self._stack.enter_context(self.sandbox.exported())
        events = self.sandbox.securityhub.events
        for target in events.targets():  # the rig posts the events itself, as EventBridge would
            events.remove_target(target["id"])
        answer = requests.post(f"{self.jira_url}/_sandbox/connect/retry-delays",
                               json={"delays_ms": WEBHOOK_RETRY_DELAYS_MS}, timeout=10)
        answer.raise_for_status()

        self.store = Store(create_engine(self.postgres.url), SecretBox([SECRET_KEY]))
        self._stack.callback(self.store.dispose)
        upgrade(self.store.engine)
        self.queue = LocalQueue(self.store.engine)

        self.web_port = free_port()
        base = {
            **os.environ,
            **environment,
            "HUBSYNC_DATABASE_URL": self.postgres.url,
            "HUBSYNC_SECRET_KEY": SECRET_KEY,
            "HUBSYNC_QUEUE_URL": "",  # the local queue, on PostgreSQL
            "HUBSYNC_EVENTS_QUEUE_URL": "",
            "HUBSYNC_LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            **self.extra_environment,
        }
        web_env = {**base, "HUBSYNC_BASE_URL": self.web_url,
                   "HUBSYNC_ALLOWED_JIRA_HOSTS": self.jira_url.removeprefix("http://")}
        self.web = Service("web", [sys.executable, "-m", "hubsync.cli", "serve", "--bind",
                                   f"127.0.0.1:{self.web_port}", "--workers", str(self.web_processes)],
                           web_env, self.logs)
        self._stack.callback(self.web.terminate)
        self.start_web()

        installed = requests.post(f"{self.jira_url}/_sandbox/connect/install",
                                  json={"descriptorUrl": f"{self.web_url}/atlassian-connect.json"}, timeout=60)
        if installed.status_code != 200:
            raise RuntimeError(f"installing hubsync into the Jira simulator failed: {installed.text}")
        default = self.sandbox.jira_cloud.user_by_email(jira_seed.SANDBOX_JIRA_DEFAULT_ASSIGNEE_EMAIL)
        assert default is not None
        self.tenant: Tenant = configure_installed(self.store, self.sandbox, installed.json()["clientKey"],
                                                  demo_policy(default.account_id))  # escalates CRITICAL findings
        with self.store.transaction() as uow:
            key = uow.tenants.regenerate_events_api_key(self.tenant.id)
        self.sender = Sender(f"{self.web_url}/events/securityhub/{self.tenant.id}", key)

        self.workers = [
            Service(f"worker-{n}", [sys.executable, "-m", "hubsync.cli", "worker", "--concurrency",
                                    str(self.threads), "--reconcile-interval", "0"], base, self.logs)
            for n in range(self.worker_count)
        ]
        for worker in self.workers:
            self._stack.callback(worker.terminate)
            worker.start()

    @property
    def jira_url(self) -> str:
        return self.sandbox.jira_cloud_server.url

    @property
    def securityhub_url(self) -> str:
        return self.sandbox.securityhub_server.url

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def services(self) -> list[Service]:
        return [self.web, *self.workers]

    def log_files(self) -> list[Path]:
        return [path for service in self.services() for path in service.log_files]

    # -- the hands that break things --------------------------------------------------------------------------------
    def start_web(self, timeout: float = 60) -> None:
        self.web.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.web.alive():
                raise RuntimeError(f"hubsync serve exited:\n{self.web.log_files[-1].read_text()[-2000:]}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.web_url}/healthz", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"hubsync serve did not answer in {timeout:.0f} s")

    def kill_web(self, story: Story, down_seconds: float = 0.0) -> None:
        self.web.kill9()
        story.faults["web server kill -9"] += 1
        time.sleep(down_seconds)
        self.start_web()

    def kill_worker(self, story: Story, number: int | None = None, down_seconds: float = 0.0) -> None:
        with self._kill_lock:
            worker = self.workers[self.random.randrange(len(self.workers)) if number is None else number]
            worker.kill9()
            story.faults["worker kill -9"] += 1
            time.sleep(down_seconds)
            worker.start()

    def restart_dead_workers(self) -> None:
        with self._kill_lock:
            for worker in self.workers:
                if not worker.alive():
                    worker.start()

    def postgres_outage(self, story: Story, mode: str, down_seconds: float) -> None:
        self.postgres.stop(mode)
        story.faults[f"PostgreSQL stop -m {mode}"] += 1
        time.sleep(down_seconds)
        self.postgres.start()

    def jira_fault(self, story: Story, fault: dict[str, Any]) -> None:
        answer = requests.post(f"{self.jira_url}/_sandbox/faults", json=fault, timeout=10)
        answer.raise_for_status()

    def securityhub_fault(self, story: Story, fault: dict[str, Any]) -> None:
        answer = requests.post(f"{self.securityhub_url}/_sandbox/faults", json=fault, timeout=10)
        answer.raise_for_status()

    def securityhub_unprocessed(self, share: float, error_code: str = "ConcurrentUpdateError") -> None:
        answer = requests.post(f"{self.securityhub_url}/_sandbox/unprocessed",
                               json={"share": share, "error_code": error_code}, timeout=10)
        answer.raise_for_status()

    def search_lag(self, delay_ms: int) -> None:
        answer = requests.post(f"{self.jira_url}/_sandbox/search-consistency", json={"delay_ms": delay_ms},
                               timeout=10)
        answer.raise_for_status()

    def clear_faults(self, story: Story) -> None:
        """Every simulator knob back to normal, and what the faults hit counted into the story."""
        for name, url in (("Jira", self.jira_url), ("Security Hub", self.securityhub_url)):
            served = requests.get(f"{url}/_sandbox/faults", timeout=10).json()["served"]
            for kind, count in served.items():
                label = f"{name} latency" if kind == "latency" else f"{name} {kind}"
                story.faults[label] += count
            requests.delete(f"{url}/_sandbox/faults", timeout=10).raise_for_status()
            requests.delete(f"{url}/_sandbox/counters", timeout=10).raise_for_status()
        unprocessed = requests.get(f"{self.securityhub_url}/_sandbox/unprocessed", timeout=10).json()
        if unprocessed["served"]:
            story.faults["Security Hub findings unprocessed"] += unprocessed["served"]
        requests.delete(f"{self.securityhub_url}/_sandbox/unprocessed", timeout=10).raise_for_status()
        self.search_lag(0)
        self.sandbox.securityhub.unprocessed.served = 0

    # -- findings, events and people ---------------------------------------------------------------------------
    def new_story(self, name: str, findings: int, events_per_finding: int = 3) -> Story:
        """`findings` new findings in Security Hub (CRITICAL but the not-escalated ones), stories spread as in
        STORY_SHARES."""
        self._stories += 1
        generator = f"chaos-{self._stories}"
        world = self.sandbox.aws_world
        assert world is not None
        accounts = [account.id for account in world.workload_accounts]
        total = sum(STORY_SHARES.values())
        stories = [story for story, share in STORY_SHARES.items()
                   for _ in range(max(1, round(findings * share / total)))]
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        chaos = []
        for number, story in enumerate(stories):
            account = accounts[number % len(accounts)]
            chaos.append(StoryFinding(story, {
                "SchemaVersion": "2018-10-08",
                "Id": f"arn:aws:securityhub:{AGGREGATION_REGION}:{account}:finding/{generator}-{number}",
                "ProductArn": f"arn:aws:securityhub:{AGGREGATION_REGION}:{account}:product/{account}/default",
                "GeneratorId": generator, "AwsAccountId": account, "Types": ["Unusual Behaviors"],
                "CreatedAt": now, "UpdatedAt": now,
                "Severity": {"Label": "MEDIUM" if story == NOT_ESCALATED else "CRITICAL"},
                "Title": f"Chaos finding {number} of {name} ({story})", "Description": "Imported by the chaos rig.",
                "Resources": [{"Type": "Other", "Id": f"{generator}-resource-{number}", "Region": AGGREGATION_REGION}],
            }))
        for start in range(0, len(chaos), 100):
            result = self._securityhub("batch_import_findings",
                                       {"Findings": [f.data for f in chaos[start:start + 100]]})
            assert result["FailedCount"] == 0, result["FailedFindings"][:1]
        story = Story(name, chaos, events_per_finding)
        story.dead_mark = self._last_queue_id()
        story.sent_mark = self.sender.accepted
        story.log_mark = LogMark({path: path.stat().st_size for path in self.log_files() if path.exists()})
        return story

    def _securityhub(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        """A Security Hub call straight into the simulator (no HTTP: the rig's own calls are never faulted)."""
        world = self.sandbox.aws_world
        assert world is not None
        return getattr(self.sandbox.securityhub, operation)(Caller(world.security_account.id, AGGREGATION_REGION),
                                                            body)

    def current_asff(self, story: Story, finding_id: str | None = None) -> dict[str, dict[str, Any]]:
        filters: dict[str, Any] = {"GeneratorId": [{"Value": story.findings[0].data["GeneratorId"],
                                                    "Comparison": "EQUALS"}]}
        if finding_id is not None:
            filters["Id"] = [{"Value": finding_id, "Comparison": "EQUALS"}]
        found: dict[str, dict[str, Any]] = {}
        request: dict[str, Any] = {"Filters": filters, "MaxResults": 100}
        while True:
            page = self._securityhub("get_findings", request)
            found.update((data["Id"], data) for data in page["Findings"])
            if "NextToken" not in page:
                return found
            request = {**request, "NextToken": page["NextToken"]}

    def events_for(self, story: Story) -> list[dict[str, Any]]:
        """`events_per_finding` Imported events per finding: the first redelivered with its id, the rest fresh."""
        world = self.sandbox.aws_world
        assert world is not None
        now = datetime.now(UTC)
        events = []
        for data in self.current_asff(story).values():
            first = imported_event(data, world.security_account.id, AGGREGATION_REGION, now)
            events.append(first)
            for n in range(1, story.events_per_finding):
                events.append(dict(first) if n % 2 else
                              imported_event(data, world.security_account.id, AGGREGATION_REGION, now))
        self.random.shuffle(events)
        return events

    def post_all(self, events: list[dict[str, Any]], seconds: float, deadline: float, senders: int = 4) -> None:
        gap = seconds * senders / max(1, len(events))

        def send(mine: list[dict[str, Any]]) -> None:
            for event in mine:
                self.sender.post(event, deadline)
                time.sleep(gap)

        with ThreadPoolExecutor(senders, thread_name_prefix="chaos-sender") as pool:
            for future in [pool.submit(send, events[n::senders]) for n in range(senders)]:
                future.result()

    def ticket_of(self, finding: StoryFinding) -> str | None:
        with self.store.read() as uow:
            link = uow.links.get(self.tenant.id, finding.key)
        return link.ticket_key if link and link.state is LinkState.LINKED else None

    def act(self, story: Story, stop: threading.Event, deadline: float) -> None:
        """People and providers, racing the workers: as each finding gets its ticket, its story happens to it
        (Jira transitions, reaching hubsync as signed webhooks; an archive, as the Imported event it emits)."""
        world = self.sandbox.jira_cloud
        waiting = [f for f in story.findings if f.story not in (LEFT_OPEN, NOT_ESCALATED)]
        while waiting and not stop.is_set() and time.monotonic() < deadline:
            for finding in list(waiting):
                try:
                    ticket = self.ticket_of(finding)
                except sa.exc.SQLAlchemyError:  # the database is down: look again later
                    break
                if ticket is None:
                    continue
                waiting.remove(finding)
                story.acted.add(finding.key)
                if finding.story == ARCHIVED:
                    self.archive(story, finding, deadline)
                    continue
                who, names = CLICKS[finding.story]
                actor = world.user_by_email(who)
                assert actor is not None
                for name in names:
                    transition = next(t for t in world.transitions(ticket) if t.name == name)
                    world.transition_issue(ticket, transition.id, actor)
            stop.wait(0.05)

    def archive(self, story: Story, finding: StoryFinding, deadline: float) -> None:
        later = (datetime.now(UTC) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        result = self._securityhub("batch_import_findings",
                                   {"Findings": [{**finding.data, "RecordState": "ARCHIVED", "UpdatedAt": later}]})
        assert result["FailedCount"] == 0, result["FailedFindings"]
        world = self.sandbox.aws_world
        assert world is not None
        data = self.current_asff(story, finding.data["Id"])[finding.data["Id"]]
        self.sender.post(imported_event(data, world.security_account.id, AGGREGATION_REGION, datetime.now(UTC)),
                         deadline)

    @contextlib.contextmanager
    def storm(self, story: Story, seconds: float = 4.0, timeout: float = 120.0) -> Iterator[None]:
        """The events posted over `seconds` and the people acting, in the background while the block injects
        faults; leaving it waits for the posting (retries included). The people go on until `converge`."""
        deadline = time.monotonic() + timeout
        events = self.events_for(story)
        self._people_stop = threading.Event()
        pool = ThreadPoolExecutor(2, thread_name_prefix="chaos-storm")
        posting = pool.submit(self.post_all, events, seconds, deadline)
        self._people = pool.submit(self.act, story, self._people_stop, deadline)
        try:
            yield
        finally:
            posting.result(timeout)
            pool.shutdown(wait=False)

    def wait_for_people(self, timeout: float) -> None:
        """The stories still waiting for a ticket go on until they happen or `timeout` (a finding that never gets
        its ticket shows in the verdict)."""
        people = getattr(self, "_people", None)
        if people is None:
            return
        with contextlib.suppress(Exception):
            people.result(timeout)
        self._people_stop.set()
        people.result(30)
        self._people = None

    # -- the checks --------------------------------------------------------------------------------------------
    def _last_queue_id(self) -> int:
        hints = QueuedHintRow.__table__
        with self.store.engine.connect() as connection:
            return int(connection.execute(sa.select(sa.func.coalesce(sa.func.max(hints.c.id), 0))).scalar_one())

    def dead_since(self, story: Story) -> list[str]:
        hints = QueuedHintRow.__table__
        statement = sa.select(hints.c.id, hints.c.group_key, hints.c.last_error).where(
            hints.c.state == "DEAD", hints.c.id > story.dead_mark).order_by(hints.c.id)
        with self.store.engine.connect() as connection:
            return [f"#{row.id} {str(row.group_key)[:12]}: {str(row.last_error)[:300]}"
                    for row in connection.execute(statement)]

    def queue_rows(self, limit: int = 8) -> list[str]:
        """What waits on the queue: state, attempts, when it may run and its last error (for a failure's report)."""
        hints = QueuedHintRow.__table__
        now = datetime.now(UTC)
        statement = sa.select(hints).order_by(hints.c.id).limit(limit)
        with self.store.engine.connect() as connection:
            rows = list(connection.execute(statement))
        out = []
        for row in rows:
            available = (row.available_at - now).total_seconds() if row.available_at else 0.0
            leased = (row.leased_until - now).total_seconds() if row.leased_until else None
            out.append(f"#{row.id} {row.group_key.rsplit(':', 1)[-1][:12]} {row.state} attempts {row.attempts} "
                       f"due in {available:.0f} s" + (f", leased for {leased:.0f} s" if leased is not None else "")
                       + f", last error: {str(row.last_error)[:240]}")
        return out

    def pending(self) -> str:
        depth = self.queue.depth()
        idle = requests.get(f"{self.jira_url}/_sandbox/connect/deliveries", params={"wait_ms": 1},
                            timeout=30).json()["idle"]
        return "" if depth == 0 and idle else f"queue depth {depth}, webhooks idle {idle}"

    def verdict(self, story: Story, deep: bool = True) -> Verdict:
        verdict = Verdict()
        verdict.dead = self.dead_since(story)
        verdict.tracebacks = tracebacks_since(self.log_files(), story.log_mark)
        verdict.pending = self.pending()
        world = self.sandbox.jira_cloud
        with self.store.read() as uow:
            links = {f.key: uow.links.get(self.tenant.id, f.key) for f in story.findings}
        marked = {f.key: world.search_keys(f'labels = "{marker_label(f.key)}"') for f in story.findings}
        for finding in story.findings:
            link, tickets = links[finding.key], marked[finding.key]
            name = f"{finding.data['Id'].rsplit('/', 1)[-1]} ({finding.story})"
            if len(tickets) > 1:
                verdict.duplicates.append(f"{name}: {tickets}")
            if finding.story == NOT_ESCALATED:
                if tickets or link is not None:
                    verdict.stray.append(f"{name}: tickets {tickets}, link {link}")
            elif link is None or link.state is not LinkState.LINKED or tickets != [link.ticket_key]:
                state = "no link" if link is None else f"link {link.state} {link.ticket_key}"
                verdict.unlinked.append(f"{name}: {state}, marked tickets {tickets}")
        if not deep or verdict.pending or verdict.unlinked:
            return verdict
        ctx = build_sync_context(self.tenant, self.store)
        try:
            current = ctx.securityhub.get([f.identifier for f in story.findings])
            ticket_keys = [link.ticket_key for link in links.values() if link is not None and link.ticket_key]
            tickets_now = ctx.jira.get_tickets(ticket_keys)
            for finding in story.findings:
                name = f"{finding.data['Id'].rsplit('/', 1)[-1]} ({finding.story})"
                now = current.get(finding.key)
                if now is None:
                    verdict.wrong_state.append(f"{name}: not in Security Hub")
                    continue
                if finding.story == NOT_ESCALATED:
                    if now.workflow_status is not WorkflowStatus.NEW:
                        verdict.wrong_state.append(f"{name}: {now.workflow_status}")
                    continue
                if finding.story not in (LEFT_OPEN,) and finding.key not in story.acted:
                    verdict.wrong_state.append(f"{name}: its story has not happened yet")
                    continue
                link = links[finding.key]
                assert link is not None and link.ticket_key is not None
                ticket = tickets_now[link.ticket_key]
                got = (now.workflow_status, ctx.policy.disposition_of(ticket))
                if got != EXPECTED[finding.story]:
                    verdict.wrong_state.append(f"{name}: {ticket.key} {ticket.status}, finding {got[0]}, "
                                               f"ticket {got[1]}; expected {EXPECTED[finding.story]}")
                elif now.user_defined_fields.get("jiraIssue") != ticket.key:
                    verdict.wrong_state.append(f"{name}: jiraIssue {now.user_defined_fields.get('jiraIssue')}")
                elif finding.story == FALSE_POSITIVE and now.verification_state != "FALSE_POSITIVE":
                    verdict.wrong_state.append(f"{name}: VerificationState {now.verification_state}")
            keys = {f.key for f in story.findings}
            final = reconcile(ctx, dry_run=True)
            for outcome in final.outcomes:
                if outcome.finding_key in keys and (outcome.actions or outcome.error):
                    verdict.planned.append(f"{outcome.finding_id.rsplit('/', 1)[-1]}: rule {outcome.rule} "
                                           f"{outcome.actions} {outcome.error or ''}".strip())
        finally:
            close = getattr(ctx.jira, "close", None)
            if callable(close):
                close()
        return verdict

    def converge(self, story: Story, faults_ended_at: float, timeout: float = 60.0,
                 say: Callable[[str], None] = lambda _: None) -> Result:
        """Poll the checks until they hold (twice: the second time after the webhooks and the queue were seen
        quiet) or `timeout` passes; the time from the end of the last fault to the first holding verdict."""
        deadline = faults_ended_at + timeout
        self.restart_dead_workers()
        verdict = Verdict(pending="not checked")
        converged: float | None = None
        reported = time.monotonic()
        while True:
            try:
                verdict = self.verdict(story, deep=True)
            except (sa.exc.SQLAlchemyError, requests.RequestException) as error:
                verdict = Verdict(pending=f"check failed: {type(error).__name__}: {error}"[:300])
            if verdict.holds:
                converged = time.monotonic() - faults_ended_at
                break
            if time.monotonic() > deadline:
                break
            if time.monotonic() - reported >= 5:
                reported = time.monotonic()
                say(f"  {story.name}: after {reported - faults_ended_at:.0f} s: "
                    + (" | ".join(verdict.problems()) or "holds")[:600])
            time.sleep(0.5)
        if converged is not None:  # and it stays so: nothing was in flight that changes it again
            time.sleep(1.0)
            again = self.verdict(story, deep=True)
            if not again.holds:
                converged, verdict = None, again
        self.wait_for_people(0.1)
        if converged is None:
            with contextlib.suppress(Exception):
                verdict.queue = self.queue_rows()
        for service in self.services():
            if not service.alive():
                code = service.process.returncode if service.process else None
                verdict.tracebacks.append(f"{service.name} is not running (exit {code})")
        missing = {entry.split(":")[0] for entry in verdict.unlinked + verdict.wrong_state}
        return Result(
            scenario=story.name, findings=len(story.findings), events_posted=self.sender.accepted - story.sent_mark,
            faults=dict(story.faults), converge_seconds=converged, verdict=verdict,
            duplicates=len(verdict.duplicates), lost=len(missing), dead=len(verdict.dead),
        )

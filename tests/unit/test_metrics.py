"""Metrics: what the exposition shows (queue gauges read at scrape time from a real local queue and moto's SQS, an
unreachable queue), what the worker records for the syncs it runs, the token rule, and the worker's own endpoint.

The counters live in prometheus_client's default registry, shared by the whole test run: tests compare before and
after."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from werkzeug.test import Client

from hubsync import metrics
from hubsync.adapters.faults import is_transient
from hubsync.adapters.queue import LocalQueue, SqsQueue
from hubsync.adapters.store import SecretBox, Store, create_engine, upgrade
from hubsync.config import Settings
from hubsync.domain.hint import HintSource, SyncHint
from hubsync.domain.tenant import Tenant
from hubsync.service.sync import Outcome, SyncContext
from hubsync.service.worker import Worker, WorkerSettings
from hubsync_sandbox.httpserver import free_port
from tests.fixtures.securityhub import FakeClock
from tests.integration.store.builders import TEST_SECRET_KEY, finding, make_tenant


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[Store]:
    engine = create_engine(f"sqlite:///{tmp_path / 'hubsync.sqlite3'}")
    upgrade(engine)
    running = Store(engine, SecretBox([TEST_SECRET_KEY]), clock=clock)
    yield running
    running.dispose()


@pytest.fixture
def tenant(store: Store) -> Tenant:
    return make_tenant(store)


@pytest.fixture
def queue(store: Store, clock: FakeClock) -> LocalQueue:
    return LocalQueue(store.engine, clock=clock, max_attempts=3)


def scrape(queue: object = None) -> dict[str, float]:
    """The exposition parsed back: {'name{label="v"}': value} for every sample."""
    body, content_type = metrics.exposition(queue)
    assert content_type.startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def hint(tenant: Tenant, number: int, source: HintSource = HintSource.SECURITYHUB_IMPORTED) -> SyncHint:
    return SyncHint(tenant.id, source, finding=finding(number))


# -- the queue, read at scrape time ---------------------------------------------------------------------------


def test_the_local_queue_shows_its_depth_and_the_age_of_its_oldest_hint(queue, tenant, clock) -> None:
    assert scrape(queue)["hubsync_queue_depth"] == 0
    assert scrape(queue)["hubsync_queue_oldest_age_seconds"] == 0
    queue.put([hint(tenant, 1)])
    clock.advance(30)
    queue.put([hint(tenant, 2), hint(tenant, 3)])
    clock.advance(12)

    samples = scrape(queue)

    assert samples["hubsync_queue_up"] == 1
    assert samples["hubsync_queue_depth"] == 3
    assert samples["hubsync_queue_oldest_age_seconds"] == pytest.approx(42)
    [leased] = queue.receive(1, wait_seconds=0)
    queue.ack([leased])  # the oldest is gone: the next one has waited 12 s
    assert scrape(queue)["hubsync_queue_depth"] == 2
    assert scrape(queue)["hubsync_queue_oldest_age_seconds"] == pytest.approx(12)


def test_dead_letters_are_not_depth(queue, tenant) -> None:
    queue.put([hint(tenant, 1)])
    queue.dead_letter(queue.receive(1, wait_seconds=0), error="hopeless")
    assert scrape(queue)["hubsync_queue_depth"] == 0


def test_an_unreachable_queue_is_a_reading_not_a_failed_scrape() -> None:
    nobody = create_engine(f"postgresql+psycopg://hubsync@127.0.0.1:{free_port()}/hubsync")  # no database there
    samples = scrape(LocalQueue(nobody))
    assert samples["hubsync_queue_up"] == 0
    assert "hubsync_queue_depth" not in samples
    assert any(name.startswith("python_info") for name in samples)  # the rest of the scrape is there


def test_an_sqs_queue_shows_its_approximate_depth_and_no_age() -> None:
    with mock_aws():
        sqs = boto3.client("sqs", region_name="eu-west-1")
        dead = sqs.create_queue(QueueName="hints-dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
        dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        url = sqs.create_queue(QueueName="hints.fifo", Attributes={
            "FifoQueue": "true", "RedrivePolicy": json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": 3}),
        })["QueueUrl"]
        queue = SqsQueue(url, sqs)
        queue.put([SyncHint("t1", HintSource.SECURITYHUB_IMPORTED, finding=finding(n), event_id=f"e{n}")
                   for n in range(3)])
        queue.receive(1, wait_seconds=0)  # one in flight still counts

        samples = scrape(queue)

    assert samples["hubsync_queue_depth"] == 3
    assert "hubsync_queue_oldest_age_seconds" not in samples  # CloudWatch's ApproximateAgeOfOldestMessage says it


# -- what the worker records ------------------------------------------------------------------------------------


class ScriptedSync:
    """The engine as the worker sees it: finding 2 fails, the others change or not by their number."""

    def sync_context(self, tenant: Tenant) -> SyncContext:
        return SyncContext(tenant.id, None, None, None, None, None, None, None)  # type: ignore[arg-type]

    def forget(self, tenant_id: str) -> None:
        pass

    def sync(self, ctx: SyncContext, hints: list[SyncHint]) -> list[Outcome]:
        outcomes = []
        for each in hints:
            number = next(n for n in range(10) if finding(n).key == each.finding.key)
            if number == 2:
                outcomes.append(Outcome(each.finding.key, "id", None, None, "", (), "Jira answered 503"))
            elif number == 1:
                outcomes.append(Outcome(each.finding.key, "id", "SEC-1", 1, "created", ("CreateTicket",)))
            else:
                outcomes.append(Outcome(each.finding.key, "id", "SEC-3", 11, "in step", ()))
        return outcomes


def test_the_worker_counts_syncs_by_rule_and_outcome_and_how_long_hints_waited(store, queue, tenant, clock) -> None:
    engine = ScriptedSync()
    worker = Worker(store, queue, settings=WorkerSettings(), contexts=engine, is_transient=is_transient,
                    sync=engine.sync, clock=clock)
    queue.put([hint(tenant, 1, HintSource.SECURITYHUB_CUSTOM_ACTION), hint(tenant, 2), hint(tenant, 3)])
    clock.advance(7)
    before = {
        "created": value("hubsync_syncs_total", rule="1", outcome="changed"),
        "unchanged": value("hubsync_syncs_total", rule="11", outcome="unchanged"),
        "failed": value("hubsync_syncs_total", rule="none", outcome="failed"),
        "acked": value("hubsync_hints_settled_total", outcome="acked"),
        "retried": value("hubsync_hints_settled_total", outcome="retried"),
        "batches": value("hubsync_sync_seconds_count"),
        "by_hand": value("hubsync_hint_latency_seconds_count", source="securityhub.custom-action"),
        "by_hand_sum": value("hubsync_hint_latency_seconds_sum", source="securityhub.custom-action"),
    }

    report = worker.run_once()

    assert (report.acked, report.retried) == (2, 1)
    assert value("hubsync_syncs_total", rule="1", outcome="changed") == before["created"] + 1
    assert value("hubsync_syncs_total", rule="11", outcome="unchanged") == before["unchanged"] + 1
    assert value("hubsync_syncs_total", rule="none", outcome="failed") == before["failed"] + 1
    assert value("hubsync_hints_settled_total", outcome="acked") == before["acked"] + 2
    assert value("hubsync_hints_settled_total", outcome="retried") == before["retried"] + 1
    assert value("hubsync_sync_seconds_count") == before["batches"] + 1
    assert value("hubsync_hint_latency_seconds_count", source="securityhub.custom-action") == before["by_hand"] + 1
    waited = value("hubsync_hint_latency_seconds_sum", source="securityhub.custom-action") - before["by_hand_sum"]
    assert waited == pytest.approx(7)


def test_no_label_names_a_tenant_or_a_finding(queue, tenant, clock, store) -> None:
    engine = ScriptedSync()
    queue.put([hint(tenant, 1), hint(tenant, 3)])
    Worker(store, queue, contexts=engine, is_transient=is_transient, sync=engine.sync, clock=clock).run_once()
    text = metrics.exposition(queue)[0].decode()
    assert tenant.id not in text
    assert finding(1).key not in text and finding(1).id not in text


# -- the token rule and the worker's endpoint ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "authorization", "allowed"),
    [
        (None, None, True),
        ("", "Bearer anything", True),
        ("s3cret-token", None, False),
        ("s3cret-token", "Bearer s3cret-token", True),
        ("s3cret-token", "bearer s3cret-token", True),
        ("s3cret-token", "Bearer s3cret-tokeN", False),
        ("s3cret-token", "Basic s3cret-token", False),
        ("s3cret-token", "s3cret-token", False),
    ],
)
def test_the_token_rule(expected, authorization, allowed) -> None:
    assert metrics.token_allows(expected, authorization) is allowed


def test_the_workers_endpoint_serves_metrics_behind_its_token(queue, tenant) -> None:
    queue.put([hint(tenant, 1)])
    client = Client(metrics.metrics_app(queue, token="worker-metrics-token"))

    refused = client.get("/metrics")
    served = client.get("/metrics", headers={"Authorization": "Bearer worker-metrics-token"})

    assert refused.status_code == 401 and json.loads(refused.data)["error"]
    assert served.status_code == 200
    assert "hubsync_queue_depth 1.0" in served.data.decode()
    assert client.get("/other", headers={"Authorization": "Bearer worker-metrics-token"}).status_code == 404


def test_the_workers_endpoint_listens_on_a_port(queue) -> None:
    import urllib.request

    server = metrics.serve_metrics("127.0.0.1", 0, queue)
    try:
        port = server.server_address[1]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            assert response.status == 200
            assert b"# TYPE hubsync_syncs_total counter" in response.read()
    finally:
        server.shutdown()
        server.server_close()


def test_a_timedelta_of_queue_time_is_never_negative(tenant) -> None:
    """A hint enqueued by a process whose clock runs ahead still records a latency of 0, not a negative one."""
    from datetime import UTC, datetime

    from hubsync.domain.ports import Delivery

    later = datetime.now(UTC) + timedelta(seconds=5)
    before = value("hubsync_hint_latency_seconds_bucket", source="jira.webhook", le="0.1")
    metrics.record_hints_synced([Delivery(hint(tenant, 1, HintSource.JIRA_WEBHOOK), "r", 1, later)],
                                datetime.now(UTC))
    assert value("hubsync_hint_latency_seconds_bucket", source="jira.webhook", le="0.1") == before + 1


def test_the_worker_commands_endpoint_shows_the_workers_queue(tmp_path: Path) -> None:
    import re
    import threading
    import urllib.request

    from hubsync.cli import run_worker

    environ = {"HUBSYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite3'}",
               "HUBSYNC_SECRET_KEY": TEST_SECRET_KEY, "HUBSYNC_QUEUE_URL": ""}
    lines: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(target=run_worker, args=(Settings.from_environment(environ),), kwargs=dict(
        concurrency=1, reconcile_interval=0, stop=stop, out=lines.append, metrics_bind="127.0.0.1:0"))
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not any("/metrics" in line for line in lines) and time.monotonic() < deadline:
            time.sleep(0.02)
        [url] = [m.group(0) for line in lines if (m := re.search(r"http://\S+/metrics", line))]
        with urllib.request.urlopen(url, timeout=5) as response:
            body = response.read().decode()
    finally:
        stop.set()
        thread.join(10)
    assert "hubsync_queue_up 1.0" in body and "hubsync_queue_depth 0.0" in body

"""An account running both Security Hubs, on the sandbox: the simulator's EventBridge delivers CSPM's Imported events
and the new Security Hub's "Findings Imported V2" events (a rule for both) to hubsync's running intake, one endpoint
per tenant, or to an SQS queue the events mover reads. Each tenant queues the events of the Security Hub it syncs
with and accepts the others without work, so EventBridge dead-letters nothing; a comment starting with #jira ranks
its hint first."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from hubsync.adapters.queue import LocalQueue, SqsEventSource
from hubsync.adapters.store import Store
from hubsync.bootstrap import bootstrap
from hubsync.config import Settings
from hubsync.domain.finding import FindingIdentifier
from hubsync.domain.hint import HintSource, Priority, SyncHint
from hubsync.domain.tenant import AuthMode, JiraFlavour, SecurityHubGeneration, Tenant
from hubsync.service.events_mover import EventsMover
from hubsync.service.intake import CUSTOM_ACTION, IMPORTED, IMPORTED_V2
from hubsync.web import create_app
from hubsync.web.events import API_KEY_HEADER
from hubsync_sandbox import aws
from hubsync_sandbox.httpserver import BackgroundServer
from hubsync_sandbox.seed import seed_findings
from tests.fixtures.securityhub import ADMIN, AGGREGATION_REGION, MEMBER, SecurityHubSandbox
from tests.integration.web.conftest import SECRET_KEY

BOTH = [IMPORTED, CUSTOM_ACTION, IMPORTED_V2]  # the rules of infra/securityhub-events.yaml with generations "both"


@pytest.fixture
def intake(store: Store, queue: LocalQueue) -> Iterator[str]:
    """hubsync's web app on a loopback port: its base URL."""
    settings = Settings.from_environment({"HUBSYNC_BASE_URL": "http://127.0.0.1", "HUBSYNC_SECRET_KEY": SECRET_KEY})
    server = BackgroundServer(create_app(bootstrap(settings, store=store, queue=queue)), name="hubsync-intake")
    server.start()
    yield server.url
    server.stop()


@pytest.fixture(scope="module")
def moto() -> Iterator[aws.MotoServer]:
    server = aws.MotoServer().start()
    yield server
    server.stop()


def tenant_on(store: Store, generation: SecurityHubGeneration) -> Tenant:
    """A tenant whose role is in the administrator account, syncing with `generation`."""
    with store.transaction() as uow:
        return uow.tenants.create(
            name=generation.value, jira_base_url="https://acme.atlassian.net", jira_flavour=JiraFlavour.CLOUD,
            auth_mode=AuthMode.CONNECT, jira_secret="shared", aws_role_arn=f"arn:aws:iam::{ADMIN}:role/hubsync",
            securityhub_generation=generation,
        )


def watching(store: Store, securityhub: SecurityHubSandbox, intake: str, generation: SecurityHubGeneration) -> Tenant:
    """A tenant on `generation`, and the EventBridge target of its endpoint."""
    tenant = tenant_on(store, generation)
    assert tenant.events_api_key is not None
    securityhub.sim.events.add_http_target(f"{intake}/events/securityhub/{tenant.id}", header_name=API_KEY_HEADER,
                                           header_value=tenant.events_api_key, detail_types=BOTH)
    return tenant


def emitted(securityhub: SecurityHubSandbox, detail_type: str) -> list[dict[str, Any]]:
    return [event for event in securityhub.sim.events.emitted() if event["detail-type"] == detail_type]


def queued(queue: LocalQueue) -> dict[str, dict[str | None, SyncHint]]:
    """Every queued hint, by tenant and event id."""
    found: dict[str, dict[str | None, SyncHint]] = {}
    for delivery in queue.receive(100, wait_seconds=0):
        found.setdefault(delivery.hint.tenant_id, {})[delivery.hint.event_id] = delivery.hint
    return found


def both_kinds_of_event(securityhub: SecurityHubSandbox) -> dict[str, Any]:
    """Two GuardDuty findings imported (CSPM's events), their OCSF twins added (V2's), and one twin's comment set to
    ask for a ticket (V2's again); once every event is delivered, the twin's metadata (its identity)."""
    guardduty = [f for f in seed_findings([MEMBER], [AGGREGATION_REGION]) if "/aws/guardduty" in f["ProductArn"]][:2]
    client = securityhub.client()
    assert client.batch_import_findings(Findings=guardduty)["FailedCount"] == 0
    assert securityhub.sim.add_ocsf_twins() == 2  # enabling the new Security Hub: a V2 event per finding
    [twin, _] = client.get_findings_v2(MaxResults=2)["Findings"]
    client.batch_update_findings_v2(MetadataUids=[twin["metadata"]["uid"]], Comment="#JIRA for payments, please")
    securityhub.sim.events.flush(timeout=30)
    return twin["metadata"]


def test_each_tenant_queues_its_own_security_hubs_events_and_a_jira_comment_goes_first(
    securityhub: SecurityHubSandbox, store: Store, queue: LocalQueue, intake: str
) -> None:
    cspm = watching(store, securityhub, intake, SecurityHubGeneration.CSPM)
    v2 = watching(store, securityhub, intake, SecurityHubGeneration.V2)
    metadata = both_kinds_of_event(securityhub)

    cspm_events, v2_events = emitted(securityhub, IMPORTED), emitted(securityhub, IMPORTED_V2)
    assert (len(cspm_events), len(v2_events)) == (2, 3)
    assert not securityhub.sim.events.dead_letter()  # every delivery to both endpoints was answered 2xx
    hints = queued(queue)
    cspm_hints, v2_hints = hints[cspm.id], hints[v2.id]
    assert cspm_hints.keys() == {event["id"] for event in cspm_events}
    assert v2_hints.keys() == {event["id"] for event in v2_events}
    asked = v2_hints[v2_events[-1]["id"]]
    assert asked.finding == FindingIdentifier(metadata["uid"], metadata["product"]["uid"])
    assert (asked.priority, asked.source) == (Priority.BY_HAND, HintSource.SECURITYHUB_IMPORTED)
    assert Priority.BY_HAND not in {hint.priority for hint in v2_hints.values() if hint is not asked}


def test_through_an_sqs_target_each_tenant_gets_its_own_security_hubs_events(
    securityhub: SecurityHubSandbox, store: Store, queue: LocalQueue, moto: aws.MotoServer
) -> None:
    sqs = aws.client("sqs", moto.url)
    url = sqs.create_queue(QueueName=f"securityhub-events-{secrets.token_hex(4)}")["QueueUrl"]
    credentials = {"aws_access_key_id": aws.ACCESS_KEY_ID, "aws_secret_access_key": aws.SECRET_ACCESS_KEY}
    securityhub.sim.events.add_sqs_target(url, endpoint_url=moto.url, region=aws.HOME_REGION,
                                          credentials=credentials, detail_types=BOTH)
    cspm, v2 = tenant_on(store, SecurityHubGeneration.CSPM), tenant_on(store, SecurityHubGeneration.V2)
    metadata = both_kinds_of_event(securityhub)
    mover = EventsMover(store, queue, SqsEventSource(url, sqs))

    for _ in range(5):  # SQS may hand the five messages out over several receives
        mover.move_once(wait_seconds=0.5)

    hints = queued(queue)
    assert hints[cspm.id].keys() == {event["id"] for event in emitted(securityhub, IMPORTED)}
    assert hints[v2.id].keys() == {event["id"] for event in emitted(securityhub, IMPORTED_V2)}
    asked = hints[v2.id][emitted(securityhub, IMPORTED_V2)[-1]["id"]]
    assert asked.finding == FindingIdentifier(metadata["uid"], metadata["product"]["uid"])
    assert not securityhub.sim.events.dead_letter()
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages") is None  # every message handled

"""Findings of the new Security Hub for tests of `decide()`: OCSF documents as GetFindingsV2 returns them, read by
the OCSF parser (so the rules meet what the adapter makes of them), as plain values and as hypothesis strategies.

The strategies vary what the parser reads: the class (compliance 2003 with a control, detection 2004, vulnerability
2002), `status_id` and `activity_id` (a Close activity or an Archived status is a closed record), `severity_id`
(Unknown and Other fall back on the label), compliance Pass/Warning/Fail by id or by name, resources named by an ARN
in `uid` or only in `uid_alt`, times in epoch milliseconds and/or as `*_dt` text, and the comment: none, one of
hubsync's naming the ticket, someone's, or a `#jira` request for a ticket.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from hubsync.adapters.securityhub.ocsf import parse_finding
from hubsync.domain.finding import Finding
from hubsync.domain.link import Link
from hubsync.domain.ticket import FindingMarker, Ticket
from tests.unit.domain.domain_values import EVALUATED, KEY
from tests.unit.domain.test_decide_convergence import MOMENTS, TITLES

ACCOUNT = "111122223333"
REGION = "eu-west-1"
METADATA_UID = "7e" * 32
FSBP = "standards/aws-foundational-security-best-practices/v/1.0.0"
CONTROL_TITLE = TITLES[0]

# What BatchUpdateFindingsV2 writes for a workflow (the OCSF `status_id` and its name), as client_v2 maps it.
STATUS_NAMES = {1: "New", 2: "In Progress", 3: "Suppressed", 4: "Resolved", 5: "Archived", 99: "Other"}

# Comments a finding can carry: hubsync's (naming the ticket, or another one), someone's, and requests for a ticket.
HUBSYNC_COMMENTS = (
    f"Tracked in {KEY} (hubsync rule 'high and up')",
    f"Escalated by hand to Jira: tracked in {KEY}",
    "Tracked in SEC-1",
)
OTHER_COMMENTS = ("accepted by the platform team", f"see {KEY}0 for the exception", "{ticket} TICKET_KEY", "")
JIRA_REQUESTS = ("#jira", "#jira please look at this bucket", "  #JIRA urgent", f"#jira {KEY}", "#jira " + "x" * 500)

_PRODUCTS = {
    2003: ("Security Hub", f"arn:aws:securityhub:{REGION}::productv2/aws/securityhub"),
    2004: ("GuardDuty", f"arn:aws:securityhub:{REGION}::productv2/aws/guardduty"),
    2002: ("Inspector", f"arn:aws:securityhub:{REGION}::productv2/aws/inspector"),
}
_BUCKET = {"type": "AWS::S3::Bucket", "uid": "orders-data", "uid_alt": "arn:aws:s3:::orders-data", "region": REGION}
_QUEUE = {"type": "AWS::SQS::Queue", "uid": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/orders",
          "uid_alt": f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders", "region": REGION}
_ROLE = {"type": "AWS::IAM::Role", "uid": f"arn:aws:iam::{ACCOUNT}:role/deploy", "cloud_partition": "aws"}
_INSTANCE = {"type": "AWS::EC2::Instance", "uid": "i-0abc1234", "uid_alt": "not-an-arn", "region": REGION}


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def an_ocsf_finding(**changes: Any) -> dict[str, Any]:
    """A new, failing, High S3.8 control finding of the new Security Hub, modified when `EVALUATED`, no comment.
    `changes` replace top-level keys; `finding_info` and `compliance` may be given as changes merged into them."""
    product_name, product_uid = _PRODUCTS[2003]
    data: dict[str, Any] = {
        "class_uid": 2003, "activity_id": 2, "status_id": 1, "status": "New", "severity_id": 4, "severity": "High",
        "metadata": {"version": "1.6.0", "uid": METADATA_UID,
                     "product": {"name": product_name, "vendor_name": "AWS", "uid": product_uid}},
        "cloud": {"provider": "AWS", "region": REGION, "account": {"uid": ACCOUNT}},
        "finding_info": {
            "uid": f"arn:aws:securityhub:{REGION}:{ACCOUNT}:security-control/S3.8/finding/0f1e",
            "title": CONTROL_TITLE, "created_time_dt": (EVALUATED - timedelta(days=3)).isoformat(),
            "modified_time_dt": EVALUATED.isoformat(), "modified_time": epoch_ms(EVALUATED),
        },
        "compliance": {"control": "S3.8", "status": "Fail", "status_id": 3, "standards": [FSBP]},
        "resources": [_BUCKET],
    }
    for name in ("finding_info", "compliance"):
        if isinstance(changes.get(name), dict):
            changes[name] = {**data[name], **changes[name]}
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def v2_updated(data: dict[str, Any], status_id: int | None, comment: str | None) -> dict[str, Any]:
    """The document after a customer's BatchUpdateFindingsV2 (StatusId with its name, Comment replaced); the
    modified time stays, as Security Hub leaves it."""
    result = dict(data)
    if status_id is not None:
        result.update(status_id=status_id, status=STATUS_NAMES[status_id])
    if comment is not None:
        result["comment"] = comment
    return result


def naming(finding: Finding, ticket: Ticket | None, link: Link | None) -> tuple[Ticket | None, Link | None]:
    """The ticket and link as the service finds them for `finding`: the ticket by its marker, the link by key."""
    if ticket is not None:
        ticket = replace(ticket, marker=FindingMarker(finding.id, finding.product_arn, finding.key))
    if link is not None:
        link = replace(link, finding_key=finding.key, finding_id=finding.id, product_arn=finding.product_arn,
                       secondary_key=finding.secondary_key)
    return ticket, link


# --- strategies --------------------------------------------------------------------------------------------

# A time as the document carries it: milliseconds, text, or both (AWS's own documents carry both, equal).
def _times(prefix: str, moment: datetime) -> st.SearchStrategy[dict[str, Any]]:
    return st.sampled_from([
        {f"{prefix}_time": epoch_ms(moment)},
        {f"{prefix}_time_dt": moment.isoformat()},
        {f"{prefix}_time": epoch_ms(moment), f"{prefix}_time_dt": moment.isoformat().replace("+00:00", "Z")},
    ])


_finding_infos = st.builds(
    lambda title, created, modified, types: {
        "uid": "finding-0f1e", "title": title, **created, **modified, **types,
    },
    st.sampled_from(TITLES),
    st.one_of(st.just({}), _times("created", EVALUATED - timedelta(days=3))),
    st.sampled_from(MOMENTS).flatmap(lambda moment: _times("modified", moment)),
    st.sampled_from([{}, {"types": ["Posture Management"]}]),
)

_control_compliances = st.builds(
    lambda status: {"control": "S3.8", "standards": [FSBP], **status},
    st.sampled_from([
        {"status_id": 1, "status": "Pass"}, {"status_id": 2, "status": "Warning"}, {"status_id": 3, "status": "Fail"},
        {"status": "Pass"}, {"status": "Fail"}, {"status_id": 99, "status": "Warning"}, {"status_id": 0}, {},
    ]),
)
# The workflow by id, by its name when the id says nothing, or neither; a Close activity archives whatever it says.
_statuses = st.sampled_from([
    *({"status_id": status_id, "status": name} for status_id, name in STATUS_NAMES.items()),
    {"status_id": 99, "status": "Archived"}, {"status": "Suppressed"}, {},
])
_activities = st.sampled_from([{"activity_id": 1}, {"activity_id": 2}, {"activity_id": 3}, {}])
_severities = st.sampled_from([
    {"severity_id": 0}, {"severity_id": 1}, {"severity_id": 2}, {"severity_id": 3}, {"severity_id": 4},
    {"severity_id": 5}, {"severity_id": 6}, {"severity_id": 99, "severity": "High"},
    {"severity_id": 0, "vendor_attributes": {"severity_id": 5, "severity": "Critical"}}, {"severity": "Low"},
])

comments = st.one_of(
    st.none(),
    st.sampled_from(HUBSYNC_COMMENTS),
    st.sampled_from(OTHER_COMMENTS),
    st.sampled_from(JIRA_REQUESTS),
)


def _document(class_uid: int) -> st.SearchStrategy[dict[str, Any]]:
    product_name, product_uid = _PRODUCTS[class_uid]
    feature = {} if class_uid == 2003 else {"feature": {"uid": f"{product_name.lower()}-detector"}}

    def document(version: str, info: dict[str, Any], resources: list[dict[str, Any]], compliance: dict[str, Any],
                 status: dict[str, Any], activity: dict[str, Any], severity: dict[str, Any],
                 comment: str | None) -> dict[str, Any]:
        data = {
            "class_uid": class_uid,
            "metadata": {"version": version, "uid": METADATA_UID,
                         "product": {"name": product_name, "vendor_name": "AWS", "uid": product_uid, **feature}},
            "cloud": {"provider": "AWS", "region": REGION, "account": {"uid": ACCOUNT}},
            "finding_info": info, "resources": resources, **status, **activity, **severity,
        }
        if class_uid == 2003:
            data["compliance"] = compliance
        if comment is not None:
            data["comment"] = comment
        return data

    return st.builds(
        document, st.sampled_from(["1.5.0", "1.6.0", "1.9.0"]), _finding_infos,
        st.sampled_from([[_BUCKET], [_QUEUE], [_ROLE], [_INSTANCE], [_QUEUE, _BUCKET]]), _control_compliances,
        _statuses, _activities, _severities, comments,
    )


ocsf_documents = st.one_of(_document(2003), _document(2004), _document(2002))
ocsf_findings = ocsf_documents.map(parse_finding)

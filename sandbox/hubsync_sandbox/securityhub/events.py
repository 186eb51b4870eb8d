"""The EventBridge events Security Hub emits, in the envelope of the user guide's event formats.

One finding per event, always: "Security Hub Findings - Imported" for every BatchImportFindings and
BatchUpdateFindings, "Security Hub Findings - Custom Action" for every finding a console user sends to a custom
action, and Security Hub V2's "Findings Imported V2" for every new or changed OCSF finding.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

IMPORTED = "Security Hub Findings - Imported"
CUSTOM_ACTION = "Security Hub Findings - Custom Action"
IMPORTED_V2 = "Findings Imported V2"
SOURCE = "aws.securityhub"

Event = dict[str, Any]


def imported_event(finding: dict[str, Any], account: str, region: str, now: datetime) -> Event:
    """The event on `account`'s bus in `region`; `resources` holds the finding's Id (its ARN for AWS products)."""
    return _envelope(IMPORTED, account, region, now, [finding["Id"]], {"findings": [finding]})


def imported_v2_event(finding: dict[str, Any], account: str, region: str, now: datetime) -> Event:
    """Security Hub V2's event for a new or updated OCSF finding: `resources` holds its 64-hex `metadata.uid`."""
    return _envelope(IMPORTED_V2, account, region, now, [finding["metadata"]["uid"]], {"findings": [finding]})


def custom_action_event(
    finding: dict[str, Any], action_arn: str, name: str, description: str, account: str, region: str, now: datetime
) -> Event:
    detail = {"actionName": name, "actionDescription": description, "findings": [finding]}
    return _envelope(CUSTOM_ACTION, account, region, now, [action_arn], detail)


def _envelope(
    detail_type: str, account: str, region: str, now: datetime, resources: list[str], detail: dict[str, Any]
) -> Event:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": SOURCE,
        "account": account,
        "time": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": resources,
        "detail": detail,
    }

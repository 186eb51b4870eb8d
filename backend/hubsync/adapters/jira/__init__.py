"""The Jira adapter: `JiraClient` implements the service's `JiraPort` for Jira Cloud (REST v3) and Data Center
(REST v2), authenticated by an API token, a personal access token or a Connect JWT."""

from hubsync.adapters.jira.auth import ApiToken, ConnectJwt, PersonalAccessToken
from hubsync.adapters.jira.client import JiraClient
from hubsync.adapters.jira.dialect import Flavour
from hubsync.adapters.jira.moves import TicketMoved
from hubsync.adapters.jira.transport import JiraError

__all__ = [
    "ApiToken",
    "ConnectJwt",
    "Flavour",
    "JiraClient",
    "JiraError",
    "PersonalAccessToken",
    "TicketMoved",
]

"""The Security Hub adapter: `SecurityHubClient` implements the domain's `SecurityHubPort` over boto3 (`client`), and
`asff` reads Security Hub's wire format, ASFF, into the domain's `Finding` (its `ASFF` is a `FindingParser`)."""

from hubsync.adapters.securityhub.asff import ASFF, AsffParser
from hubsync.adapters.securityhub.client import SecurityHubClient, sort_unprocessed

__all__ = ["ASFF", "AsffParser", "SecurityHubClient", "sort_unprocessed"]

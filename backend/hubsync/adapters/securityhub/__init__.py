"""The Security Hub adapter: `SecurityHubClient` implements the domain's `SecurityHubPort` over boto3 (`client`), as
`SecurityHubV2Client` does over the new Security Hub's V2 operations (`client_v2`), and
`asff` and `ocsf` read Security Hub's wire formats (ASFF for Security Hub CSPM, OCSF for the new Security Hub) into
the domain's `Finding` (anti-corruption layers, each a `parse_finding`)."""

from hubsync.adapters.securityhub.client import SecurityHubClient, sort_unprocessed
from hubsync.adapters.securityhub.client_v2 import SecurityHubV2Client

__all__ = ["SecurityHubClient", "SecurityHubV2Client", "sort_unprocessed"]

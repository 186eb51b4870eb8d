"""The Security Hub adapter: `SecurityHubClient` implements the domain's `SecurityHubPort` over boto3 (`client`), and
`asff` and `ocsf` read Security Hub's wire formats (ASFF for Security Hub CSPM, OCSF for the new Security Hub) into
the domain's `Finding` (anti-corruption layers, each a `parse_finding`)."""

from hubsync.adapters.securityhub.client import SecurityHubClient, sort_unprocessed

__all__ = ["SecurityHubClient", "sort_unprocessed"]

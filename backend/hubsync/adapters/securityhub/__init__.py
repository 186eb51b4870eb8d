"""The Security Hub adapter: `SecurityHubClient` implements the domain's `SecurityHubPort` over boto3 (`client`), and
`asff` reads Security Hub's wire format, ASFF, into the domain's `Finding` (an anti-corruption layer)."""

from hubsync.adapters.securityhub.client import SecurityHubClient, sort_unprocessed

__all__ = ["SecurityHubClient", "sort_unprocessed"]

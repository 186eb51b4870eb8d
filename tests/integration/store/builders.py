"""Values the store tests build their cases from."""

from __future__ import annotations

from hubsync.adapters.store import Store
from hubsync.domain.finding import FindingIdentifier
from hubsync.domain.tenant import AuthMode, JiraFlavour, Tenant

TEST_SECRET_KEY = "test-secret-key-for-the-store-tests-0123456789"


def make_tenant(store: Store, name: str = "Example Corp") -> Tenant:
    with store.transaction() as uow:
        return uow.tenants.create(
            name=name,
            jira_base_url="https://example.atlassian.net",
            jira_flavour=JiraFlavour.CLOUD,
            auth_mode=AuthMode.API_TOKEN,
            jira_user="hubsync-bot@example.com",
            jira_secret="api-token-for-example-corp",
        )


def finding(number: int, product: str = "securityhub") -> FindingIdentifier:
    """A finding identifier as Security Hub writes them."""
    return FindingIdentifier(
        id=f"arn:aws:securityhub:eu-west-1:111122223333:subscription/aws-foundational-security-best-practices/v/1.0.0/S3.8/finding/{number:08d}",
        product_arn=f"arn:aws:securityhub:eu-west-1::product/aws/{product}",
    )

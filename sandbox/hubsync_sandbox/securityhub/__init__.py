"""A Security Hub CSPM simulator speaking REST-JSON, so boto3 with `endpoint_url` uses it unchanged.

    sim = SecurityHubSimulator(admin_account_id="111111111111", member_account_ids=["222222222222"],
                               regions=["us-east-1", "eu-west-1"], aggregation_region="us-east-1")
    app = sim.wsgi_app                      # or create_securityhub_app(sim)
    sim.events.add_http_target(url, header_name="x-api-key", header_value="...")
    sim.events.add_sqs_target(queue_url, endpoint_url=..., region=..., credentials={...})
    sim.events.flush(timeout=5); sim.events.stop()
"""

from hubsync_sandbox.securityhub.app import create_securityhub_app
from hubsync_sandbox.securityhub.simulator import Caller, SecurityHubSimulator

__all__ = ["Caller", "SecurityHubSimulator", "create_securityhub_app"]

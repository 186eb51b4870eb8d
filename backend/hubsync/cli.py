"""The `hubsync` command. Entry points only parse arguments and hand over."""

from __future__ import annotations

import argparse
import getpass
import importlib.util
import os
import shlex
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from hubsync.config import ConfigError, Settings

if TYPE_CHECKING:
    from hubsync.bootstrap import Runtime


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("hubsync: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`hubsync reconcile | head`): stop quietly, as a pipe's writer does
        _silence_stdout()
        return 141
    except Exception as exc:  # the one error boundary: a line and an exit status, the traceback only when asked
        if args.debug:
            raise
        line, status = _failure(exc)
        print(f"hubsync: {line}", file=sys.stderr)
        return status


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's last flush has nowhere to fail."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _failure(exc: Exception) -> tuple[str, int]:
    """What a failed command prints (one line) and its exit status: 2 when the environment or the
    input is wrong, 1 when a side (the database, Jira, AWS) failed or for an unexpected error, which names itself
    and points at --debug."""
    from sqlalchemy.exc import ArgumentError, InterfaceError, NoSuchModuleError, OperationalError

    from hubsync.domain.jira_webhook import WebhookAdminRefused, WebhookNotApplied, WebhookNotRegistrable
    from hubsync.domain.ports import (
        CustomActionFailed,
        JiraUnavailable,
        QueueMisconfigured,
        QueueUnavailable,
        SecurityHubUnavailable,
        WorkflowAdminRefused,
    )
    from hubsync.domain.tenant import SecretsUnreadable, TenantNotFound, TenantNotReady, TenantWaiting
    from hubsync.service.commands import NoSingleTenant
    from hubsync.service.project_check import CannotCheckProject
    from hubsync.service.settings import InvalidSettings
    from hubsync.service.tenant_admin import TenantAdminRefused

    wrong_input = (ConfigError, NoSingleTenant, TenantAdminRefused, InvalidSettings, TenantNotReady,
                   QueueMisconfigured, WebhookNotRegistrable, SecretsUnreadable)
    side_failed = (TenantWaiting, JiraUnavailable, SecurityHubUnavailable, CustomActionFailed, CannotCheckProject,
                   QueueUnavailable, WorkflowAdminRefused, WebhookAdminRefused, WebhookNotApplied)
    if isinstance(exc, wrong_input):
        line, status = str(exc), 2
    elif isinstance(exc, TenantNotFound):
        line, status = f"no tenant {exc} (`hubsync tenant list` shows them)", 2
    elif isinstance(exc, side_failed):
        line, status = str(exc), 1
    elif isinstance(exc, ArgumentError | NoSuchModuleError):
        line, status = f"HUBSYNC_DATABASE_URL cannot be used: {exc}", 2
    elif isinstance(exc, OperationalError | InterfaceError):
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
        line, status = f"the database (HUBSYNC_DATABASE_URL) cannot be reached: {reason}", 1
    else:
        line, status = (f"unexpected error, {type(exc).__name__}: {exc} (run `hubsync --debug ...` for the "
                        "traceback)"), 1
    return " ".join(line.split()), status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hubsync", description="Keep AWS Security Hub findings and Jira issues in step, both ways."
    )
    parser.add_argument("--debug", action="store_true", help="on an error, print its Python traceback too")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    sandbox = commands.add_parser(
        "sandbox",
        help="run Jira, Security Hub and moto stand-ins on this machine",
        description="Start the embedded sandbox on loopback ports and print the endpoints and an environment "
        "block; Ctrl-C stops it.",
    )
    sandbox.add_argument("--no-seed", action="store_true", help="start empty: no seeded findings")
    sandbox.add_argument("--env-file", type=Path, help="also write the environment block to this file")
    _jira_version_option(sandbox)
    sandbox.set_defaults(handler=_run_sandbox)

    demo = commands.add_parser(
        "demo",
        help="run the whole mission on the sandbox and check every scenario",
        description="Start the sandbox, install hubsync into the simulated Jira Cloud as an app (a Forge app by "
        "default, or a Connect app; Data Center: a tenant with a PAT and hubsync's admin webhook), onboard the "
        "findings the rules escalate, then play the mission's scenarios through Jira's and Security Hub's events and "
        "print whether each converged. "
        "Without --once it keeps running: open the printed issue page, move the ticket and watch the finding follow.",
    )
    demo.add_argument("--once", action="store_true", help="exit after the scenario table (0 only if all ok)")
    demo.add_argument("--flavour", choices=["cloud", "datacenter"], default="cloud", help="Jira flavour to use")
    demo.add_argument(
        "--platform", choices=["forge", "connect"], default=None,
        help="Jira Cloud: how hubsync is installed: forge (default; Forge's events and invocations) or connect "
        "(Connect webhooks); not for --flavour datacenter, which has no apps",
    )
    demo.add_argument(
        "--securityhub", choices=["cspm", "v2"], default="cspm",
        help="the Security Hub the tenant syncs with: cspm (Security Hub CSPM, ASFF; default) or v2 (the new Security "
        "Hub, OCSF; findings are sent to Jira by hand with a comment starting #jira instead of a custom action)",
    )
    _jira_version_option(demo)
    demo.set_defaults(handler=_run_demo)

    reconcile = commands.add_parser(
        "reconcile",
        help="converge every finding and ticket of one tenant or all",
        description="Escalate the findings the rules select and sync every linked pair, paging both sides.",
    )
    reconcile.add_argument("--tenant", help="tenant id or name (default: every enabled tenant)")
    reconcile.add_argument("--dry-run", action="store_true", help="print the plan as a table; change nothing")
    reconcile.set_defaults(handler=_run_reconcile)

    serve = commands.add_parser(
        "serve",
        help="run the web app (Connect app, iframe API, event intake) with gunicorn",
        description="Serve the web app. Needs HUBSYNC_BASE_URL (where Jira reaches it) and HUBSYNC_SECRET_KEY; "
        "the database comes from HUBSYNC_DATABASE_URL. Put TLS in front of it (a load balancer or proxy).",
    )
    serve.add_argument("--bind", default="127.0.0.1:8080", help="address:port to listen on (default 127.0.0.1:8080)")
    serve.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    serve.set_defaults(handler=_run_serve)

    worker = commands.add_parser(
        "worker",
        help="sync the queued hints (events), and reconcile every tenant on an interval",
        description="Take hints off the queue (HUBSYNC_QUEUE_URL: an SQS FIFO queue; empty: the local queue in the "
        "database) and sync them; move raw events from HUBSYNC_EVENTS_QUEUE_URL (an EventBridge rule's SQS target) "
        "onto it; reconcile every tenant on an interval. Run as many as you like (PostgreSQL or SQS to share work "
        "between machines). SIGTERM or Ctrl-C stops it after the batch under way.",
    )
    worker.add_argument("--concurrency", type=int, default=4, help="threads taking hints (default 4)")
    worker.add_argument("--reconcile-interval", type=float, default=900.0,
                        help="seconds between reconciles of every tenant, shared by all workers; 0: none (default 900)")
    worker.add_argument("--metrics-bind", metavar="ADDRESS:PORT",
                        help="serve this worker's Prometheus metrics at http://ADDRESS:PORT/metrics (default: off)")
    worker.set_defaults(handler=_run_worker)

    aws = commands.add_parser("aws", help="set up the AWS side of a tenant")
    aws_commands = aws.add_subparsers(title="aws commands", metavar="ACTION")
    setup_action = aws_commands.add_parser(
        "setup-action",
        help='create the Security Hub custom action "Send to Jira" and print the EventBridge rule that routes it',
        description="Through each tenant's Security Hub role, create its custom action (once: an existing one is "
        "reused), then print the EventBridge rule pattern and API destination that send its events to hubsync.",
    )
    setup_action.add_argument("--tenant", help="tenant id or name (default: every enabled tenant)")
    setup_action.set_defaults(handler=_run_setup_action)

    descriptor = commands.add_parser(
        "descriptor",
        help="print the Atlassian Connect descriptor for HUBSYNC_BASE_URL",
        description="Print the descriptor Jira installs hubsync from (also served at /atlassian-connect.json).",
    )
    descriptor.set_defaults(handler=_run_descriptor)

    forge = commands.add_parser("forge", help="the Forge app (Jira Cloud installs since 30 March 2026)")
    forge_commands = forge.add_subparsers(title="forge commands", metavar="ACTION")
    forge_manifest = forge_commands.add_parser(
        "manifest",
        help="print the Forge manifest for HUBSYNC_FORGE_APP_ID and HUBSYNC_BASE_URL, or write the app directory",
        description="Render connect-descriptor/forge/manifest.yml with the app id (HUBSYNC_FORGE_APP_ID) and the "
        "remote's base URL (HUBSYNC_BASE_URL). With --out DIR, write the app `forge deploy` takes: DIR/manifest.yml "
        "and DIR/resources/ (the Custom UI that `make forge-ui` built).",
    )
    forge_manifest.add_argument("--out", type=Path, metavar="DIR", help="write the Forge app directory here")
    forge_manifest.set_defaults(handler=_run_forge_manifest)

    jira = commands.add_parser("jira", help="set up and check the Jira side of a tenant (workflow, project)")
    jira_commands = jira.add_subparsers(title="jira commands", metavar="ACTION")
    # Each `jira` action adds its parser here, one block per action.
    setup_workflow = jira_commands.add_parser(
        "setup-workflow",
        help="set up hubsync's risk workflow on a Jira Cloud project (API-token administrator or Forge tenant)",
        description="Create the risk workflow's missing statuses, validate and create the workflow, give the project "
        "a workflow scheme of its own and switch the project onto it, moving its issues' statuses. Reuses what "
        "exists; a second run says \"already set up\" and changes nothing. A Connect tenant gets the manual steps; "
        "Data Center: `hubsync jira workflow-xml`.",
    )
    setup_workflow.add_argument("--tenant", help="tenant id or name (default: the only enabled tenant)")
    setup_workflow.add_argument("--project", help="project key (default: the project of the tenant's policy)")
    setup_workflow.add_argument("--dry-run", action="store_true", help="print each step it would take; change nothing")
    setup_workflow.set_defaults(handler=_run_jira_setup_workflow)
    workflow_xml = jira_commands.add_parser(
        "workflow-xml",
        help="print the risk workflow as the XML Jira Data Center imports (its statuses and resolutions must exist)",
        description="Read the Data Center tenant's statuses and print the risk workflow as OSWorkflow XML for "
        "Administration > Issues > Workflows > Import from XML, with the site's status ids; transitions into a done "
        "status set a resolution of the site (Fixed or Done for a fixed finding, else Won't Fix, Won't Do or Done), "
        "transitions out of one clear it. A status or resolution the site lacks is listed instead, for an admin to "
        "create first: Data Center's REST API creates neither statuses nor workflows. Messages go to stderr, so "
        "`hubsync jira workflow-xml > risk.xml` works.",
    )
    workflow_xml.add_argument("--tenant", help="tenant id or name (default: the only enabled Data Center tenant)")
    workflow_xml.add_argument("--out", type=Path, metavar="FILE", help="write the XML here instead of stdout")
    workflow_xml.set_defaults(handler=_run_workflow_xml)
    check = jira_commands.add_parser(
        "check",
        help="check that each tenant's policy can work in its Jira project (fields, statuses, workflow, priorities)",
        description="Read what Jira says of the policy's project (create metadata, statuses, the workflow where Jira "
        "shows it, priorities, the default assignee) and print each item: ✓ ok, ✗ failed with how to fix it, ? "
        "not shown to hubsync (check by hand). Exit status 0 when nothing failed, 1 when an item failed, 2 when a "
        "tenant could not be checked (no policy, Jira not answering).",
    )
    check.add_argument("--tenant", help="tenant id or name (default: every enabled tenant)")
    check.set_defaults(handler=_run_jira_check)

    tenant = commands.add_parser(
        "tenant",
        help="add, show, change and remove tenants: the configure page of a Data Center or API-token site",
        description="Manage the tenants in hubsync's database. On Data Center (and Cloud with an API token) this "
        "is the configure page: every change is validated as that page validates it, and audited.",
    )
    tenant_commands = tenant.add_subparsers(title="tenant commands", metavar="ACTION")
    add = tenant_commands.add_parser(
        "add",
        help="add a tenant; the Jira secret is read from HUBSYNC_JIRA_SECRET or asked for",
        description="Add a tenant. The Jira API token, PAT or password is never taken on the command line: set "
        "HUBSYNC_JIRA_SECRET or type it when asked. Prints the ExternalId your IAM roles must require.",
    )
    add.add_argument("--name", required=True)
    add.add_argument("--jira-url", required=True, help="the site's base URL, e.g. https://acme.atlassian.net")
    add.add_argument("--flavour", choices=["cloud", "datacenter"], required=True)
    add.add_argument("--auth", choices=["api-token", "pat", "basic"], help="default: api-token on Cloud, pat on DC")
    add.add_argument("--jira-user", help="Cloud: the account's email; basic auth: the user name")
    add.add_argument("--role-arn", required=True, help="the role hubsync assumes in the Security Hub admin account")
    add.add_argument("--organizations-role-arn", help="a role in the management account, to read owner tags")
    add.add_argument("--region", required=True, help="the Security Hub aggregation Region")
    add.add_argument("--securityhub", choices=["cspm", "v2"], default="cspm",
                     help="which Security Hub to sync with: cspm (Security Hub CSPM, ASFF findings; the default), or "
                     "v2 (the new Security Hub, OCSF findings) once hubsync syncs with it")
    add.add_argument("--policy", type=Path, required=True, help="the policy JSON file (project, rules, mappings)")
    add.add_argument("--external-id", help="reuse an ExternalId your roles already require (default: generate)")
    add.set_defaults(handler=_run_tenant_add)
    listing = tenant_commands.add_parser("list", help="list tenants")
    listing.set_defaults(handler=_run_tenant_list)
    which = "tenant id or name (default: the only tenant there is)"
    show = tenant_commands.add_parser(
        "show", help="print a tenant's settings as its configure page shows them (secrets only as set or not set)")
    show.add_argument("--tenant", help=which)
    show.set_defaults(handler=_run_tenant_show)
    update = tenant_commands.add_parser(
        "update",
        help="change a tenant's policy, AWS roles, Region, Security Hub or Jira secret",
        description="Change what the flags name and keep the rest. Validated as the configure page validates a save: "
        "the settings, the project check when the policy's project or issue type changes (Jira is asked), and the "
        "number of tickets new rules would create (above HUBSYNC_ONBOARDING_CONFIRM_ABOVE, confirm with "
        "--confirm-large-onboarding). Nothing is stored when anything is refused; the change is audited. The Jira "
        "secret is never taken on the command line.",
    )
    update.add_argument("--tenant", help=which)
    update.add_argument("--policy", type=Path, metavar="FILE", help="the policy JSON file (replaces the saved one)")
    update.add_argument("--role-arn", metavar="ARN", help="the role hubsync assumes in the Security Hub admin account")
    update.add_argument("--organizations-role-arn", metavar="ARN",
                        help="the role in the management account that reads owner tags ('' removes it)")
    update.add_argument("--region", help="the Security Hub aggregation Region")
    update.add_argument("--securityhub", choices=["cspm", "v2"], help="which Security Hub to sync with")
    secret = update.add_mutually_exclusive_group()
    secret.add_argument("--jira-secret-from-env", action="store_true",
                        help="replace the Jira token, PAT or password with HUBSYNC_JIRA_SECRET")
    secret.add_argument("--jira-secret-stdin", action="store_true",
                        help="replace the Jira token, PAT or password with the first line of standard input (asked "
                        "for without echo at a terminal)")
    update.add_argument("--confirm-large-onboarding", action="store_true",
                        help="save rules even if they would create more tickets than HUBSYNC_ONBOARDING_CONFIRM_ABOVE")
    update.set_defaults(handler=_run_tenant_update)
    rotate = tenant_commands.add_parser(
        "rotate-events-key",
        help="make a new EventBridge API key for the tenant's events URL (the old one works 24 more hours)",
    )
    rotate.add_argument("--tenant", help=which)
    rotate.set_defaults(handler=_run_tenant_rotate_events_key)
    disable = tenant_commands.add_parser(
        "disable", help="stop syncing a tenant and refuse its events; settings, links and audit are kept")
    disable.add_argument("--tenant", help=which)
    disable.set_defaults(handler=_run_tenant_disable)
    enable = tenant_commands.add_parser("enable", help="sync a disabled tenant again")
    enable.add_argument("--tenant", help=which)
    enable.set_defaults(handler=_run_tenant_enable)
    remove = tenant_commands.add_parser(
        "remove",
        help="delete a tenant with its links, audit and queued hints (asks first; Jira and Security Hub untouched)",
    )
    remove.add_argument("--tenant", help=which)
    remove.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    remove.set_defaults(handler=_run_tenant_remove)
    webhook = tenant_commands.add_parser(
        "webhook",
        help="check (default), register or remove hubsync's Jira webhook on the tenant's site, rotate its URL token, "
        "or print how to create it by hand",
        description="hubsync's admin webhook on a Data Center or API-token Cloud site: issue updated and deleted, "
        "filtered by JQL to hubsync's tickets, delivered to HUBSYNC_BASE_URL/webhooks/jira/<tenant id> (signed on "
        "Cloud and Data Center 10+, with a token in the URL on Data Center 9). Registering is idempotent. Jira "
        "allows it to administrators only: the tenant's own credentials are used unless --admin-secret-stdin "
        "gives an administrator's for this command (never stored). --check exits 1 when the webhook is missing or "
        "differs.",
    )
    webhook.add_argument("--tenant", help=which)
    webhook_action = webhook.add_mutually_exclusive_group()
    for flag, what in (("--check", "say whether it is registered as wanted (the default)"),
                       ("--register", "create it, or put it right"), ("--remove", "delete it from the site"),
                       ("--rotate-token", "Data Center 9: a new URL token (the old one works 24 more hours)"),
                       ("--manual", "without an administrator's token: make its secret or URL token and print what "
                        "an administrator types into Jira's WebHooks page")):
        webhook_action.add_argument(flag, dest="webhook_action", action="store_const", const=flag[2:], help=what)
    webhook.add_argument("--admin-secret-stdin", action="store_true",
                         help="read a Jira administrator's PAT (or, with --admin-user, API token or password) from "
                         "standard input, for this command only")
    webhook.add_argument("--admin-user", help="the administrator's email (Cloud) or user name (Data Center, basic)")
    webhook.set_defaults(handler=_run_tenant_webhook, webhook_action="check")
    return parser


SANDBOX_MISSING = ("the sandbox is not installed: it is a distribution of its own, beside the product. From a "
                   "checkout: `make install` (or `.venv/bin/pip install -e ./sandbox`)")


def _jira_version_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--jira-version", metavar="MAJOR.MINOR.REVISION", type=_jira_version,
        help="the version the Data Center simulator reports (default 10.3.6, whose admin webhook signs its "
        "deliveries; a 9.x site carries a token in the webhook's URL instead)",
    )


def _jira_version(value: str) -> str:
    """A Jira Data Center version as serverInfo reports it: MAJOR.MINOR.REVISION."""
    parts = value.split(".")
    if len(parts) != 3 or not all(part.isascii() and part.isdigit() for part in parts):
        raise argparse.ArgumentTypeError(f"{value!r} is not MAJOR.MINOR.REVISION, e.g. 9.12.0")
    return value


def _sandbox_installed() -> bool:
    """The sandbox loads only when asked for; the product's wheel and image do not carry it."""
    return importlib.util.find_spec("hubsync_sandbox") is not None


def _run_sandbox(args: argparse.Namespace) -> int:
    if not _sandbox_installed():
        print(f"hubsync sandbox: {SANDBOX_MISSING}", file=sys.stderr)
        return 2
    from hubsync_sandbox.runner import Sandbox

    stop = threading.Event()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C, or a service manager's stop
        signal.signal(stop_signal, lambda *_: stop.set())
    print("Starting the sandbox ...", flush=True)
    sandbox = Sandbox(seed_findings=not args.no_seed, jira_dc_version=args.jira_version).start()
    try:
        env_block = "\n".join(f"export {name}={shlex.quote(value)}" for name, value in sandbox.environment().items())
        print(sandbox.summary())
        print("\nEnvironment (paste into a shell, or `source` the --env-file):\n")
        print(env_block)
        if args.env_file:
            args.env_file.write_text(env_block + "\n")
            print(f"\n(also written to {args.env_file})")
        print("\nPress Ctrl-C to stop.", flush=True)
        stop.wait()
    finally:
        print("\nStopping the sandbox ...", flush=True)
        sandbox.stop()
        print("Stopped.", flush=True)
    return 0


def _run_demo(args: argparse.Namespace) -> int:
    if args.flavour == "datacenter" and args.platform is not None:
        print("hubsync demo: --platform is for Jira Cloud only: Data Center has no Forge or Connect apps (the demo "
              "configures a tenant with a PAT there); leave --platform out with --flavour datacenter", file=sys.stderr)
        return 2
    if args.flavour == "cloud" and args.jira_version is not None:
        print("hubsync demo: --jira-version is for Data Center only: Jira Cloud has no version to choose; use it "
              "with --flavour datacenter", file=sys.stderr)
        return 2
    if not _sandbox_installed():
        print(f"hubsync demo: {SANDBOX_MISSING}", file=sys.stderr)
        return 2
    from hubsync_sandbox.demo import DemoPlatform, running_demo, scenario_table

    stop = threading.Event()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, lambda *_: stop.set())
    # Cloud: an app; Data Center: a PAT, and the admin webhook that tells hubsync of Jira's changes
    platform: DemoPlatform = "webhook" if args.flavour == "datacenter" else args.platform or "forge"
    how = f"installing hubsync into Jira as a {platform.capitalize()} app" if platform != "webhook" else (
        "configuring a tenant with a PAT and hubsync's admin webhook")
    print(f"Starting the sandbox ({args.flavour}, Security Hub {args.securityhub}) and {how} ...", flush=True)
    with running_demo(flavour=args.flavour, say=lambda line: print(line, flush=True), platform=platform,
                      securityhub=args.securityhub, jira_version=args.jira_version) as demo:
        demo.onboard()
        results = demo.run_scenarios()
        print()
        print(scenario_table(results))
        failed = [r for r in results if not r.ok]
        print(f"\n{len(results) - len(failed)} of {len(results)} scenarios converged.", flush=True)
        if args.once:
            return 1 if failed else 0
        print(demo.where_to_look(), flush=True)
        while not stop.wait(1.0):  # hubsync's worker reacts to what people change; the demo only waits
            pass
    print("Stopped.")
    return 1 if failed else 0


def _run_tenant_add(args: argparse.Namespace) -> int:
    from hubsync.bootstrap import jira_admin_webhooks
    from hubsync.service.commands import add_tenant

    with _runtime() as runtime:
        return add_tenant(runtime.store, args, secret=runtime.settings.jira_secret, out=print,
                          webhooks_of=jira_admin_webhooks, base_url=runtime.settings.base_url)


def _run_tenant_list(args: argparse.Namespace) -> int:
    from hubsync.service.commands import list_tenants

    with _runtime() as runtime:
        return list_tenants(runtime.store, out=print)


def _run_tenant_show(args: argparse.Namespace) -> int:
    from hubsync.service.tenant_admin import show_tenant

    with _runtime() as runtime:
        return show_tenant(runtime.store, args.tenant, runtime.settings.base_url, out=print)


def _run_tenant_update(args: argparse.Namespace) -> int:
    from hubsync.service.tenant_admin import Remote, TenantAdminRefused, TenantUpdate, update_tenant

    with _runtime() as runtime:
        secret = None
        if args.jira_secret_from_env:
            secret = runtime.settings.jira_secret
            if secret is None:
                raise TenantAdminRefused("--jira-secret-from-env: HUBSYNC_JIRA_SECRET is not set")
        elif args.jira_secret_stdin:
            secret = _secret_from_stdin("Jira secret (token, PAT or password): ")
        change = TenantUpdate(
            policy_file=args.policy, role_arn=args.role_arn, organizations_role_arn=args.organizations_role_arn,
            region=args.region, securityhub=args.securityhub, jira_secret=secret,
            confirm_large_onboarding=args.confirm_large_onboarding,
        )
        tenants = runtime.tenants
        remote = Remote(tenants.projects, tenants.jira, tenants.securityhub, runtime.settings.onboarding_confirm_above)
        return update_tenant(runtime.store, remote, args.tenant, change, out=print)


def _run_tenant_rotate_events_key(args: argparse.Namespace) -> int:
    from hubsync.service.tenant_admin import rotate_events_key

    with _runtime() as runtime:
        return rotate_events_key(runtime.store, args.tenant, runtime.settings.base_url, out=print)


def _run_tenant_disable(args: argparse.Namespace) -> int:
    from hubsync.service.tenant_admin import set_enabled

    with _runtime() as runtime:
        return set_enabled(runtime.store, args.tenant, False, out=print)


def _run_tenant_enable(args: argparse.Namespace) -> int:
    from hubsync.service.tenant_admin import set_enabled

    with _runtime() as runtime:
        return set_enabled(runtime.store, args.tenant, True, out=print)


def _run_tenant_remove(args: argparse.Namespace) -> int:
    from hubsync.service.tenant_admin import removal_summary, remove_tenant

    with _runtime() as runtime:
        tenant, summary = removal_summary(runtime.store, args.tenant)
        print(summary)
        if not args.yes and not _confirmed(f"type the tenant's name ({tenant.name}) to remove it: ", tenant.name):
            print("not removed (--yes removes without asking)", file=sys.stderr)
            return 1
        return remove_tenant(runtime.store, tenant, out=print)


def _run_tenant_webhook(args: argparse.Namespace) -> int:
    from hubsync.bootstrap import jira_admin_webhooks
    from hubsync.service.tenant_admin import AdminCredentials, TenantAdminRefused, WebhookAction, webhook_command

    admin = None
    if args.admin_secret_stdin:
        admin = AdminCredentials(_secret_from_stdin("Jira administrator's token, PAT or password: "), args.admin_user)
        if not admin.secret:
            raise TenantAdminRefused("--admin-secret-stdin: no secret on standard input")
    elif args.admin_user:
        raise TenantAdminRefused("--admin-user goes with --admin-secret-stdin")
    with _runtime() as runtime:
        return webhook_command(runtime.store, args.tenant, WebhookAction(args.webhook_action), jira_admin_webhooks,
                               runtime.settings.base_url, out=print, admin=admin)


def _secret_from_stdin(prompt: str) -> str:
    """A secret typed at a terminal without echo, or the first line piped in."""
    return getpass.getpass(prompt) if sys.stdin.isatty() else sys.stdin.readline().strip()


def _confirmed(prompt: str, expected: str) -> bool:
    """Whether the person at the terminal typed `expected`; no terminal (end of input) is a no."""
    try:
        return input(prompt).strip() == expected
    except EOFError:
        print(file=sys.stderr)
        return False


def _run_reconcile(args: argparse.Namespace) -> int:
    from hubsync.service.commands import reconcile_tenants

    with _runtime() as runtime:
        return reconcile_tenants(runtime.store, runtime.tenants.sync_context, tenant=args.tenant,
                                 dry_run=args.dry_run, out=print)


@contextmanager
def _runtime() -> Iterator[Runtime]:
    """The runtime `bootstrap` builds from the environment, closed when the command ends."""
    from hubsync.bootstrap import bootstrap

    runtime = bootstrap()
    try:
        yield runtime
    finally:
        runtime.close()


def _run_serve(args: argparse.Namespace) -> int:
    settings = Settings.from_environment()
    _configure_logging(settings)
    with _metrics_directory(args.workers, settings):  # before anything imports prometheus_client
        from hubsync.web.server import serve

        serve(args.bind, args.workers, settings)
    return 0


def _run_worker(args: argparse.Namespace) -> int:
    settings = Settings.from_environment()
    _configure_logging(settings)
    stop = threading.Event()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, lambda *_: stop.set())
    return run_worker(settings, concurrency=max(1, args.concurrency), reconcile_interval=args.reconcile_interval,
                      stop=stop, out=lambda line: print(line, flush=True), metrics_bind=args.metrics_bind)


def run_worker(
    settings: Settings,
    *,
    concurrency: int,
    reconcile_interval: float,
    stop: threading.Event,
    out: Callable[[str], None],
    metrics_bind: str | None = None,
) -> int:
    """`hubsync worker` until `stop` is set: the runtime from `settings`, its store's pool sized for `concurrency`
    syncs; `metrics_bind` (ADDRESS:PORT) serves this worker's metrics, its queue's gauges included."""
    from datetime import timedelta

    from hubsync import metrics
    from hubsync.bootstrap import bootstrap, build_worker
    from hubsync.domain.ports import QueueMisconfigured, QueueUnavailable
    from hubsync.service.worker import WorkerSettings, outage_window, pool_size_for

    host, _, port = (metrics_bind or "").rpartition(":")
    if metrics_bind and not port.isdigit():
        out(f"hubsync worker cannot start: --metrics-bind {metrics_bind!r} is not ADDRESS:PORT")
        return 2
    runtime = bootstrap(settings, pool_size=pool_size_for(concurrency))
    try:
        max_attempts = runtime.queue.max_attempts  # an SQS queue without a redrive policy is refused now
    except (QueueMisconfigured, QueueUnavailable) as exc:
        out(f"hubsync worker cannot start: {exc}")
        runtime.close()
        return 2
    longer = settings.webhook_reconcile_interval
    worker_settings = WorkerSettings(
        concurrency=concurrency,
        reconcile_interval=timedelta(seconds=reconcile_interval) if reconcile_interval > 0 else None,
        webhook_reconcile_interval=timedelta(seconds=longer) if longer > 0 else None,
    )
    worker = build_worker(runtime, worker_settings)
    queue, events = runtime.queue, worker.events
    where = getattr(queue, "queue_url", "the local queue (database)")
    window = outage_window(max_attempts, worker_settings) if queue.counts_every_receive else None
    out(f"hubsync worker: {concurrency} threads on {where}"
        + (f", events from {events.queue_url}" if events else "")
        + (f", reconciling every tenant every {reconcile_interval:g}s"
           + (f" ({longer}s while its Jira webhook works)" if longer > reconcile_interval else "")
           if worker_settings.reconcile_interval else "")
        + (f"; hints survive an outage of {window.total_seconds() / 3600:.1f} h (maxReceiveCount {max_attempts})"
           if window is not None else ""))
    server = None
    if metrics_bind:
        server = metrics.serve_metrics(host or "127.0.0.1", int(port), queue=queue, token=settings.metrics_token,
                                       multiprocess_dir=settings.metrics_multiprocess_dir)
        bound_host, bound_port = server.server_address[:2]
        assert isinstance(bound_host, str)  # an IP socket's address: bytes are for other address families
        out(f"hubsync worker: metrics at http://{bound_host}:{bound_port}/metrics")
    try:
        worker.run(stop)
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
        runtime.close()
    out("hubsync worker stopped.")
    return 0


def _run_setup_action(args: argparse.Namespace) -> int:
    from hubsync.service.custom_action import setup_action_command

    with _runtime() as runtime:
        return setup_action_command(runtime.store, runtime.aws, tenant=args.tenant,
                                    base_url=runtime.settings.base_url, out=print)


def _run_jira_setup_workflow(args: argparse.Namespace) -> int:
    from hubsync.service.workflow_setup import setup_workflow_command

    with _runtime() as runtime:
        return setup_workflow_command(runtime.store, runtime.tenants.workflow_admin, tenant=args.tenant,
                                      project=args.project, dry_run=args.dry_run, out=print,
                                      err=lambda line: print(line, file=sys.stderr))


def _run_workflow_xml(args: argparse.Namespace) -> int:
    from hubsync.bootstrap import jira_site_resolutions, jira_site_statuses, render_workflow_xml
    from hubsync.service.workflow_xml import workflow_xml_command

    written: list[str] = []
    with _runtime() as runtime:
        status = workflow_xml_command(runtime.store, jira_site_statuses, jira_site_resolutions, render_workflow_xml,
                                      tenant=args.tenant, out=written.append,
                                      say=lambda line: print(line, file=sys.stderr))
    for xml in written:
        if args.out is None:
            sys.stdout.write(xml)
        else:
            args.out.write_text(xml, encoding="utf-8")
            print(f"written to {args.out}", file=sys.stderr)
    return status


def _run_jira_check(args: argparse.Namespace) -> int:
    from hubsync.service.project_check import check_tenants_command

    with _runtime() as runtime:
        return check_tenants_command(runtime.store, runtime.tenants.projects, runtime.tenants.jira,
                                     tenant=args.tenant, out=print, err=lambda line: print(line, file=sys.stderr))


def _configure_logging(settings: Settings) -> None:
    """JSON lines by default (HUBSYNC_LOG_FORMAT=text for a terminal), secrets redacted."""
    from hubsync.logs import configure_logging, logging_settings

    configure_logging(logging_settings(settings, default_format="json"))


@contextmanager
def _metrics_directory(processes: int, settings: Settings) -> Iterator[None]:
    """Several gunicorn workers: prometheus_client's multiprocess mode in a fresh directory, removed at exit, so
    /metrics adds up every worker's counts (each worker process reads it back from its environment). A
    PROMETHEUS_MULTIPROC_DIR already set is the operator's: kept."""
    if processes <= 1 or settings.metrics_multiprocess_dir:
        yield
        return
    directory, owner = tempfile.mkdtemp(prefix="hubsync-metrics-"), os.getpid()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    try:
        yield
    finally:
        if os.getpid() == owner:  # a gunicorn worker leaving unwinds this too: only the master cleans up
            os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
            shutil.rmtree(directory, ignore_errors=True)


def _run_descriptor(args: argparse.Namespace) -> int:
    import json

    from hubsync.web.descriptor import render_descriptor

    print(json.dumps(render_descriptor(Settings.from_environment()), indent=2, ensure_ascii=False))
    return 0


def _run_forge_manifest(args: argparse.Namespace) -> int:
    from hubsync.web.forge_manifest import render_manifest, write_app

    settings = Settings.from_environment()
    if args.out is None:
        print(render_manifest(settings), end="")
        return 0
    app = write_app(settings, args.out)
    written = ", ".join(str(path.relative_to(app.directory)) for path in [app.manifest, *app.resources])
    print(f"Forge app written to {app.directory}: {written}.")
    print(f"Next: cd {shlex.quote(str(app.directory))} && forge deploy && forge install --site <site>.atlassian.net")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The `hubsync` command. Entry points only parse arguments and hand over."""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    return args.handler(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hubsync", description="Keep AWS Security Hub findings and Jira issues in step, both ways."
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    sandbox = commands.add_parser(
        "sandbox",
        help="run Jira, Security Hub and moto stand-ins on this machine",
        description="Start the embedded sandbox on loopback ports and print the endpoints and an environment "
        "block; Ctrl-C stops it.",
    )
    sandbox.add_argument("--no-seed", action="store_true", help="start empty: no seeded findings")
    sandbox.add_argument("--env-file", type=Path, help="also write the environment block to this file")
    sandbox.set_defaults(handler=_run_sandbox)
    return parser


def _run_sandbox(args: argparse.Namespace) -> int:
    from hubsync.sandbox.runner import Sandbox  # the sandbox and its test dependencies load only when asked for

    stop = threading.Event()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C, or a service manager's stop
        signal.signal(stop_signal, lambda *_: stop.set())
    print("Starting the sandbox ...", flush=True)
    sandbox = Sandbox(seed_findings=not args.no_seed).start()
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


if __name__ == "__main__":
    sys.exit(main())

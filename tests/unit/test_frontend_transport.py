"""The front end's transport module (ui-templates/static/transport.js) under both hosts, and the built Forge post
function resource: node's test runner on tests/frontend/*.test.mjs (Connect: fetch with a context JWT and AP; Forge:
the real @forge/bridge against a stand-in of Forge's host bridge). Skips, saying so, without node or node_modules."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from hubsync.config import CHECKOUT_ROOT

TESTS = CHECKOUT_ROOT / "tests" / "frontend"


def test_the_transport_under_connect_and_forge() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the front end's tests run on node's test runner")
    if not (CHECKOUT_ROOT / "node_modules" / "@forge" / "bridge" / "package.json").is_file():
        pytest.skip("node_modules/@forge/bridge is not installed (`make forge-ui` runs npm ci)")
    files = sorted(str(path) for path in TESTS.glob("*.test.mjs"))
    assert files
    run = subprocess.run(
        [node, "--test", "--test-reporter=tap", *files], cwd=CHECKOUT_ROOT, capture_output=True, text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "\n# fail 0\n" in run.stdout, run.stdout

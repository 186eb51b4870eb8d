"""The layer rules of DESIGN.md hold, and the check that enforces them (`lint-imports`, run by `make lint`) fails
when one is broken: an adapter importing the service (seven did before the ports moved into the domain), or the
service importing an adapter instead of receiving it from bootstrap."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(package_root: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(package_root)}
    return subprocess.run([str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
                          capture_output=True, text=True, env=environment, cwd=package_root, timeout=120)


def test_the_layers_hold() -> None:
    result = lint_imports(ROOT / "backend")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_adapter_importing_the_service_breaks_the_build(tmp_path: Path) -> None:
    copy = tmp_path / "backend"
    shutil.copytree(ROOT / "backend" / "hubsync", copy / "hubsync", ignore=shutil.ignore_patterns("__pycache__"))
    adapter = copy / "hubsync" / "adapters" / "securityhub" / "client.py"
    adapter.write_text(adapter.read_text() + "\nfrom hubsync.service.sync import SyncContext  # noqa: E402\n")

    result = lint_imports(copy)

    assert result.returncode != 0
    assert "never import the service" in result.stdout and "BROKEN" in result.stdout
    assert "hubsync.adapters.securityhub.client -> hubsync.service.sync" in result.stdout


def test_the_service_building_its_own_client_breaks_the_build(tmp_path: Path) -> None:
    """The service gets its adapters from bootstrap; one that imports a concrete adapter is refused."""
    copy = tmp_path / "backend"
    shutil.copytree(ROOT / "backend" / "hubsync", copy / "hubsync", ignore=shutil.ignore_patterns("__pycache__"))
    service = copy / "hubsync" / "service" / "sync.py"
    service.write_text(service.read_text() + "\nfrom hubsync.adapters.jira.client import JiraClient  # noqa: E402\n")

    result = lint_imports(copy)

    assert result.returncode != 0
    assert "The service receives its adapters" in result.stdout and "BROKEN" in result.stdout
    assert "hubsync.service.sync -> hubsync.adapters.jira.client" in result.stdout

"""What ships: the product's wheel (what the Docker image installs) carries no simulator code, importing the product
never loads the sandbox, and the Dockerfile passes hadolint."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_the_products_wheel_carries_no_sandbox(tmp_path: Path) -> None:
    subprocess.run([str(BIN / "pip"), "wheel", "--quiet", "--no-deps", str(ROOT), "--wheel-dir", str(tmp_path)],
                   check=True, capture_output=True, timeout=300)
    [wheel] = tmp_path.glob("hubsync-*.whl")
    names = zipfile.ZipFile(wheel).namelist()

    assert "hubsync/domain/decide.py" in names and "hubsync/web/templates/post_function.html" in names
    assert [name for name in names if "sandbox" in name.split("/")[0] or "/sandbox/" in name] == []
    assert not any(name.startswith(("moto", "tests/")) for name in names)


def test_importing_the_product_loads_no_sandbox() -> None:
    probe = ("import sys, hubsync.cli, hubsync.web, hubsync.service.worker, hubsync.service.reconcile; "
             "print(sorted(m for m in sys.modules if m.startswith(('hubsync_sandbox', 'moto'))))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    assert result.stdout.strip() == "[]"


def test_the_dockerfile_passes_hadolint() -> None:
    result = subprocess.run([str(BIN / "hadolint"), str(ROOT / "Dockerfile")], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr

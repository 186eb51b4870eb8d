"""`hubsync demo`'s choice of platform: Forge by default on Jira Cloud, Connect on request, the admin webhook on Data
Center (where `--platform` is refused, saying why); and of Security Hub: CSPM by default, the new one on request.
The demo itself is replaced: only what the command asks of it is checked here (tests/integration/test_mission*.py
run the real one)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from hubsync import cli
from hubsync_sandbox import demo as sandbox_demo


class FakeDemo:
    def onboard(self) -> None:
        pass

    def run_scenarios(self) -> list[Any]:
        return []


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The keyword arguments of every `running_demo` the command starts."""
    calls: list[dict[str, Any]] = []

    @contextmanager
    def running_demo(**kwargs: Any) -> Iterator[FakeDemo]:
        calls.append(kwargs)
        yield FakeDemo()

    monkeypatch.setattr(sandbox_demo, "running_demo", running_demo)
    monkeypatch.setattr(cli.signal, "signal", lambda *_: None)  # leave the test runner's own handlers alone
    return calls


@pytest.mark.parametrize(("argv", "platform", "says"), [
    ([], "forge", "as a Forge app"),
    (["--platform", "forge"], "forge", "as a Forge app"),
    (["--platform", "connect"], "connect", "as a Connect app"),
    (["--flavour", "datacenter"], "webhook", "with a PAT and hubsync's admin webhook"),
])
def test_the_platform_the_demo_runs_on(asked: list[dict[str, Any]], capsys: pytest.CaptureFixture[str],
                                       argv: list[str], platform: str, says: str) -> None:
    assert cli.main(["demo", "--once", *argv]) == 0
    assert [call["platform"] for call in asked] == [platform]
    assert says in capsys.readouterr().out


def test_a_platform_on_data_center_is_refused(asked: list[dict[str, Any]],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo", "--once", "--flavour", "datacenter", "--platform", "connect"]) == 2
    assert asked == []
    assert "--platform is for Jira Cloud only" in capsys.readouterr().err


def test_an_unknown_platform_is_an_argument_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["demo", "--platform", "marketplace"])
    assert exited.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "securityhub"), [
    ([], "cspm"),
    (["--securityhub", "cspm"], "cspm"),
    (["--securityhub", "v2"], "v2"),
    (["--flavour", "datacenter", "--securityhub", "v2"], "v2"),
])
def test_the_security_hub_the_demo_syncs_with(asked: list[dict[str, Any]], capsys: pytest.CaptureFixture[str],
                                              argv: list[str], securityhub: str) -> None:
    assert cli.main(["demo", "--once", *argv]) == 0
    assert [call["securityhub"] for call in asked] == [securityhub]
    assert f"Security Hub {securityhub}" in capsys.readouterr().out


def test_an_unknown_security_hub_is_an_argument_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["demo", "--securityhub", "v3"])
    assert exited.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "version"), [
    (["--flavour", "datacenter"], None),
    (["--flavour", "datacenter", "--jira-version", "9.12.0"], "9.12.0"),
])
def test_the_data_center_version_the_demo_runs_against(asked: list[dict[str, Any]], argv: list[str],
                                                      version: str | None) -> None:
    assert cli.main(["demo", "--once", *argv]) == 0
    assert [call["jira_version"] for call in asked] == [version]


def test_a_jira_version_on_cloud_is_refused(asked: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo", "--once", "--jira-version", "9.12.0"]) == 2
    assert asked == []
    assert "--jira-version is for Data Center only" in capsys.readouterr().err


def test_a_jira_version_is_major_minor_revision(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["demo", "--flavour", "datacenter", "--jira-version", "9.12"])
    assert exited.value.code == 2
    assert "'9.12' is not MAJOR.MINOR.REVISION" in capsys.readouterr().err

"""`hubsync tenant add --securityhub` and `hubsync tenant list` on an operator's database: the generation is stored
and listed, an unknown one refused by the parser."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hubsync.cli import main

ADD = ["tenant", "add", "--name", "acme", "--flavour", "datacenter", "--jira-url", "https://jira.acme.example",
       "--role-arn", "arn:aws:iam::111122223333:role/hubsync-securityhub", "--region", "eu-west-1"]


@pytest.fixture
def policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HUBSYNC_DATABASE_URL", f"sqlite:///{tmp_path / 'hubsync.sqlite3'}")
    monkeypatch.setenv("HUBSYNC_SECRET_KEY", "tenant-cli-test-secret-key-0123456789")
    monkeypatch.setenv("HUBSYNC_JIRA_SECRET", "a-pat")
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"project_key": "OPS"}))
    return path


def test_a_tenant_syncs_with_security_hub_cspm_unless_told_and_the_list_says_so(
    policy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*ADD, "--policy", str(policy)]) == 0
    assert main([*ADD[:3], "other", *ADD[4:], "--policy", str(policy), "--securityhub", "cspm"]) == 0
    capsys.readouterr()

    assert main(["tenant", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert all("  securityhub:cspm  " in line for line in lines)


def test_a_tenant_on_the_new_security_hub_is_stored_so(policy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*ADD, "--policy", str(policy), "--securityhub", "v2"]) == 0
    capsys.readouterr()

    assert main(["tenant", "list"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert "  securityhub:v2  " in line


def test_an_unknown_generation_is_refused_by_the_parser(policy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*ADD, "--policy", str(policy), "--securityhub", "asff"])
    assert exited.value.code == 2
    assert "invalid choice: 'asff'" in capsys.readouterr().err

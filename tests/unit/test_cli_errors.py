"""Every CLI failure an operator can expect is one line and a non-zero exit status, never a traceback: 2 when the
environment or the input is wrong, 1 when a side (the database, Jira, AWS) failed or something unexpected happened,
which then names itself and points at --debug."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hubsync.bootstrap import bootstrap
from hubsync.cli import main
from hubsync.config import Settings
from hubsync.domain.tenant import AuthMode, JiraFlavour

SECRET_KEY = "cli-errors-test-secret-key-0123456789"
ADD = ["tenant", "add", "--name", "acme", "--flavour", "datacenter", "--jira-url", "http://127.0.0.1:1",
       "--role-arn", "arn:aws:iam::111122223333:role/hubsync-securityhub", "--region", "eu-west-1"]


@pytest.fixture
def operator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An operator's shell: a SQLite database, a secret key, no AWS credentials anywhere."""
    monkeypatch.setenv("HUBSYNC_DATABASE_URL", f"sqlite:///{tmp_path / 'hubsync.sqlite3'}")
    monkeypatch.setenv("HUBSYNC_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("HUBSYNC_JIRA_SECRET", "a-pat-0123456789")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return tmp_path


def with_tenant(operator: Path) -> None:
    """A Data Center tenant whose Jira (a closed port) and AWS (no credentials) cannot be reached."""
    policy = operator / "policy.json"
    policy.write_text(json.dumps({"project_key": "OPS"}))
    assert main([*ADD, "--policy", str(policy)]) == 0


def missing_secret_key(operator: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.delenv("HUBSYNC_SECRET_KEY")
    return ["reconcile"]


def unreachable_database(operator: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("HUBSYNC_DATABASE_URL", "postgresql+psycopg://hubsync@127.0.0.1:1/hubsync")
    return ["tenant", "list"]


def unusable_database_url(operator: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("HUBSYNC_DATABASE_URL", "nosuchdatabase://somewhere/hubsync")
    return ["tenant", "list"]


def unknown_tenant(operator: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    with_tenant(operator)
    return ["tenant", "show", "--tenant", "nobody"]


def no_tenant_to_pick(operator: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return ["tenant", "rotate-events-key"]


def invalid_input(operator: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    with_tenant(operator)
    return ["tenant", "update", "--role-arn", "arn:aws:iam::111122223333:user/someone"]


def installed_app(**settings: Any) -> None:
    """A Connect install of acme.atlassian.net, as Jira's install callback stores it, with these settings."""
    runtime = bootstrap(Settings.from_environment())
    try:
        with runtime.store.transaction() as uow:
            uow.tenants.create(jira_base_url="https://acme.atlassian.net", jira_flavour=JiraFlavour.CLOUD,
                               auth_mode=AuthMode.CONNECT, jira_secret="shared", **settings)
    finally:
        runtime.close()


def secret_for_an_app(operator: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    installed_app(name="cloud", policy={"project_key": "OPS"}, aggregation_region="eu-west-1",
                  aws_role_arn="arn:aws:iam::111122223333:role/hubsync")
    return ["tenant", "update", "--jira-secret-from-env"]


def tenant_not_ready(operator: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    installed_app(name="new")  # not configured yet: no AWS role
    return ["reconcile", "--tenant", "new"]


def jira_unreachable(operator: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    with_tenant(operator)
    policy = operator / "other-project.json"
    policy.write_text(json.dumps({"project_key": "SEC"}))  # a new project: Jira is asked first
    return ["tenant", "update", "--policy", str(policy)]


def aws_unreachable(operator: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    with_tenant(operator)
    return ["reconcile"]


def key_changed(operator: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    with_tenant(operator)
    monkeypatch.setenv("HUBSYNC_SECRET_KEY", "another-secret-key-of-32-characters-at-least")
    return ["tenant", "list"]


Case = Callable[[Path, pytest.MonkeyPatch], list[str]]


@pytest.mark.parametrize(("case", "status", "says"), [
    (missing_secret_key, 2, "HUBSYNC_SECRET_KEY is not set"),
    (unreachable_database, 1, "the database (HUBSYNC_DATABASE_URL) cannot be reached: connection"),
    (unusable_database_url, 2, "HUBSYNC_DATABASE_URL cannot be used"),
    (unknown_tenant, 2, "no tenant 'nobody'"),
    (no_tenant_to_pick, 2, "no tenant: install hubsync in Jira or add one"),
    (invalid_input, 2, "not saved: --role-arn: 'arn:aws:iam::111122223333:user/someone' is not an IAM role ARN"),
    (secret_for_an_app, 2, "tenant cloud is a Connect app"),
    (tenant_not_ready, 2, "tenant new: no AWS role ARN configured"),
    (jira_unreachable, 1, "Jira could not be asked about project SEC"),
    (aws_unreachable, 1, "tenant acme: not reconciled: Unable to locate credentials"),
    (key_changed, 2, "cannot decrypt the secret stored for tenant/"),
], ids=lambda value: value.__name__ if callable(value) else None)
def test_an_expected_failure_is_one_line_and_an_exit_status(
    operator: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], case: Case, status: int,
    says: str,
) -> None:
    argv = case(operator, monkeypatch)
    capsys.readouterr()

    assert main(argv) == status
    output = capsys.readouterr()
    lines = (output.out + output.err).splitlines()
    assert len(lines) == 1, lines
    assert says in lines[0]
    assert "Traceback" not in output.out + output.err


def test_an_unexpected_error_points_at_debug_which_shows_the_traceback(
    operator: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with_tenant(operator)

    def broken(*args: object, **kwargs: object) -> int:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr("hubsync.service.commands.list_tenants", broken)
    capsys.readouterr()
    assert main(["tenant", "list"]) == 1
    assert capsys.readouterr().err == (
        "hubsync: unexpected error, ZeroDivisionError: a bug (run `hubsync --debug ...` for the traceback)\n")

    with pytest.raises(ZeroDivisionError, match="a bug"):
        main(["--debug", "tenant", "list"])


def test_a_reader_that_goes_away_ends_the_command_quietly(
    operator: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`hubsync tenant list | head -1`: the pipe closes, hubsync stops without a traceback."""
    with_tenant(operator)

    def closed_pipe(*args: object, **kwargs: object) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr("hubsync.service.commands.list_tenants", closed_pipe)
    silenced: list[bool] = []
    monkeypatch.setattr("hubsync.cli._silence_stdout", lambda: silenced.append(True))  # the test's stdout stays
    assert main(["tenant", "list"]) == 141
    assert silenced == [True] and capsys.readouterr().err == ""

"""``mpm-cloud`` start-up as an installer meets it, as real processes: production refuses to run without
a master key, the development key is announced loudly, the database location and misspelt ``MPM_*``
variables are reported, and create-org never silently makes a new database."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from cloud.startup_report import database_location
from tests.support.network import accepts_tcp, free_port
from tests.support.polling import wait_for

MASTER_KEY = base64.b64encode(bytes(range(32))).decode()


def _environ(db: Path, **env: str) -> dict[str, str]:
    """The test's environment without any MPM_* variable, plus the database and ``env``."""
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("MPM_")}
    return clean | {"MPM_DATABASE_URL": f"sqlite+aiosqlite:///{db}"} | env


def cloud(
    *args: str, env: dict[str, str], cwd: Path | None = None, level: str = "INFO"
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cloud.cli", "--log-level", level, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class Served:
    """``mpm-cloud serve`` on a free port, its output in a file."""

    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.log_path = tmp_path / "serve.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cloud.cli", "serve", "--port", str(self.port)],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def healthz(self) -> dict[str, object]:
        wait_for(lambda: accepts_tcp("127.0.0.1", self.port), timeout=30, what="mpm-cloud serve")
        answer = httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=10)
        assert answer.status_code == 200
        body: dict[str, object] = answer.json()
        return body

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.log_path.read_text()


def test_production_is_the_default_and_refuses_to_serve_without_a_master_key(tmp_path: Path) -> None:
    db = tmp_path / "cloud.db"
    result = subprocess.run(
        [sys.executable, "-m", "cloud.cli", "serve", "--port", str(free_port())],
        env=_environ(db),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 78, result.stderr
    assert "MPM_MASTER_KEY is not set" in result.stderr
    assert "openssl rand -base64 32" in result.stderr
    assert not db.exists()  # refused before anything was opened


@pytest.mark.timeout(90)
def test_control_with_a_master_key_production_serves_without_warning(tmp_path: Path) -> None:
    served = Served(tmp_path, _environ(tmp_path / "cloud.db", MPM_MASTER_KEY=MASTER_KEY))
    try:
        health = served.healthz()
    finally:
        output = served.stop()
    assert health == {"status": "ok", "environment": "production", "dev_master_key": False, "warnings": []}
    assert "development master key" not in output
    assert served.process.returncode == 0


@pytest.mark.timeout(90)
def test_the_development_key_is_announced_in_the_log_and_in_healthz(tmp_path: Path) -> None:
    served = Served(tmp_path, _environ(tmp_path / "cloud.db", MPM_ENVIRONMENT="development"))
    try:
        health = served.healthz()
    finally:
        output = served.stop()
    assert health["dev_master_key"] is True
    assert "development master key" in str(health["warnings"])
    assert "WARNING cloud.app: the PUBLIC development master key is in use" in output


def test_production_may_use_the_dev_key_only_when_told_and_still_warns(tmp_path: Path) -> None:
    env = _environ(tmp_path / "cloud.db", MPM_ALLOW_DEV_KEY="true")
    result = cloud("migrate", env=env)
    assert result.returncode == 0, result.stderr
    assert "PUBLIC development master key is in use" in result.stderr


def test_the_database_location_is_reported_as_an_absolute_path(tmp_path: Path) -> None:
    env = _environ(tmp_path, MPM_ENVIRONMENT="development") | {"MPM_DATABASE_URL": "sqlite+aiosqlite:///x.db"}
    result = cloud("migrate", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"database: SQLite file {tmp_path.resolve() / 'x.db'} (environment development)" in result.stderr


@pytest.mark.parametrize(
    ("variable", "expected"),
    [
        ("MPM_MASTR_KEY", "MPM_MASTR_KEY: unknown setting, ignored; did you mean MPM_MASTER_KEY?"),
        ("MPM_DATABSE_URL", "MPM_DATABSE_URL: unknown setting, ignored; did you mean MPM_DATABASE_URL?"),
        ("MPM_ZZZ", "MPM_ZZZ: unknown setting, ignored"),
    ],
)
def test_a_misspelt_variable_is_reported_with_the_closest_name(
    tmp_path: Path, variable: str, expected: str
) -> None:
    env = _environ(tmp_path / "c.db", MPM_ENVIRONMENT="development") | {variable: "x"}
    result = cloud("migrate", env=env, level="WARNING")
    assert result.returncode == 0, result.stderr
    assert expected in result.stderr


def test_control_known_and_foreign_variables_are_not_reported(tmp_path: Path) -> None:
    foreign = {"MPM_AGENT_MQTT__URL": "mqtt://x", "MPM_TEST_POSTGRES_URL": "x", "MPM_API_PORT": "8001"}
    env = _environ(tmp_path / "c.db", MPM_ENVIRONMENT="development") | foreign
    result = cloud("migrate", env=env, level="WARNING")
    assert result.returncode == 0, result.stderr
    assert "unknown setting" not in result.stderr


def test_create_org_refuses_to_make_a_new_database_unless_told(tmp_path: Path) -> None:
    elsewhere = tmp_path / "another-folder"
    elsewhere.mkdir()
    env = _environ(tmp_path, MPM_ENVIRONMENT="development") | {
        "MPM_DATABASE_URL": "sqlite+aiosqlite:///./mpm-cloud.db"
    }
    refused = cloud("create-org", "Acme", env=env, cwd=elsewhere)
    assert refused.returncode == 78
    assert f"no database at {elsewhere.resolve() / 'mpm-cloud.db'}" in refused.stderr
    assert "--create" in refused.stderr
    assert refused.stdout == ""
    assert not (elsewhere / "mpm-cloud.db").exists()

    created = cloud("create-org", "Acme", "--create", env=env, cwd=elsewhere)
    assert created.returncode == 0, created.stderr
    assert len(created.stdout.strip()) >= 40  # the token, alone on stdout
    assert f"organisation 1 created in SQLite file {elsewhere.resolve() / 'mpm-cloud.db'}" in created.stderr

    again = cloud("create-org", "Beta", env=env, cwd=elsewhere)  # control: an existing database is fine
    assert again.returncode == 0, again.stderr


def test_invalid_settings_name_the_variable(tmp_path: Path) -> None:
    env = _environ(tmp_path / "c.db", MPM_ENVIRONMENT="staging")
    result = cloud("migrate", env=env)
    assert result.returncode == 78
    assert "MPM_ENVIRONMENT: Input should be 'development' or 'production'" in result.stderr


def test_token_issue_recovers_an_organisation_whose_tokens_expired(tmp_path: Path) -> None:
    env = _environ(tmp_path / "c.db", MPM_ENVIRONMENT="development")
    assert cloud("create-org", "Acme", "--create", env=env).returncode == 0
    issued = cloud("token", "issue", "--org", "1", "--days", "7", env=env)
    assert issued.returncode == 0, issued.stderr
    assert len(issued.stdout.strip()) >= 40
    assert "org_admin token 2 expires" in issued.stderr
    missing = cloud("token", "issue", "--org", "9", env=env)  # control: a wrong id is refused
    assert missing.returncode == 1
    assert "organisation 9 does not exist" in missing.stderr
    assert missing.stdout == ""


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql+asyncpg://mpm:s3cret@db.example:5432/mpm",
            "postgresql+asyncpg://mpm:***@db.example:5432/mpm",
        ),
        (
            "sqlite+aiosqlite:////var/lib/mpm-cloud/mpm-cloud.db",
            "SQLite file /var/lib/mpm-cloud/mpm-cloud.db",
        ),
        ("sqlite+aiosqlite://", "sqlite+aiosqlite://"),
        ("not a url", "an unparseable MPM_DATABASE_URL"),
    ],
)
def test_the_database_location_never_shows_a_password(url: str, expected: str) -> None:
    assert database_location(url) == expected

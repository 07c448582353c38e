"""``mpm-agent enroll`` end to end against the real cloud app served by uvicorn on loopback."""

from __future__ import annotations

import argparse
import asyncio
import io
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from edge_agent.config import load_config
from edge_agent.enrolment import enrolment_status
from edge_agent.ops.enroll_command import add_enroll_command
from tests.cloud.test_enrolment_support import (
    AGENT_MQTT_URL,
    Org,
    enrolling_app,
    enrolling_settings,
    make_ca,
    org_with_site,
)
from tests.support.network import free_port
from tests.support.polling import async_wait_for

AGENT_TOML = '[outbox]\npath = "/tmp/mpm-test-outbox.db"\n'


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="mpm-agent")
    add_enroll_command(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


@pytest.fixture
async def cloud(tmp_path: Path) -> AsyncIterator[tuple[str, FastAPI]]:
    """The cloud (SQLite, a fresh CA) served by uvicorn on a free loopback port: (base URL, app)."""
    make_ca(tmp_path / "ca")
    app = enrolling_app(enrolling_settings(f"sqlite+aiosqlite:///{tmp_path / 'cloud.db'}", tmp_path / "ca"))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve(), name="uvicorn")

    async def started() -> bool:
        return server.started

    try:
        await async_wait_for(started, what="uvicorn to start")
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "etc"
    directory.mkdir()
    (directory / "agent.toml").write_text(AGENT_TOML)
    return directory


async def new_token(url: str, org: Org) -> str:
    async with httpx.AsyncClient(base_url=url) as client:
        response = await client.post(
            f"/api/v1/sites/{org.site_id}/enrolment-tokens", json={}, headers=org.admin
        )
    assert response.status_code == 201, response.text
    token: str = response.json()["token"]
    return token


async def enroll_command(url: str, token: str, state: Path, config_dir: Path) -> int:
    argv = [
        "enroll",
        "--cloud",
        url,
        f"--token={token}",  # a token may start with "-"
        "--state-dir",
        str(state),
        "--config-dir",
        str(config_dir),
    ]
    return await asyncio.to_thread(run, argv)


async def test_enroll_writes_credentials_and_a_valid_layered_config(
    cloud: tuple[str, FastAPI], config_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, app = cloud
    token = await new_token(url, await org_with_site(app, "Acme"))
    state = tmp_path / "state"
    assert await enroll_command(url, token, state, config_dir) == 0
    out = capsys.readouterr().out
    config = load_config(config_dir / "agent.toml", environ={})
    assert config.agent_id.startswith("site-")
    assert f"as agent {config.agent_id}" in out
    assert (config.mqtt.url, config.mqtt.uses_tls) == (AGENT_MQTT_URL, True)
    tls = config.mqtt.tls
    assert (tls.ca_file, tls.cert_file, tls.key_file) == (
        state / "ca.crt",
        state / "agent.crt",
        state / "agent.key",
    )
    assert stat.S_IMODE((state / "agent.key").stat().st_mode) == 0o600
    status = enrolment_status(state)
    assert status.chain_ok, status.problems
    assert status.agent_id == config.agent_id
    assert token not in out
    assert "PRIVATE KEY" not in out
    assert (
        (config_dir / "conf.d" / "00-enrolled.toml").read_text().startswith("# Written by `mpm-agent enroll`")
    )


async def test_a_reused_token_exits_1_and_keeps_the_enrolment(
    cloud: tuple[str, FastAPI],
    config_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, app = cloud
    token = await new_token(url, await org_with_site(app, "Acme"))
    state = tmp_path / "state"
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{token}\n"))
    assert await enroll_command(url, "-", state, config_dir) == 0  # the token read from stdin
    before = (state / "agent.crt").read_bytes(), (config_dir / "conf.d" / "00-enrolled.toml").read_bytes()
    capsys.readouterr()
    assert await enroll_command(url, token, state, config_dir) == 1
    assert "already used" in capsys.readouterr().err
    after = (state / "agent.crt").read_bytes(), (config_dir / "conf.d" / "00-enrolled.toml").read_bytes()
    assert after == before
    assert enrolment_status(state).chain_ok


async def test_an_unreachable_cloud_exits_69(
    config_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    assert await enroll_command(url, "x" * 43, tmp_path / "state", config_dir) == 69
    assert "cannot reach" in capsys.readouterr().err
    assert not (config_dir / "conf.d").exists()
    assert not enrolment_status(tmp_path / "state").enrolled

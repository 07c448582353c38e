"""The ops sub-commands, wired into a parser the way edge_agent/cli.py will wire them."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from edge_agent.ops.commands import add_ops_commands

AGENT_TOML = (
    'agent_id = "site-1"\n\n[mqtt]\nurl = "mqtt://localhost:1883"\n\n[outbox]\npath = "/tmp/outbox.db"\n'
)


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="mpm-agent")
    add_ops_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(AGENT_TOML)
    return path


def test_config_validate_and_show(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MPM_AGENT_MQTT__KEEPALIVE_S", "20")
    assert run(["config", "validate", "--config", str(config)]) == 0
    assert "OK (3 values from files, 1 from environment, 0 from flags)" in capsys.readouterr().out
    assert (
        run(
            [
                "config",
                "show",
                "--effective",
                "--sources",
                "--config",
                str(config),
                "--set",
                "status_interval_s=3",
            ]
        )
        == 0
    )
    shown = capsys.readouterr().out
    assert "keepalive_s = 20  # from env MPM_AGENT_MQTT__KEEPALIVE_S" in shown
    assert "status_interval_s = 3.0  # from flag --set status_interval_s=3" in shown


def test_config_validate_exits_78_on_a_typo(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MPM_AGENT_MQTT__KEEPALIVE", "20")
    assert run(["config", "validate", "--config", str(config)]) == 78
    assert "did you mean MPM_AGENT_MQTT__KEEPALIVE_S?" in capsys.readouterr().out


def test_ports_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["ports", "--json"]) == 0
    assert isinstance(json.loads(capsys.readouterr().out), list)

"""``mpm-demo`` — the README's first command — brings the whole system up and the sign shows a ranking."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.e2e.processes import BIN
from tests.support.broker import Broker


@pytest.mark.parametrize("broker_kind", ["embedded", "mosquitto"])
def test_the_demo_shows_a_ranking_on_the_sign(tmp_path: Path, broker: Broker, broker_kind: str) -> None:
    env = dict(os.environ)
    env.pop("MPM_MQTT_URL", None)
    if broker_kind == "mosquitto":
        env["MPM_MQTT_URL"] = broker.url
    state_dir = tmp_path / "demo"
    done = subprocess.run(
        [
            str(BIN / "mpm-demo"),
            "--state-dir",
            str(state_dir),
            "--punch-every",
            "1",
            "--check",
            "--timeout",
            "90",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "admin API:" in done.stdout
    assert "sign shows:" in done.stdout
    png = state_dir / "alpha-sign.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (state_dir / "zk-terminal.json").exists()

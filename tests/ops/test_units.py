"""The shipped systemd units verify cleanly, keep their hardening score, and the udev rule parses."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

SYSTEMD_DIR = Path(__file__).resolve().parents[2] / "systemd"
UNITS = ["mpm-agent.service", "mpm-cloud.service"]
# Measured with systemd 252 on Debian 12: mpm-agent 1.5, mpm-cloud 1.1 (0 = locked down, 10 = exposed).
EXPOSURE_LIMIT = {"mpm-agent.service": 2.0, "mpm-cloud.service": 2.0}


def directives(unit: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in unit.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def unit_copy(unit: str, tmp_path: Path, *, edit: tuple[str, str] | None = None) -> Path:
    """The shipped unit with ExecStart pointed at a real temporary executable (the file is unchanged)."""
    binary = tmp_path / "fake-mpm"
    binary.write_text("#!/bin/sh\nexit 0\n")
    binary.chmod(0o755)
    text = re.sub(r"(?m)^ExecStart=\S+", f"ExecStart={binary}", (SYSTEMD_DIR / unit).read_text())
    if edit:
        text = text.replace(*edit)
    copy = tmp_path / unit
    copy.write_text(text)
    return copy


def verify(unit: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("unit", UNITS)
def test_unit_verifies_without_a_single_warning(unit: str, tmp_path: Path) -> None:
    result = verify(unit_copy(unit, tmp_path))
    assert (result.returncode, result.stderr, result.stdout) == (0, "", "")


def test_control_verify_reports_a_misspelled_directive(tmp_path: Path) -> None:
    result = verify(unit_copy("mpm-agent.service", tmp_path, edit=("WatchdogSec=", "WatchdogSek=")))
    assert "Unknown key" in result.stderr
    assert "WatchdogSek" in result.stderr


@pytest.mark.parametrize("unit", UNITS)
def test_exposure_score_stays_low(unit: str, tmp_path: Path) -> None:
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", "--no-pager", str(unit_copy(unit, tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert match, result.stdout + result.stderr
    score = float(match[1])
    print(f"{unit}: exposure {score}")
    assert score <= EXPOSURE_LIMIT[unit]


def test_agent_unit_has_the_operational_contract() -> None:
    found = directives(SYSTEMD_DIR / "mpm-agent.service")
    expected = {
        "Type": ["notify"],
        "NotifyAccess": ["main"],
        "Restart": ["on-failure"],
        "RestartSec": ["5"],
        "RestartPreventExitStatus": ["78"],
        "User": ["mpm-agent"],
        "SupplementaryGroups": ["dialout"],
        "StateDirectory": ["mpm-agent"],
        "ConfigurationDirectory": ["mpm-agent"],
        "DevicePolicy": ["closed"],
        "ConditionPathExists": ["/var/lib/mpm-agent/enrolled"],
        "ExecStart": ["/opt/mpm-agent/venv/bin/mpm-agent run --config /etc/mpm-agent/agent.toml"],
    }
    assert {key: found.get(key) for key in expected} == expected
    assert {"char-ttyUSB rw", "char-ttyACM rw", "char-ttyAMA rw"} <= set(found["DeviceAllow"])
    assert found["WatchdogSec"]
    assert found["ProtectSystem"] == ["strict"]


UDEV_PAIR = re.compile(r'\s*([A-Z_]+(?:\{[^}]+\})?)\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)"\s*(?:,|$)')


def test_udev_rule_lines_are_well_formed() -> None:
    rules = [
        line
        for line in (SYSTEMD_DIR / "99-mpm-agent.rules").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert len(rules) >= 3
    for rule in rules:
        pairs = UDEV_PAIR.findall(rule)
        assert "".join(f'{k}{op}"{v}"' for k, op, v in pairs) == re.sub(r"\s*,\s*", "", rule).strip(), rule
        assert any(op == "==" for _k, op, _v in pairs), rule
        assert any(op in ("=", "+=") for _k, op, _v in pairs), rule
    assert any('KERNEL=="ttyUSB[0-9]*"' in rule and 'GROUP="dialout"' in rule for rule in rules)

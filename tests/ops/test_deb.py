"""The Debian package: build it (project only, ``--no-deps``, cached builder venv) and inspect it.

A full build also wheels every dependency of the ``agent`` extra into the cached wheelhouse; that is the
shipping build, too slow for the test pass, so here only the package layout is proven.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from edge_agent.config import AgentConfig
from edge_agent.settings_layers import load_layered

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mpm-agent-deb-test"
VENV = "opt/mpm-agent/venv"


@pytest.fixture(scope="module")
def deb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        ["sh", str(ROOT / "packaging/build-deb.sh"), "--no-deps", "--out", str(out), "--cache", str(CACHE)],
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def unpacked(deb: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("root")
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True, timeout=60)
    subprocess.run(["dpkg-deb", "-e", str(deb), str(root / "DEBIAN")], check=True, timeout=60)
    return root


def field(deb: Path, name: str) -> str:
    return subprocess.run(
        ["dpkg-deb", "-f", str(deb), name], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_package_name_and_metadata(deb: Path) -> None:
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip()
    assert deb.name == f"mpm-agent_0.1.0_{arch}.deb"
    assert (field(deb, "Package"), field(deb, "Version"), field(deb, "Architecture")) == (
        "mpm-agent",
        "0.1.0",
        arch,
    )
    assert "python3 (>= 3.11), python3 (<< 3.12)" in field(deb, "Depends")


def test_contents(deb: Path) -> None:
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True).stdout
    for path in [
        "./lib/systemd/system/mpm-agent.service",
        "./lib/udev/rules.d/99-mpm-agent.rules",
        "./usr/lib/modules-load.d/mpm-agent.conf",
        "./etc/mpm-agent/agent.toml",
        "./opt/mpm-agent/share/INSTALL.md",
        f"./{VENV}/bin/mpm-agent",
        "./usr/bin/mpm-agent -> /opt/mpm-agent/venv/bin/mpm-agent",
    ]:
        assert path in listing, path
    assert "edge_agent/settings_layers.py" in listing
    assert "__pycache__" not in listing  # postinst compiles on the target
    assert "-rw-r----- root/root" in next(line for line in listing.splitlines() if "agent.toml" in line)


def test_conffiles_and_maintainer_scripts(unpacked: Path) -> None:
    control = unpacked / "DEBIAN"
    assert (control / "conffiles").read_text().split() == ["/etc/mpm-agent/agent.toml"]
    for script in ["postinst", "prerm", "postrm"]:
        path = control / script
        assert os.access(path, os.X_OK), script
        check = subprocess.run(["sh", "-n", str(path)], capture_output=True, text=True)
        assert (check.returncode, check.stderr) == (0, ""), script
    postinst = (control / "postinst").read_text()
    assert "--groups dialout" in postinst
    assert "install -d -m 0700 -o mpm-agent" in postinst
    assert "systemctl enable" in postinst
    assert "enrolled" in postinst
    assert "rm -rf /var/lib/mpm-agent" in (control / "postrm").read_text().split("purge)")[1]


def test_control_sh_n_catches_a_broken_script(tmp_path: Path) -> None:
    broken = tmp_path / "postinst"
    broken.write_text('#!/bin/sh\ncase "$1" in\nconfigure)\n  true\n')
    assert subprocess.run(["sh", "-n", str(broken)], capture_output=True).returncode != 0


def test_venv_is_relocated_to_its_installed_path_and_runs(unpacked: Path) -> None:
    script = (unpacked / VENV / "bin/mpm-agent").read_text()
    assert script.startswith("#!/opt/mpm-agent/venv/bin/python\n")
    assert "/stage/" not in (unpacked / VENV / "pyvenv.cfg").read_text()
    python = unpacked / VENV / "bin/python"
    found = subprocess.run(
        [str(python), "-c", "import edge_agent; print(edge_agent.__file__)"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=unpacked,
    )
    assert found.stdout.startswith(str(unpacked / VENV)), found.stderr


def test_shipped_units_are_the_repository_files(unpacked: Path) -> None:
    assert (unpacked / "lib/systemd/system/mpm-agent.service").read_bytes() == (
        ROOT / "systemd/mpm-agent.service"
    ).read_bytes()


def test_shipped_agent_toml_validates_once_enrolled(unpacked: Path, tmp_path: Path) -> None:
    etc = tmp_path / "etc"
    (etc / "conf.d").mkdir(parents=True)
    (etc / "agent.toml").write_bytes((unpacked / "etc/mpm-agent/agent.toml").read_bytes())
    (etc / "conf.d/00-enrolled.toml").write_text(
        'agent_id = "site-1"\n[mqtt]\nurl = "mqtts://cloud.example:8883"\n'
    )
    config, sources = load_layered(AgentConfig, etc / "agent.toml", {}, [])
    assert str(config.outbox.path) == "/var/lib/mpm-agent/outbox.db"
    assert sources["agent_id"].where.endswith("00-enrolled.toml:1")

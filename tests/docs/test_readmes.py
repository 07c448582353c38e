"""The READMEs' commands work as written, and every command block of the documents is run by some test."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.docs.guide import command_blocks
from tests.support.broker import Broker
from tests.support.network import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# Who runs each document's command blocks. A new document with commands must be added here.
RUN_BY = {
    "README.md": ".ci/run runs `./dev test`; tests/e2e/test_demo.py runs the demo",
    "cloud/README.md": "test_the_cloud_readme_runs_as_written below",
    "docs/API.md": "tests/cloud/test_walkthrough.py (the document is generated from it)",
    "docs/CLOUD-INSTALL.md": "tests/docs/test_install_guides.py",
    "docs/INSTALL.md": "tests/docs/test_install_guides.py (§8, the package build: tests/ops/test_deb.py)",
}
PART = re.compile(r"^\| `\.venv/bin/(mpm-[a-z]+) ([a-z-]+)")


def test_every_document_with_commands_has_a_test_that_runs_them() -> None:
    documents = [ROOT / "README.md", ROOT / "cloud/README.md", *sorted((ROOT / "docs").glob("*.md"))]
    with_commands = {str(d.relative_to(ROOT)) for d in documents if command_blocks(d)}
    assert with_commands == set(RUN_BY)


def test_every_command_in_the_readme_table_exists() -> None:
    parts = [PART.match(line) for line in (ROOT / "README.md").read_text().splitlines()]
    commands = [(m[1], m[2]) for m in parts if m]
    assert len(commands) >= 7
    for program, subcommand in commands:
        done = subprocess.run([str(BIN / program), subcommand, "--help"], capture_output=True, text=True)
        assert done.returncode == 0, f"{program} {subcommand}: {done.stderr}"


def test_the_cloud_readme_runs_as_written(tmp_path: Path, broker: Broker) -> None:
    """In an empty folder, with the test's broker and a free port in place of 1883 and 8000."""
    [block] = command_blocks(ROOT / "cloud/README.md")
    port = free_port()
    script = block.text.replace("127.0.0.1:1883", f"127.0.0.1:{broker.port}").replace(":8000", f":{port}")
    script = script.replace("--port 8000", f"--port {port}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MPM_")}
    env["PATH"] = f"{BIN}:{env['PATH']}"
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"status":"ready"' in done.stdout
    assert (tmp_path / "mpm-cloud.db").exists()
    assert done.stdout.count(": intact") == 2, done.stdout  # the demo organisation and Acme

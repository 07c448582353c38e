"""The running agent imports only what its configuration uses (issue 10: resident memory).

Each check runs in a fresh interpreter, the way ``mpm-agent run`` starts: import the CLI and the
runtime, load a configuration with no devices and no health server, and list what got imported.
"""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import edge_agent
from edge_agent.status import agent_version

# Heavy modules a device-less agent without a health server has no use for, and who used to pull them.
NOT_FOR_A_BARE_AGENT = (
    "importlib.metadata",  # pydantic's plugin scan, and the agent version lookup
    "zipfile",  # via importlib.metadata
    "h11",  # the HTTP stack: zk_push/isapi drivers and the health server only
    "edge_agent.http",
    "edge_agent.observability",
    "firmware_protocols.zk_push",  # ZK ADMS codecs: the zk_push driver only
    "edge_agent.drivers.zk_push.driver",
)

_PROBE = """
import json, sys
import edge_agent.cli, edge_agent.app, edge_agent.ops.startup_checks
from edge_agent.config import load_config
config = load_config(sys.argv[1])
print(json.dumps({"modules": sorted(sys.modules), "devices": len(config.devices)}))
"""


def _imported_after_loading(config_text: str, tmp_path: Path, probe: str = _PROBE) -> set[str]:
    config = tmp_path / "agent.toml"
    config.write_text(config_text)
    done = subprocess.run(
        [sys.executable, "-c", probe, str(config)], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(done.stdout)["modules"])


BARE = """agent_id = "footprint"
[mqtt]
url = "mqtt://127.0.0.1:1883"
[outbox]
path = "{dir}/outbox.db"
[observability]
enabled = false
"""


def test_a_bare_agent_imports_no_driver_http_or_metadata_machinery(tmp_path: Path) -> None:
    imported = _imported_after_loading(BARE.format(dir=tmp_path), tmp_path)
    assert imported.isdisjoint(NOT_FOR_A_BARE_AGENT), sorted(imported & set(NOT_FOR_A_BARE_AGENT))
    assert "pydantic" in imported  # configuration is still validated by the pydantic models


def test_the_probe_sees_an_http_stack_when_one_is_imported(tmp_path: Path) -> None:
    """Control: the same probe, importing the health server as an enabled one is, lists h11."""
    probe = _PROBE.replace("print(", "import edge_agent.observability\nprint(")
    imported = _imported_after_loading(BARE.format(dir=tmp_path), tmp_path, probe)
    assert {"h11", "edge_agent.http", "edge_agent.observability"} <= imported


def test_agent_version_is_the_installed_distributions() -> None:
    assert agent_version() == edge_agent.__version__ == importlib.metadata.version("mpm-edge")

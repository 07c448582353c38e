"""The system's parts as real processes, started the way an operator starts them.

The cloud is ``mpm-cloud serve`` (API + MQTT ingest + display publisher), the agent ``mpm-agent run``
with a config file written here. Readiness is read from what each process tells the world: the
cloud's "ingest subscribed" log line, the agent's retained ``online`` status on the broker.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from bench.backlog_file import MAX_BYTES
from tests.e2e.processes import BIN, ProcessGroup
from tests.support.network import accepts_tcp, free_port
from tests.support.polling import wait_for

START_TIMEOUT_S: Final = 90.0


def cloud_env(database_url: str, mqtt_url: str | None, **extra: str) -> dict[str, str]:
    """The environment of one cloud process (``extra`` as ``MPM_<NAME>`` variables).

    A development set-up, said explicitly: the bench's broker admits anonymous clients and the
    cloud runs with the development master key, both of which production refuses. The caller's own
    ``MPM_*`` variables are not passed on: the bench alone decides the settings its figures rest on.
    """
    env = {name: value for name, value in os.environ.items() if not name.startswith("MPM_")}
    env |= {
        "MPM_DATABASE_URL": database_url,
        "MPM_MQTT_SHARED_GROUP": "ingest",
        "MPM_ENVIRONMENT": "development",
    }
    if mqtt_url:
        env["MPM_MQTT_URL"] = mqtt_url
    return env | {f"MPM_{name.upper()}": value for name, value in extra.items()}


def start_cloud(group: ProcessGroup, env: dict[str, str], name: str = "cloud") -> str:
    """``mpm-cloud serve`` on a free port; returns the API base URL once it serves (and, with MQTT
    on, once its ingest has subscribed)."""
    port = free_port()
    child = group.start(name, [str(BIN / "mpm-cloud"), "serve", "--port", str(port)], env)
    log = group.log_dir / f"{name}.log"

    def ready() -> bool:
        if child.poll() is not None:
            return True
        subscribed = "MPM_MQTT_URL" not in env or "ingest subscribed" in log.read_text(errors="replace")
        return subscribed and accepts_tcp("127.0.0.1", port)

    wait_for(ready, timeout=START_TIMEOUT_S, interval=0.1, what=f"{name} to serve")
    if child.poll() is not None:
        raise RuntimeError(f"{name} exited at start:\n{group.log_tail(name)}")
    return f"http://127.0.0.1:{port}/api/v1"


def agent_config(
    directory: Path,
    *,
    agent_id: str,
    mqtt_url: str,
    outbox: Path,
    devices: str = "",
    ack_timeout_s: float = 10.0,
) -> Path:
    """An agent.toml: no health server (several agents may run at once), a roomy outbox cap."""
    path = directory / f"{agent_id}.toml"
    path.write_text(
        f"""agent_id = "{agent_id}"
[mqtt]
url = "{mqtt_url}"
keepalive_s = 10
ack_timeout_s = {ack_timeout_s}
[outbox]
path = "{outbox}"
max_bytes = {MAX_BYTES}
[observability]
enabled = false
{devices}"""
    )
    return path


def start_agent(group: ProcessGroup, config: Path, name: str = "agent") -> int:
    """``mpm-agent run --config``; returns its pid (readiness: see ``bench.mqtt_probe``)."""
    child = group.start(name, [str(BIN / "mpm-agent"), "run", "--config", str(config)])
    return child.pid


def vm_rss_mib(pid: int) -> float:
    """Resident memory of ``pid`` in MiB (Linux ``/proc``), 0.0 once it has gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time ``pid`` has used so far (Linux ``/proc``), 0.0 once it has gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

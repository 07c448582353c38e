"""A bare agent's configuration file, as the fleet end-to-end tests start agents."""

from __future__ import annotations

from pathlib import Path

from tests.support.broker import Broker


def bare_agent_config(tmp_path: Path, broker: Broker, agent_id: str) -> Path:
    """What the installer left on the box: identity, broker, outbox; no devices at all."""
    config = tmp_path / "agent.toml"
    config.write_text(
        f'agent_id = "{agent_id}"\nstatus_interval_s = 1\n'
        f'[mqtt]\nurl = "{broker.url}"\nkeepalive_s = 5\n'
        f'[outbox]\npath = "{tmp_path / "outbox.db"}"\n'
        "[observability]\nenabled = false\n"
    )
    return config

"""``mpm-agent config show`` for the agent: the layered TOML plus the cloud's saved device inventory.

The devices shown are the ones the agent runs: those of the local files (pinned by the installer)
and then the cloud inventory's others. With ``--sources``, a value the cloud set says
``# from cloud inventory version N``; a local device of the same name as a cloud one says where in
the files it is pinned, so the output shows which source won for every value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from edge_agent.config import AgentConfig
from edge_agent.ops.config_commands import render_effective, show_command
from edge_agent.settings_layers import ConfigError, Source, format_path, load_layered
from edge_agent.site_inventory import load_saved, merged


def show_agent_config(
    main_path: Path, env: Mapping[str, str], overrides: Sequence[str], out: TextIO, *, with_sources: bool
) -> int:
    """Print the effective agent configuration; 0, or 78 when the files do not validate."""
    try:
        config, sources = load_layered(AgentConfig, main_path, env, overrides)
    except ConfigError:
        return show_command(AgentConfig, main_path, env, overrides, out, with_sources=with_sources)
    cloud = load_saved(config.outbox.path.parent)
    devices, device_sources = merged(config.devices, cloud)
    effective = config.model_copy(update={"devices": devices})
    all_sources = dict(sources)
    if cloud is not None:
        origin = Source(kind="cloud", where=f"cloud inventory version {cloud.version}")
        for index, device in enumerate(devices):
            if device_sources[device.name] == "cloud":
                for key in cloud.given[device.name]:
                    all_sources[format_path(("devices", index, key))] = origin
    out.write(render_effective(effective, all_sources if with_sources else None))
    return 0

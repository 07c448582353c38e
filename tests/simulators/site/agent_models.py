"""The agent's own inventory models, to check what the site runner writes for an agent."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Final

from pydantic import BaseModel

from edge_agent.drivers.alpha_sign.config import AlphaSignConfig
from edge_agent.drivers.isapi.config import IsapiFaceConfig
from edge_agent.drivers.modbus_led.config import ModbusLedConfig
from edge_agent.drivers.zk_push.config import ZkPushConfig
from edge_agent.drivers.zkteco.config import ZkTerminalConfig

AGENT_MODELS: Final[dict[str, type[BaseModel]]] = {
    "zkteco": ZkTerminalConfig,
    "zk_push": ZkPushConfig,
    "isapi_face": IsapiFaceConfig,
    "alpha_sign": AlphaSignConfig,
    "modbus_led": ModbusLedConfig,
}


def validated_inventory(path: Path) -> dict[str, BaseModel]:
    """Every ``[[devices]]`` entry of ``path`` validated by its agent model, by name."""
    entries = tomllib.loads(path.read_text(encoding="utf-8"))["devices"]
    return {entry["name"]: AGENT_MODELS[entry["kind"]].model_validate(entry) for entry in entries}

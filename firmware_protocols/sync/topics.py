"""MQTT topic layout of the edge↔cloud contract (shared/DESIGN.md, "The edge↔cloud contract").

Every topic is rooted at the agent's enrolled identity, which is also its MQTT username and
certificate CN, so one broker ACL pattern (``mpm/v1/%u/#``) confines an agent to its own subtree.
Topics never carry tenant ids: the cloud maps an agent to its organisation.
"""

from __future__ import annotations

import enum
import re
from typing import Final

from firmware_protocols.sync.errors import SyncProtocolError

ROOT: Final = "mpm/v1"
AGENT_ID_PATTERN: Final = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")


class Channel(enum.Enum):
    """The five channels of an agent's subtree, with their path below ``mpm/v1/{agent}/``."""

    EVENTS = "up/events"
    ACK = "down/ack"
    DISPLAY = "down/display"
    COMMAND = "down/cmd"
    STATUS = "status"


def validate_agent_id(agent_id: str) -> str:
    """Return ``agent_id`` if it is a valid agent identity (``[a-z0-9-]+``, ≤ 64 chars)."""
    if not AGENT_ID_PATTERN.fullmatch(agent_id):
        raise SyncProtocolError(f"agent id {agent_id!r} must match [a-z0-9-]+ (1-64 chars)")
    return agent_id


def topic(agent_id: str, channel: Channel) -> str:
    """The topic of ``channel`` for one agent."""
    return f"{ROOT}/{validate_agent_id(agent_id)}/{channel.value}"


def subscription(channel: Channel, *, shared_group: str | None = None) -> str:
    """A wildcard subscription to ``channel`` of every agent, optionally as an MQTT 5 shared group."""
    pattern = f"{ROOT}/+/{channel.value}"
    return f"$share/{shared_group}/{pattern}" if shared_group else pattern


def parse_topic(name: str) -> tuple[str, Channel]:
    """Split a concrete topic into (agent id, channel); raises ``SyncProtocolError`` otherwise."""
    prefix = ROOT + "/"
    if not name.startswith(prefix):
        raise SyncProtocolError(f"topic {name!r} is not under {ROOT}/")
    agent_id, _, rest = name[len(prefix) :].partition("/")
    for channel in Channel:
        if rest == channel.value:
            return validate_agent_id(agent_id), channel
    raise SyncProtocolError(f"topic {name!r} names no known channel")

"""The MQTT link to the cloud (aiomqtt): reconnect loop, batch sender, commands."""

from edge_agent.link.backoff import Backoff
from edge_agent.link.client import make_client, tls_context
from edge_agent.link.commands import DEFAULT_HANDLERS, CommandRunner
from edge_agent.link.sender import BatchSender, LinkHung
from edge_agent.link.session import Link

__all__ = [
    "DEFAULT_HANDLERS",
    "Backoff",
    "BatchSender",
    "CommandRunner",
    "Link",
    "LinkHung",
    "make_client",
    "tls_context",
]

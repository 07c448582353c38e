"""The agent's MQTT socket: every packet leaves at once (no Nagle delay behind a delayed ACK)."""

from __future__ import annotations

import socket
from pathlib import Path

import aiomqtt

from edge_agent.link import make_client
from tests.edge_agent.link.support import AGENT, agent_config
from tests.support.broker import Broker


def nodelay(client: aiomqtt.Client) -> int:
    sock = client._client.socket()  # the connected paho socket
    assert isinstance(sock, socket.socket)
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


async def test_the_agent_socket_has_tcp_nodelay(broker: Broker, tmp_path: Path) -> None:
    config = agent_config(broker, tmp_path)
    async with make_client(config.mqtt, AGENT) as client:
        assert nodelay(client) != 0


async def test_control_a_default_client_socket_has_nagle_on(broker: Broker) -> None:
    async with aiomqtt.Client(broker.host, broker.port, identifier="plain") as client:
        assert nodelay(client) == 0

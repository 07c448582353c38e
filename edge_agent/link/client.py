"""Building the aiomqtt client: identity, last will, keepalive and TLS (verification always on)."""

from __future__ import annotations

import socket
import ssl

import aiomqtt

from edge_agent.config import MqttConfig, TlsConfig
from firmware_protocols.sync import AgentStatus, Channel, encode, topic

OFFLINE = AgentStatus(state="offline")

# Nagle's algorithm holds a small write while an earlier one is unacknowledged; with the peer's
# delayed ACK that is up to 40 ms per batch at a low event rate. MQTT packets are whole writes,
# so every one goes out at once. (The broker needs the same: Mosquitto's ``set_tcp_nodelay true``.)
NO_DELAY = ((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),)


def tls_context(tls: TlsConfig) -> ssl.SSLContext:
    """A verifying client context: the given CA file or the system store; client cert for mutual TLS."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=tls.ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if tls.cert_file is not None:
        context.load_cert_chain(tls.cert_file, tls.key_file)
    # create_default_context already sets these; stated so no later edit can weaken them.
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def make_client(config: MqttConfig, agent_id: str) -> aiomqtt.Client:
    """An unconnected client whose last will is the retained offline status."""
    will = aiomqtt.Will(topic(agent_id, Channel.STATUS), encode(OFFLINE), qos=1, retain=True)
    return aiomqtt.Client(
        config.host,
        config.port,
        username=config.username,
        password=config.password.get_secret_value() if config.password else None,
        identifier=f"mpm-agent-{agent_id}",
        clean_session=False,  # commands queued while we were away are delivered on reconnect
        will=will,
        keepalive=config.keepalive_s,
        timeout=max(config.ack_timeout_s, 5.0),
        tls_context=tls_context(config.tls) if config.uses_tls else None,
        socket_options=NO_DELAY,
    )

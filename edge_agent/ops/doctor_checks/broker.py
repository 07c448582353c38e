"""Broker check: TCP connect, then a real MQTT CONNECT with the agent's credentials and TLS, time-bound.

The probe uses its own client id (``mpm-doctor-…``) and a clean session without a last will, so it
never takes over the running agent's session (same client id would disconnect it) nor publishes.
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import time

import aiomqtt

from edge_agent.config import MqttConfig
from edge_agent.ops.doctor_checks.result import CheckResult, fail, ok

NAME = "broker"


def _tcp_problem(config: MqttConfig, timeout_s: float) -> str | None:
    try:
        with socket.create_connection((config.host, config.port), timeout=timeout_s):
            return None
    except OSError as error:
        return f"TCP connect to {config.host}:{config.port} failed: {error.strerror or error}"


def _client(config: MqttConfig, agent_id: str, timeout_s: float) -> aiomqtt.Client:
    from edge_agent.link.client import tls_context  # the agent's own TLS settings, verification on

    return aiomqtt.Client(
        config.host,
        config.port,
        username=config.username,
        password=config.password.get_secret_value() if config.password else None,
        identifier=f"mpm-doctor-{agent_id}-{os.getpid()}",
        clean_session=True,
        keepalive=config.keepalive_s,
        timeout=timeout_s,
        tls_context=tls_context(config.tls) if config.uses_tls else None,
    )


async def _mqtt_connect(config: MqttConfig, agent_id: str, timeout_s: float) -> None:
    async with asyncio.timeout(timeout_s), _client(config, agent_id, timeout_s):
        pass


def check_broker(config: MqttConfig, agent_id: str, *, timeout_s: float) -> CheckResult:
    """The broker accepts a TCP connection and our MQTT CONNECT within ``timeout_s``."""
    problem = _tcp_problem(config, timeout_s)
    if problem:
        return fail(NAME, problem)
    started = time.monotonic()
    try:
        asyncio.run(_mqtt_connect(config, agent_id, timeout_s))
    except TimeoutError:
        return fail(NAME, f"{config.url}: no CONNACK within {timeout_s:.0f} s")
    except (aiomqtt.MqttError, ssl.SSLError, OSError) as error:
        return fail(NAME, f"{config.url}: MQTT CONNECT failed: {error}")
    elapsed_ms = (time.monotonic() - started) * 1000
    return ok(NAME, f"{config.url} accepted CONNECT in {elapsed_ms:.0f} ms")

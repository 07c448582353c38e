"""Broker check: ask the running service first; otherwise TCP connect, then a real MQTT CONNECT with
the agent's credentials and TLS, time-bound.

Rule: a broker set up by ``mpm-cloud broker-config`` forces the client id to the certificate's name,
so a CONNECT with the box's certificate would take the running service's session over (and its clean
session would wipe the service's). So when this box's service answers on its ``/readyz`` (same agent
id), its own link state is the answer and nothing connects. Only without a running service does the
probe connect, with a clean session, no last will, and nothing published.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import ssl
import time
import urllib.error
import urllib.request

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


def _running_service(readyz_url: str, agent_id: str, timeout_s: float) -> dict[str, object] | None:
    """This box's running service's ``/readyz`` body, or None when no service of this agent answers."""
    try:
        with urllib.request.urlopen(readyz_url, timeout=timeout_s) as answer:
            raw = answer.read(65536)
    except urllib.error.HTTPError as not_ready:  # 503: the service runs and says why it is not ready
        raw = not_ready.read(65536)
    except (OSError, ValueError):
        return None
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    return body if isinstance(body, dict) and body.get("agent_id") == agent_id else None


def check_broker(
    config: MqttConfig, agent_id: str, *, timeout_s: float, readyz_url: str | None = None
) -> CheckResult:
    """The running service's link is up, or (no service) the broker accepts our CONNECT in ``timeout_s``."""
    service = _running_service(readyz_url, agent_id, timeout_s) if readyz_url else None
    if service is not None:
        if service.get("link_connected") is True:
            return ok(NAME, f"{config.url}: the running service is connected (its /readyz; not probed)")
        return fail(NAME, f"{config.url}: the running service is not connected ({service.get('reason')})")
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

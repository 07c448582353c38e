"""Refuse to ingest from a broker that admits anonymous clients (outside development).

On such a broker anyone who reaches it can publish on ``mpm/v1/<agent>/up/events`` and the cloud
would store it. The probe connects the way a stranger would: TLS that verifies the broker (when
mqtts://) but no client certificate, no username, no password. A CONNACK success means the broker is
open. A broker we cannot reach cannot be judged: the service starts and says so.
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import ssl
from typing import Final

import aiomqtt

from cloud.settings import CloudSettings, MqttEndpoint

PROBE_TIMEOUT_S: Final = 10.0


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ProbeResult:
    """``admits_anonymous`` is None when the broker could not be reached or its certificate not checked."""

    admits_anonymous: bool | None
    detail: str


async def probe_anonymous(endpoint: MqttEndpoint, timeout: float = PROBE_TIMEOUT_S) -> ProbeResult:  # noqa: ASYNC109
    """Try an anonymous CONNECT to ``endpoint``."""
    try:
        _reader, writer = await asyncio.wait_for(
            asyncio.open_connection(endpoint.host, endpoint.port), timeout
        )
    except (OSError, TimeoutError) as error:
        return ProbeResult(admits_anonymous=None, detail=f"unreachable: {error}")
    writer.close()
    client = aiomqtt.Client(
        endpoint.host,
        endpoint.port,
        identifier=f"mpm-cloud-anonymous-probe-{secrets.token_hex(4)}",
        tls_context=_server_only_tls(endpoint),
        timeout=timeout,
    )
    try:
        async with client:
            return ProbeResult(admits_anonymous=True, detail="CONNACK success without any credentials")
    except aiomqtt.MqttError as error:
        if "verify failed" in str(error).lower():
            return ProbeResult(admits_anonymous=None, detail=f"broker certificate not verified: {error}")
        return ProbeResult(admits_anonymous=False, detail=f"refused: {error}")


def open_broker_refusal(settings: CloudSettings) -> str | None:
    """The message to exit with when ingest must not run against this broker; None to go on."""
    endpoint = settings.mqtt_endpoint()
    if endpoint is None or settings.environment == "development":
        return None
    result = asyncio.run(probe_anonymous(endpoint))
    if not result.admits_anonymous:
        return None
    return (
        f"refusing to run ingest: the broker at {endpoint.host}:{endpoint.port} admits anonymous clients "
        f"({result.detail}), so anyone could publish events as any agent. Generate its configuration with "
        "`mpm-cloud broker-config` (mutual TLS, allow_anonymous false), or set MPM_ENVIRONMENT=development "
        "for a local test broker."
    )


def _server_only_tls(endpoint: MqttEndpoint) -> ssl.SSLContext | None:
    if not endpoint.tls:
        return None
    return ssl.create_default_context(cafile=str(endpoint.ca_file) if endpoint.ca_file else None)

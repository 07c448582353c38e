"""The cloud's TLS to the broker: a context from MPM_MQTT_CA_FILE / CERT_FILE / KEY_FILE, and log lines
that name the file or certificate at fault when TLS fails (the usual cause of "cannot connect")."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.x509.oid import NameOID

from cloud.settings import MqttEndpoint

# A broker that refuses our client certificate says so in a TLS alert that, under TLS 1.3, arrives
# after the handshake; paho only logs it. A second, bare TLS connection reads that alert back.
ALERT_WAIT_S: Final = 2.0
CONNECT_WAIT_S: Final = 5.0


class MqttTlsError(Exception):
    """The TLS files cannot be used as configured (missing, unreadable, key not matching)."""


def client_tls_context(endpoint: MqttEndpoint) -> ssl.SSLContext | None:
    """TLS for ``mqtts://`` (mutual when a client certificate is configured); None for ``mqtt://``."""
    if not endpoint.tls:
        return None
    try:
        context = ssl.create_default_context(cafile=str(endpoint.ca_file) if endpoint.ca_file else None)
    except (OSError, ssl.SSLError) as error:
        raise MqttTlsError(f"MPM_MQTT_CA_FILE={endpoint.ca_file}: cannot load the CA: {error}") from error
    if endpoint.cert_file is not None and endpoint.key_file is not None:
        try:
            context.load_cert_chain(endpoint.cert_file, endpoint.key_file)
        except (OSError, ssl.SSLError) as error:
            raise MqttTlsError(
                f"MPM_MQTT_CERT_FILE={endpoint.cert_file} / MPM_MQTT_KEY_FILE={endpoint.key_file}: "
                f"cannot load the client certificate and key: {error}"
            ) from error
    return context


async def explain_connect_failure(endpoint: MqttEndpoint, error: str) -> str | None:
    """For a connection that failed before subscribing: a sentence naming the TLS file or certificate
    at fault, or None when TLS is not the cause."""
    if endpoint.tls and explain_tls_failure(endpoint, error) is None:
        error = await _tls_alert(endpoint) or error
    return explain_tls_failure(endpoint, error)


async def _tls_alert(endpoint: MqttEndpoint) -> str | None:
    try:
        context = client_tls_context(endpoint)
        connecting = asyncio.open_connection(endpoint.host, endpoint.port, ssl=context)
        reader, writer = await asyncio.wait_for(connecting, CONNECT_WAIT_S)
    except (ssl.SSLError, MqttTlsError) as error:
        return str(error)
    except (OSError, TimeoutError):
        return None
    try:
        await asyncio.wait_for(reader.read(1), ALERT_WAIT_S)  # silence: the broker accepted us
    except ssl.SSLError as error:
        return str(error)
    except (OSError, TimeoutError):
        return None
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()
    return None


def explain_tls_failure(endpoint: MqttEndpoint, error: str) -> str | None:
    """A sentence naming the configured files when ``error`` is a TLS failure; None otherwise."""
    lowered = error.lower()
    if "ssl" not in lowered and "certificate" not in lowered and "tls" not in lowered:
        return None
    where = f"{endpoint.host}:{endpoint.port}"
    if "verify failed" in lowered:
        return (
            f"TLS to {where}: the broker's certificate does not verify ({error}); MPM_MQTT_CA_FILE="
            f"{endpoint.ca_file or '(system trust store)'} must hold the CA that signed it"
        )
    if endpoint.cert_file is None:
        return (
            f"TLS to {where} failed ({error}): the broker may require a client certificate; set "
            "MPM_MQTT_CERT_FILE and MPM_MQTT_KEY_FILE (mpm-cloud mqtt-identity)"
        )
    return (
        f"TLS to {where} failed ({error}): the broker refused the client certificate "
        f"MPM_MQTT_CERT_FILE={endpoint.cert_file} ({describe_certificate(endpoint.cert_file)}); "
        "is it issued by the broker's agent CA, unexpired and not revoked?"
    )


def describe_certificate(path: Path) -> str:
    """``CN=…, issuer CN=…, expires …`` for a PEM certificate, or why it cannot be read."""
    try:
        certificate = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as error:
        return f"unreadable: {error}"
    return (
        f"CN={_cn(certificate.subject)}, issuer CN={_cn(certificate.issuer)}, "
        f"expires {certificate.not_valid_after_utc:%Y-%m-%d}"
    )


def _cn(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else "?"

"""Enrol this agent with the cloud: token + CSR in, certificate and identity out (ACC-3).

Contract (the cloud route implements it): ``POST {cloud_url}/api/v1/enrol`` with JSON
``{"token", "csr"}``; success is JSON ``{"agent_id", "certificate", "ca_certificate", "mqtt_url"}``;
a refusal is a 4xx RFC 9457 problem+json whose ``detail`` says why.

The new key is written as ``agent.key.pending`` and only replaces ``agent.key`` once the answer has been
checked (the certificate is for our key, names the agent id, and chains to the CA sent with it), so a
failed re-enrolment leaves a working enrolment untouched. The ``enrolled`` marker is written last:
it is the commit point that systemd's ``ConditionPathExists`` and ``doctor`` look at.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from edge_agent.enrolment import files as names
from edge_agent.enrolment._files import write_atomic
from edge_agent.enrolment.keys import generate_key_and_csr, load_private_key
from edge_agent.enrolment.verify import check_issued
from firmware_protocols.sync import validate_agent_id
from firmware_protocols.sync.errors import SyncProtocolError

ENROL_PATH: Final = "/api/v1/enrol"
DEFAULT_TIMEOUT_S: Final = 30.0


class EnrolmentError(Exception):
    """Enrolment did not complete: cloud unreachable, server error, or an answer that does not check out."""


class EnrolmentRefused(EnrolmentError):
    """The cloud refused the enrolment (4xx); ``detail`` is its explanation for the operator."""

    def __init__(self, detail: str, status: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Enrolment:
    """The identity the cloud assigned and where its credentials now live."""

    agent_id: str
    mqtt_url: str
    enrolled_at: datetime
    key_file: Path
    certificate_file: Path
    ca_file: Path


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class _Answer:
    agent_id: str
    certificate_pem: str
    ca_pem: str
    mqtt_url: str


async def enroll(
    cloud_url: str,
    token: str,
    state_dir: Path,
    *,
    http_client: httpx.AsyncClient | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Enrolment:
    """Enrol with ``token``; store the certificate, CA and identity in ``state_dir``."""
    # Key generation and the fsyncs of the stored files block briefly: keep them off the event loop.
    csr = await asyncio.to_thread(generate_key_and_csr, state_dir, key_file=names.PENDING_KEY)
    pending = state_dir / names.PENDING_KEY
    try:
        body = await _post(
            f"{cloud_url.rstrip('/')}{ENROL_PATH}", {"token": token, "csr": csr}, http_client, timeout_s
        )
        answer = _parse_answer(body)
        problem = check_issued(
            answer.certificate_pem, answer.ca_pem, load_private_key(pending), answer.agent_id
        )
        if problem:
            raise EnrolmentError(f"the cloud's answer does not check out: {problem}")
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            pending.unlink()
        raise
    return await asyncio.to_thread(_store, state_dir, answer)


async def _post(
    url: str, body: dict[str, str], http_client: httpx.AsyncClient | None, timeout_s: float
) -> object:
    async with contextlib.AsyncExitStack() as stack:
        client = http_client
        if client is None:
            client = await stack.enter_async_context(httpx.AsyncClient(timeout=timeout_s))
        try:
            response = await client.post(url, json=body)
        except httpx.HTTPError as error:  # the message names the URL only, never the token
            raise EnrolmentError(f"cannot reach {url}: {error!s}") from error
    if response.is_client_error:
        raise EnrolmentRefused(_problem_detail(response), response.status_code)
    if not response.is_success:
        raise EnrolmentError(f"the cloud answered {response.status_code}: {_problem_detail(response)}")
    try:
        return response.json()
    except ValueError as error:
        raise EnrolmentError("the cloud's answer is not JSON") from error


def _problem_detail(response: httpx.Response) -> str:
    with contextlib.suppress(ValueError):
        problem = response.json()
        if isinstance(problem, dict):
            for field in ("detail", "title"):
                if isinstance(problem.get(field), str) and problem[field]:
                    return str(problem[field])
    return response.text[:200] or response.reason_phrase


def _parse_answer(body: object) -> _Answer:
    fields = ("agent_id", "certificate", "ca_certificate", "mqtt_url")
    if not isinstance(body, dict) or not all(isinstance(body.get(field), str) for field in fields):
        raise EnrolmentError(f"the cloud's answer lacks one of {', '.join(fields)}")
    try:
        agent_id = validate_agent_id(body["agent_id"])
    except SyncProtocolError as error:
        raise EnrolmentError(str(error)) from error
    if urlsplit(body["mqtt_url"]).scheme not in ("mqtt", "mqtts"):
        raise EnrolmentError(f"the cloud's mqtt_url {body['mqtt_url']!r} is not mqtt:// or mqtts://")
    return _Answer(
        agent_id=agent_id,
        certificate_pem=body["certificate"],
        ca_pem=body["ca_certificate"],
        mqtt_url=body["mqtt_url"],
    )


def _store(state_dir: Path, answer: _Answer) -> Enrolment:
    enrolled_at = datetime.now(UTC)
    marker = state_dir / names.MARKER
    # Uncommit first: between here and the new marker, the files may be a mix of old and new.
    with contextlib.suppress(FileNotFoundError):
        marker.unlink()
    write_atomic(state_dir / names.CERTIFICATE, _normalised_pem(answer.certificate_pem), mode=0o644)
    write_atomic(state_dir / names.CA, answer.ca_pem.encode(), mode=0o644)
    record = {
        "agent_id": answer.agent_id,
        "mqtt_url": answer.mqtt_url,
        "enrolled_at": enrolled_at.isoformat(),
    }
    write_atomic(state_dir / names.RECORD, json.dumps(record, indent=2).encode() + b"\n", mode=0o644)
    os.replace(state_dir / names.PENDING_KEY, state_dir / names.KEY)
    write_atomic(marker, f"{answer.agent_id}\n".encode(), mode=0o644)
    return Enrolment(
        agent_id=answer.agent_id,
        mqtt_url=answer.mqtt_url,
        enrolled_at=enrolled_at,
        key_file=state_dir / names.KEY,
        certificate_file=state_dir / names.CERTIFICATE,
        ca_file=state_dir / names.CA,
    )


def _normalised_pem(certificate_pem: str) -> bytes:
    return x509.load_pem_x509_certificate(certificate_pem.encode()).public_bytes(serialization.Encoding.PEM)

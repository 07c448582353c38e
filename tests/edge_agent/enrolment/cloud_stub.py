"""A tiny cloud that implements the enrol contract with a real CA, in process (httpx ASGITransport)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from cloud.pki import CertificateAuthority

CLOUD_URL = "https://cloud.test"
MQTT_URL = "mqtts://broker.test:8883"

Issuer = Callable[[str, str], str]  # (csr_pem, agent_id) -> certificate_pem


def problem(status: int, detail: str) -> Response:
    """An RFC 9457 problem document."""
    body = {"type": "about:blank", "title": "Enrolment refused", "status": status, "detail": detail}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


class EnrolCloud:
    """Single-use tokens mapped to the agent ids the cloud assigns; every request body is captured."""

    def __init__(
        self, ca: CertificateAuthority, tokens: dict[str, str], issuer: Issuer | None = None
    ) -> None:
        self.ca = ca
        self.tokens = dict(tokens)
        self.issuer = issuer or ca.sign_agent_csr
        self.bodies: list[bytes] = []
        self.status_override: int | None = None
        self.app = FastAPI()
        self.app.add_api_route("/api/v1/enrol", self.enrol, methods=["POST"])

    async def enrol(self, request: Request) -> Response:
        body = await request.body()
        self.bodies.append(body)
        if self.status_override is not None:
            return problem(self.status_override, "the cloud is having a bad day")
        data = json.loads(body)
        agent_id = self.tokens.pop(data["token"], None)  # single use: popped on first use
        if agent_id is None:
            return problem(403, "enrolment token is unknown, used or expired")
        return JSONResponse(
            {
                "agent_id": agent_id,
                "certificate": self.issuer(data["csr"], agent_id),
                "ca_certificate": self.ca.certificate_pem,
                "mqtt_url": MQTT_URL,
            }
        )

    @asynccontextmanager
    async def client(self) -> AsyncIterator[httpx.AsyncClient]:
        """An httpx client whose requests reach this app in process."""
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url=CLOUD_URL
        ) as client:
            yield client

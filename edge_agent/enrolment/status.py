"""Enrolment state for ``mpm-agent doctor``: enrolled?, as whom, until when, does the chain hold."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

from edge_agent.enrolment import files as names
from edge_agent.enrolment.keys import load_private_key
from edge_agent.enrolment.verify import chain_problem, common_name, window_problem


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class EnrolmentStatus:
    """What ``doctor`` reports; ``problems`` explains every False."""

    enrolled: bool
    agent_id: str | None = None
    mqtt_url: str | None = None
    days_to_expiry: int | None = None
    chain_ok: bool = False
    problems: tuple[str, ...] = ()


def enrolment_status(state_dir: Path, *, now: datetime | None = None) -> EnrolmentStatus:
    """Inspect the enrolment files in ``state_dir`` (never raises for missing or broken files)."""
    if not (state_dir / names.MARKER).exists():
        return EnrolmentStatus(enrolled=False, problems=(f"not enrolled: no {names.MARKER} marker",))
    try:
        record = json.loads((state_dir / names.RECORD).read_text())
        certificate = x509.load_pem_x509_certificate((state_dir / names.CERTIFICATE).read_bytes())
        ca = x509.load_pem_x509_certificate((state_dir / names.CA).read_bytes())
        key = load_private_key(state_dir / names.KEY)
    except (OSError, ValueError, TypeError) as error:
        return EnrolmentStatus(enrolled=True, problems=(f"enrolment files unreadable: {error}",))
    when = now or datetime.now(UTC)
    agent_id, mqtt_url = _text(record, "agent_id"), _text(record, "mqtt_url")
    problems = [
        problem
        for problem in (
            chain_problem(certificate, ca),
            window_problem(certificate, when),
            None if certificate.public_key() == key.public_key() else "agent.crt does not match agent.key",
            None if common_name(certificate) == agent_id else "agent.crt does not name the enrolled agent id",
        )
        if problem
    ]
    return EnrolmentStatus(
        enrolled=True,
        agent_id=agent_id,
        mqtt_url=mqtt_url,
        days_to_expiry=(certificate.not_valid_after_utc - when).days,
        chain_ok=not problems,
        problems=tuple(problems),
    )


def _text(record: object, field: str) -> str | None:
    value = record.get(field) if isinstance(record, dict) else None
    return value if isinstance(value, str) else None

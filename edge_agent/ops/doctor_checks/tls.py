"""TLS check: the client certificate chains to the configured CA, and how long until either expires.

Rule: expired (or not yet valid) → FAIL; fewer than ``cert_warn_days`` left → warn. The soonest expiry
of the CA and the client certificate is the one reported. ``mqtt://`` has no TLS at all: a warning.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from edge_agent.config import MqttConfig
from edge_agent.ops.doctor_checks.result import CheckResult, fail, ok, warn

NAME = "tls"


def _load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _chain_problem(certificate: x509.Certificate, ca: x509.Certificate) -> str | None:
    try:
        certificate.verify_directly_issued_by(ca)
    except (InvalidSignature, ValueError, TypeError):
        return "the client certificate was not issued by the configured CA"
    return None


def _window(label: str, certificate: x509.Certificate, now: dt.datetime) -> tuple[str | None, int]:
    """(problem, days left) of one certificate."""
    if now < certificate.not_valid_before_utc:
        return f"{label} is not valid before {certificate.not_valid_before_utc:%Y-%m-%d}", 0
    days = (certificate.not_valid_after_utc - now).days
    if now > certificate.not_valid_after_utc:
        return f"{label} expired on {certificate.not_valid_after_utc:%Y-%m-%d}", days
    return None, days


def check_tls(config: MqttConfig, *, warn_days: int, now: dt.datetime | None = None) -> CheckResult:
    """Chain and expiry of the configured CA and client certificate."""
    if not config.uses_tls:
        return warn(NAME, f"not used ({config.url} is plain MQTT)")
    when = now or dt.datetime.now(dt.UTC)
    tls = config.tls
    try:
        certificates = {"CA certificate": _load(tls.ca_file)} if tls.ca_file else {}
        if tls.cert_file:
            certificates["client certificate"] = _load(tls.cert_file)
    except (OSError, ValueError) as error:
        return fail(NAME, f"cannot read certificate: {error}")
    if not certificates:
        return ok(NAME, "server verified against the system CA store; no client certificate")
    if "CA certificate" in certificates and "client certificate" in certificates:
        problem = _chain_problem(certificates["client certificate"], certificates["CA certificate"])
        if problem:
            return fail(NAME, problem)
    windows = sorted((_window(label, cert, when) for label, cert in certificates.items()), key=lambda w: w[1])
    for problem, _days in windows:
        if problem:
            return fail(NAME, problem)
    days = windows[0][1]
    summary = f"{', '.join(certificates)} ok; {days} days to the first expiry"
    return warn(NAME, f"renew soon: {summary}") if days < warn_days else ok(NAME, summary)

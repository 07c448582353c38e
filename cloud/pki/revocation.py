"""Agent retirement at the broker: revoke every certificate issued to an agent in ``<ca dir>/crl.pem``.

Why a CRL and not short-lived certificates: a site box may be offline for weeks and must reconnect
without a renewal round-trip, so its certificate lives long (``DEFAULT_AGENT_DAYS``). Mosquitto checks
client certificates against a CRL file (``crlfile``), which needs no extra service (no OCSP responder)
and takes effect on the broker's next reload. The CRL is re-signed on each revocation and is valid
as long as the CA, so it never goes stale and locks every agent out.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from cryptography import x509

from cloud.pki._issued import serials_issued_to
from cloud.pki._policy import utc_now
from cloud.pki.authority import CRL_FILE, CertificateAuthority
from cloud.pki.errors import PkiError


def revoked_serials(directory: Path) -> dict[int, datetime]:
    """The serials ``crl.pem`` revokes, with when (empty when there is no CRL yet)."""
    try:
        crl = x509.load_pem_x509_crl((directory / CRL_FILE).read_bytes())
    except FileNotFoundError:
        return {}
    except ValueError as error:
        raise PkiError(f"{directory / CRL_FILE} is not a PEM CRL: {error}") from error
    return {entry.serial_number: entry.revocation_date_utc for entry in crl}


def revoke_agent(ca: CertificateAuthority, agent_id: str, *, now: datetime | None = None) -> list[int]:
    """Add every certificate issued to ``agent_id`` to the CRL; return the serials newly revoked."""
    if ca.directory is None:
        raise PkiError("this CA has no directory: nothing to revoke in")
    when = now or utc_now()
    with _locked(ca.directory):
        revoked = revoked_serials(ca.directory)
        fresh = [serial for serial in serials_issued_to(ca.directory, agent_id) if serial not in revoked]
        revoked |= dict.fromkeys(fresh, when)
        ca.write_crl(revoked=revoked.items(), now=when)
    return fresh


def ensure_crl(ca: CertificateAuthority) -> Path:
    """Write an (empty or current) CRL if the CA has none yet: the broker refuses to start without it."""
    if ca.directory is None:
        raise PkiError("this CA has no directory")
    with _locked(ca.directory):
        path = ca.directory / CRL_FILE
        if not path.exists():
            ca.write_crl(revoked=[])
    return path


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    # Two retirements at once must not each write a CRL missing the other's serials.
    fd = os.open(directory / ".crl.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)

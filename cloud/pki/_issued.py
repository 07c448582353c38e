"""The CA's record of issued agent certificates: one ``<serial hex> <agent id>`` line per certificate.

A CRL names certificates by serial, so retiring an agent needs every serial ever issued to it
(enrolment and each re-enrolment). The file is append-only, 0600, next to ``ca.key``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from cloud.pki.errors import PkiError

ISSUED_FILE: Final = "issued.txt"


def record_issued(directory: Path, serial: int, agent_id: str) -> None:
    """Append one issued certificate; durable before the certificate is handed out.

    A certificate that could not be recorded could never be revoked, so it is not issued: the
    failure is a ``PkiError`` naming the file.
    """
    try:
        fd = os.open(directory / ISSUED_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, f"{serial:x} {agent_id}\n".encode())
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as error:
        raise PkiError(
            f"cannot record the certificate for {agent_id} in {directory / ISSUED_FILE} (the cloud must be "
            f"able to write the CA directory): {error}"
        ) from error


def serials_issued_to(directory: Path, agent_id: str) -> list[int]:
    """Every serial issued to ``agent_id`` (empty when none was recorded)."""
    try:
        lines = (directory / ISSUED_FILE).read_text().splitlines()
    except FileNotFoundError:
        return []
    serials = []
    for line in lines:
        serial, _, owner = line.partition(" ")
        if owner == agent_id:
            serials.append(int(serial, 16))
    return serials

"""Errors of the agent CA: a refused request or a certificate that does not verify."""

from __future__ import annotations


class PkiError(Exception):
    """Base class of every error raised by ``cloud.pki``."""


class CsrRejected(PkiError):
    """A certificate signing request the CA refuses (bad signature, key type or size, agent id)."""


class CertificateRejected(PkiError):
    """A certificate that is not a valid agent certificate of this CA (chain, validity, usage)."""

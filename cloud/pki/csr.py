"""Reading an agent's CSR, totally: any input is either one verified request or ``CsrRejected`` with a
reason an installer can act on, never ``ValueError`` from deep inside the X.509 parser.

Rules: exactly one PEM block of type CERTIFICATE REQUEST; its public key must decode (a damaged EC
point or RSA modulus is refused here, not when signing); the self-signature must use SHA-256/384/512
and verify. Key type and size are ``_policy.check_public_key``'s concern.
"""

from __future__ import annotations

from typing import Final

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes

from cloud.pki.errors import CsrRejected

PEM_BEGIN: Final = b"-----BEGIN CERTIFICATE REQUEST-----"
ACCEPTED_HASHES: Final = (hashes.SHA256, hashes.SHA384, hashes.SHA512)


def load_csr(csr_pem: str | bytes) -> x509.CertificateSigningRequest:
    """One verified CSR from ``csr_pem``; ``CsrRejected`` naming what is wrong otherwise."""
    data = _as_bytes(csr_pem)
    if data.count(PEM_BEGIN) != 1:
        raise CsrRejected("the CSR must be exactly one PEM block 'BEGIN CERTIFICATE REQUEST'")
    try:
        csr = x509.load_pem_x509_csr(data)
    except ValueError as error:
        raise CsrRejected("the CSR is not a PEM certificate signing request") from error
    try:
        csr.public_key()
    except (ValueError, UnsupportedAlgorithm) as error:
        raise CsrRejected(f"the CSR's public key is damaged or unsupported ({error})") from error
    _check_hash(csr)
    try:
        valid = csr.is_signature_valid
    except (ValueError, UnsupportedAlgorithm) as error:
        raise CsrRejected(f"the CSR's signature cannot be checked ({error})") from error
    if not valid:
        raise CsrRejected("the CSR's signature does not verify (no proof of the private key)")
    return csr


def _as_bytes(csr_pem: str | bytes) -> bytes:
    if isinstance(csr_pem, bytes):
        return csr_pem
    try:
        return csr_pem.encode("ascii")
    except UnicodeEncodeError as error:
        raise CsrRejected("the CSR must be ASCII PEM text") from error


def _check_hash(csr: x509.CertificateSigningRequest) -> None:
    try:
        algorithm = csr.signature_hash_algorithm
    except UnsupportedAlgorithm as error:
        raise CsrRejected(f"the CSR's signature algorithm is not supported ({error})") from error
    if algorithm is not None and not isinstance(algorithm, ACCEPTED_HASHES):
        raise CsrRejected(f"the CSR is signed with {algorithm.name}; use SHA-256, SHA-384 or SHA-512")

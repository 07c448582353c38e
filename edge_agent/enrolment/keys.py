"""The agent's own key pair and its certificate signing request (ACC-3).

The private key is made here, written 0600 into the state directory and never leaves it: not in a
request, not in a log line. The CSR carries a placeholder subject because the cloud assigns the
agent's identity and ignores whatever the agent asks for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from edge_agent.enrolment import files as names
from edge_agent.enrolment._files import write_atomic

KEY_FILE: Final = names.KEY
PLACEHOLDER_SUBJECT: Final = "mpm-agent-awaiting-id"


def generate_key_and_csr(state_dir: Path, *, key_file: str = KEY_FILE) -> str:
    """Make an EC P-256 key (``state_dir/key_file``, mode 0600) and return a PEM CSR for it."""
    key = ec.generate_private_key(ec.SECP256R1())
    state_dir.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    write_atomic(state_dir / key_file, pem, mode=0o600)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, PLACEHOLDER_SUBJECT)])
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def load_private_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """The agent key written by ``generate_key_and_csr``."""
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path} does not hold an EC private key")
    return key

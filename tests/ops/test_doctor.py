"""``mpm-agent doctor`` against broken fixtures: each breaks exactly one line and fails the exit code.

Real parts only: a real Mosquitto (plain and TLS), certificates made with ``cryptography``, an HTTP
server whose Date header is the clock reference, a real pty opened by a process running as nobody.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import getpass
import io
import json
import os
import pty
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from edge_agent.cli import main
from tests.support.broker import Broker, running_broker
from tests.support.network import free_port

AGENT = "site-doc"
NOBODY = 65534
DIALOUT = 20
NOW = dt.datetime.now(dt.UTC)

# --- fixtures: a clock reference, config files, certificates ---------------------------------


@contextmanager
def time_server(offset: dt.timedelta) -> Iterator[str]:
    """An HTTP server whose Date header is our clock + ``offset``; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:
            self.send_response_only(200)
            stamp = (dt.datetime.now(dt.UTC) + offset).timestamp()
            self.send_header("Date", email.utils.formatdate(stamp, usegmt=True))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def true_time() -> Iterator[str]:
    with time_server(dt.timedelta(0)) as url:
        yield url


def write_config(directory: Path, url: str, *, extra: str = "", tls: str = "") -> Path:
    text = (
        f'agent_id = "{AGENT}"\n[mqtt]\nurl = "{url}"\n{tls}\n[outbox]\npath = "{directory / "outbox.db"}"\n'
    )
    path = directory / "agent.toml"
    path.write_text(text + extra)
    return path


def doctor(
    capsys: pytest.CaptureFixture[str], config: Path, reference: str, *extra: str
) -> tuple[int, list[str]]:
    code = main(
        ["doctor", "--config", str(config), "--time-reference", reference, "--min-free-mib", "1", *extra]
    )
    return code, capsys.readouterr().out.splitlines()


def failing(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("FAIL")]


@dataclass
class Pki:
    ca: x509.Certificate
    ca_key: ec.EllipticCurvePrivateKey
    directory: Path

    def issue(self, name: str, *, days: tuple[int, int], server: bool = False) -> tuple[Path, Path]:
        """A leaf certificate valid from NOW+days[0] to NOW+days[1]; returns (cert, key) paths."""
        key = ec.generate_private_key(ec.SECP256R1())
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = _builder(name, key, self.ca.subject, days).add_extension(
            x509.ExtendedKeyUsage([usage]), critical=False
        )
        if server:
            import ipaddress

            san = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        cert = builder.sign(self.ca_key, hashes.SHA256())
        return _write(self.directory, name, cert, key)


def _builder(
    name: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name, days: tuple[int, int]
) -> x509.CertificateBuilder:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW + dt.timedelta(days=days[0]))
        .not_valid_after(NOW + dt.timedelta(days=days[1]))
    )


def _write(
    directory: Path, name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> tuple[Path, Path]:
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key_path.write_bytes(pem)
    return cert_path, key_path


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "doctor test CA")])
    ca = (
        _builder("doctor test CA", key, name, (-1, 3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    _write(tmp_path, "ca", ca, key)
    return Pki(ca=ca, ca_key=key, directory=tmp_path)


@pytest.fixture
def tls_broker(pki: Pki, tmp_path: Path) -> Iterator[Broker]:
    """Mosquitto with a TLS listener (server cert from our CA); client certificates not required."""
    cert, key = pki.issue("broker", days=(-1, 365), server=True)
    extra = f"user {getpass.getuser()}\ncafile {pki.directory / 'ca.crt'}\ncertfile {cert}\nkeyfile {key}\n"
    with running_broker(tmp_path, extra + "require_certificate false\n") as broker:
        yield broker


def tls_section(pki: Pki, client: tuple[Path, Path]) -> str:
    ca = pki.directory / "ca.crt"
    return f'[mqtt.tls]\nca_file = "{ca}"\ncert_file = "{client[0]}"\nkey_file = "{client[1]}"\n'


# --- healthy control and one broken fixture per check ------------------------------------------


def test_healthy_box_passes_every_check(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, broker: Broker, true_time: str
) -> None:
    code, lines = doctor(capsys, write_config(tmp_path, broker.url), true_time)
    assert (code, failing(lines)) == (0, [])
    names = [line.split()[1].rstrip(":") for line in lines]
    assert names == ["config", "clock", "tls", "broker", "serial", "outbox", "backlog", "disk"]
    assert any(line.startswith("ok      broker: mqtt://127.0.0.1") for line in lines)


def test_bad_config_is_the_only_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, true_time: str
) -> None:
    config = write_config(tmp_path, "mqtt://127.0.0.1:1883")
    config.write_text(config.read_text().replace("[mqtt]\n", "[mqtt]\nkeepalive_s = 31\n"))
    code, lines = doctor(capsys, config, true_time)
    assert code == 1
    assert len(lines) == 1
    assert lines[0].startswith("FAIL    config:")
    assert "keepalive_s" in lines[0]


def test_unreachable_broker_fails_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, true_time: str
) -> None:
    code, lines = doctor(capsys, write_config(tmp_path, f"mqtt://127.0.0.1:{free_port()}"), true_time)
    assert code == 1
    assert [line.split()[1] for line in failing(lines)] == ["broker:"]
    assert "refused" in failing(lines)[0]


def test_skewed_clock_fails_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, broker: Broker
) -> None:
    with time_server(dt.timedelta(minutes=10)) as skewed:
        code, lines = doctor(capsys, write_config(tmp_path, broker.url), skewed)
    assert code == 1
    (line,) = failing(lines)
    assert line.startswith("FAIL    clock: skewed -600 s") or line.startswith("FAIL    clock: skewed -599 s")


def test_unusable_clock_reference_is_unknown_not_a_failure(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, broker: Broker
) -> None:
    code, lines = doctor(capsys, write_config(tmp_path, broker.url), f"http://127.0.0.1:{free_port()}/")
    assert code == 0
    assert any(line.startswith("unknown clock:") for line in lines)


def test_valid_client_certificate_over_tls(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, pki: Pki, tls_broker: Broker, true_time: str
) -> None:
    client = pki.issue(AGENT, days=(-1, 200))
    url = f"mqtts://127.0.0.1:{tls_broker.port}"
    code, lines = doctor(capsys, write_config(tmp_path, url, tls=tls_section(pki, client)), true_time)
    assert (code, failing(lines)) == (0, [])
    tls_line = next(line for line in lines if " tls:" in line)
    assert (
        tls_line.startswith("ok      tls: CA certificate, client certificate ok; 198 days")
        or "199 days" in tls_line
    )


def test_expired_client_certificate_fails_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, pki: Pki, tls_broker: Broker, true_time: str
) -> None:
    client = pki.issue(AGENT, days=(-400, -2))
    url = f"mqtts://127.0.0.1:{tls_broker.port}"
    code, lines = doctor(capsys, write_config(tmp_path, url, tls=tls_section(pki, client)), true_time)
    assert code == 1
    (line,) = failing(lines)
    assert line.startswith("FAIL    tls: client certificate expired on")


def test_certificate_expiring_soon_warns_without_failing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, pki: Pki, tls_broker: Broker, true_time: str
) -> None:
    client = pki.issue(AGENT, days=(-300, 10))
    url = f"mqtts://127.0.0.1:{tls_broker.port}"
    code, lines = doctor(capsys, write_config(tmp_path, url, tls=tls_section(pki, client)), true_time)
    assert (code, failing(lines)) == (0, [])
    assert any(line.startswith("warn    tls: renew soon") for line in lines)


def test_certificate_from_another_ca_fails(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, pki: Pki, tls_broker: Broker, true_time: str
) -> None:
    stranger = Pki(ca=pki.ca, ca_key=ec.generate_private_key(ec.SECP256R1()), directory=tmp_path)
    client = stranger.issue(AGENT, days=(-1, 200))
    url = f"mqtts://127.0.0.1:{tls_broker.port}"
    code, lines = doctor(capsys, write_config(tmp_path, url, tls=tls_section(pki, client)), true_time)
    assert code == 1
    assert [line.split()[1] for line in failing(lines)] == ["tls:"]


def test_json_output(capsys: pytest.CaptureFixture[str], tmp_path: Path, true_time: str) -> None:
    code, lines = doctor(
        capsys, write_config(tmp_path, f"mqtt://127.0.0.1:{free_port()}"), true_time, "--json"
    )
    body = json.loads("\n".join(lines))
    assert (code, body["ok"]) == (1, False)
    assert [c["name"] for c in body["checks"] if not c["ok"]] == ["broker"]
    assert {c["status"] for c in body["checks"]} <= {"ok", "warn", "FAIL", "unknown"}


# --- a serial port in the wrong group, checked by a process running as nobody --------------------


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory nobody can use (pytest's tmp_path is private to root)."""
    directory = Path(tempfile.mkdtemp(prefix="mpm-doctor-"))
    directory.chmod(0o777)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def tty() -> Iterator[str]:
    """A real pty slave, group dialout, mode 0660: what the udev rule makes of a USB adapter."""
    master, slave = pty.openpty()
    path = os.ttyname(slave)
    os.chown(path, 0, DIALOUT)
    os.chmod(path, 0o660)
    yield path
    os.close(slave)
    os.close(master)


def doctor_as_nobody(config: Path, reference: str, groups: list[int]) -> tuple[int, list[str]]:
    """Run the doctor in a forked child that dropped to nobody (with ``groups``): the kernel decides.

    A fork, not a new interpreter: the venv's Python lives under /root, which nobody cannot read. Every
    module the doctor needs is already imported by a run as root first (see the test).
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 70
        try:
            os.close(read_end)
            os.setgroups(groups)
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            out = io.StringIO()
            args = ["doctor", "--config", str(config), "--time-reference", reference, "--min-free-mib", "1"]
            with contextlib.redirect_stdout(out):
                code = main(args)
            os.write(write_end, out.getvalue().encode())
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        output = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output.splitlines()


def test_port_in_the_wrong_group_fails_one_line(
    capsys: pytest.CaptureFixture[str], shared_dir: Path, tty: str, broker: Broker, true_time: str
) -> None:
    device = f'[[devices]]\nkind = "alpha_sign"\nname = "lobby"\nport = "{tty}"\n'
    config = write_config(shared_dir, broker.url, extra=device)
    config.chmod(0o644)
    assert doctor(capsys, config, true_time)[0] == 0  # as root: also imports everything the child needs
    control_code, control = doctor_as_nobody(config, true_time, [DIALOUT])
    assert (control_code, failing(control)) == (0, []), control
    code, lines = doctor_as_nobody(config, true_time, [])
    assert code == 1
    (line,) = failing(lines)
    assert line.startswith(f"FAIL    serial port {tty}: cannot open read/write: Permission denied")

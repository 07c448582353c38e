"""``mpm-cloud ca-init``, ``broker-config`` and ``mqtt-identity`` as an installer runs them."""

from __future__ import annotations

import json
import os
import pwd
import stat
import subprocess
import sys
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# The Debian broker user when Mosquitto is installed (CI), else whoever runs the tests.
BROKER_USER = (
    "mosquitto"
    if any(p.pw_name == "mosquitto" for p in pwd.getpwall())
    else pwd.getpwuid(os.getuid()).pw_name
)


def cloud(tmp: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = os.environ | {"MPM_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'cloud.db'}"} | env
    return subprocess.run(
        [sys.executable, "-m", "cloud.cli", *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_ca_init_broker_config_and_mqtt_identity_write_files_the_broker_and_cloud_can_read(
    tmp_path: Path,
) -> None:
    ca = tmp_path / "ca"
    assert cloud(tmp_path, "ca-init", "--dir", str(ca)).returncode == 0
    ca.chmod(0o700)  # as ca-init made it before: broker-config opens it to the broker
    result = cloud(
        tmp_path, "broker-config", "--ca-dir", str(ca), "--out", str(tmp_path / "broker"),
        "--broker-user", BROKER_USER, "--port", "18883", "--hostname", "mqtt.example.com",
        "--cloud-identity", "mpm-cloud", "--cloud-identity", "mpm-cloud-2", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    files = {
        name: Path(path)
        for name, path in json.loads(result.stdout).items()
        if name not in ("port", "hostnames")
    }

    assert (mode(ca), mode(ca / "ca.key"), mode(files["ca"]), mode(files["crl"])) == (
        0o755,
        0o600,
        0o644,
        0o644,
    )
    assert mode(files["key"]) == 0o640
    assert files["key"].stat().st_gid == pwd.getpwnam(BROKER_USER).pw_gid
    assert (mode(files["config"]), mode(files["acl"]), mode(files["certificate"])) == (0o644, 0o644, 0o644)
    config = files["config"].read_text().splitlines()
    for line in (
        "per_listener_settings true", f"user {BROKER_USER}", "listener 18883", "require_certificate true",
        "use_identity_as_username true", "use_username_as_clientid true", "allow_anonymous false",
        f"crlfile {files['crl']}", f"acl_file {files['acl']}", f"cafile {files['ca']}",
        "max_queued_messages 100000",
    ):  # fmt: skip
        assert line in config
    acl = files["acl"].read_text()
    assert (
        "pattern write mpm/v1/%u/up/events\npattern write mpm/v1/%u/status\npattern read mpm/v1/%u/down/#"
        in acl
    )
    assert "user mpm-cloud\n" in acl
    assert "user mpm-cloud-2\n" in acl
    names = x509.load_pem_x509_certificate(
        files["certificate"].read_bytes()
    ).extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert "mqtt.example.com" in names.value.get_values_for_type(x509.DNSName)

    identity = cloud(
        tmp_path, "mqtt-identity", "--ca-dir", str(ca), "--out", str(tmp_path / "id"), "--name", "mpm-cloud-2"
    )
    assert identity.returncode == 0, identity.stderr
    certificate = x509.load_pem_x509_certificate((tmp_path / "id" / "cloud.crt").read_bytes())
    assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "mpm-cloud-2"
    usage = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert mode(tmp_path / "id" / "cloud.key") == 0o600
    assert (tmp_path / "id" / "ca.crt").read_bytes() == files["ca"].read_bytes()


def test_bad_input_is_refused_with_the_reason(tmp_path: Path) -> None:
    ca = tmp_path / "ca"
    assert cloud(tmp_path, "ca-init", "--dir", str(ca)).returncode == 0
    no_user = cloud(
        tmp_path,
        "broker-config",
        "--ca-dir",
        str(ca),
        "--out",
        str(tmp_path / "b"),
        "--broker-user",
        "nobody-here",
    )
    assert no_user.returncode == 78
    assert "nobody-here" in no_user.stderr
    no_ca = cloud(tmp_path, "broker-config", "--ca-dir", str(tmp_path / "none"), "--out", str(tmp_path / "b"))
    assert no_ca.returncode == 78
    assert "cannot load the agent CA" in no_ca.stderr
    bad_name = cloud(
        tmp_path, "mqtt-identity", "--ca-dir", str(ca), "--out", str(tmp_path / "i"), "--name", "Bad_Name"
    )
    assert bad_name.returncode == 78
    assert not (tmp_path / "i" / "cloud.key").exists()
    half = cloud(tmp_path, "migrate", MPM_MQTT_URL="mqtts://broker:8883", MPM_MQTT_CERT_FILE="/x/cloud.crt")
    assert half.returncode == 78
    assert "MPM_MQTT_KEY_FILE" in half.stderr

"""``mpm-cloud broker-config`` and ``mpm-cloud mqtt-identity``: the broker and the cloud's MQTT identity."""

from __future__ import annotations

import argparse
import json
import socket
import sys
from pathlib import Path
from typing import Final

from cloud.deploy.broker_config import BrokerPlan, write_broker_files
from cloud.pki import CA_CERT_FILE, CertificateAuthority, CsrRejected, PkiError
from cloud.pki._files import write_atomic
from cloud.settings import CloudSettings

EX_CONFIG: Final = 78  # sysexits: configuration error
EX_CANTCREAT: Final = 73
DEPLOY_COMMANDS: Final = frozenset({"broker-config", "mqtt-identity"})


def add_deploy_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the two subcommands on ``mpm-cloud``'s parser."""
    broker = commands.add_parser(
        "broker-config", help="write mosquitto.conf, acl and the broker certificate for the agent CA"
    )
    broker.add_argument("--ca-dir", type=Path, help="agent CA directory (default MPM_ENROLMENT_CA_DIR)")
    broker.add_argument("--out", type=Path, required=True, help="directory for the broker's files")
    broker.add_argument(
        "--broker-user", default="mosquitto", help="user the broker runs as (its group reads the key)"
    )
    broker.add_argument("--port", type=int, default=8883, help="mutual-TLS listener port (default 8883)")
    broker.add_argument(
        "--cloud-identity", action="append", metavar="NAME",
        help="certificate CN of a cloud process (repeatable; default mpm-cloud)",
    )  # fmt: skip
    broker.add_argument(
        "--hostname", action="append", metavar="NAME_OR_IP",
        help="name or IP in the broker certificate (repeatable; default: this host's names, localhost, "
        "127.0.0.1)",
    )  # fmt: skip
    broker.add_argument("--json", action="store_true", help="print the written paths as one JSON object")
    identity = commands.add_parser(
        "mqtt-identity", help="issue the cloud's MQTT client certificate (cloud.crt, cloud.key, ca.crt)"
    )
    identity.add_argument("--ca-dir", type=Path, help="agent CA directory (default MPM_ENROLMENT_CA_DIR)")
    identity.add_argument("--out", type=Path, required=True, help="where cloud.crt, cloud.key, ca.crt go")
    identity.add_argument("--name", default="mpm-cloud", help="certificate CN (default mpm-cloud)")


def run_deploy_command(settings: CloudSettings, args: argparse.Namespace) -> int:
    """Run ``broker-config`` or ``mqtt-identity``; sysexits-style status."""
    ca_dir: Path | None = args.ca_dir or settings.enrolment_ca_dir
    if ca_dir is None:
        return _fail(f"{args.command} needs --ca-dir or MPM_ENROLMENT_CA_DIR", EX_CONFIG)
    secret = settings.enrolment_ca_passphrase
    try:
        passphrase = secret.get_secret_value().encode() if secret else None
        ca = CertificateAuthority.load(ca_dir, passphrase=passphrase)
    except (PkiError, OSError) as error:
        return _fail(f"cannot load the agent CA in {ca_dir}: {error}", EX_CONFIG)
    try:
        if args.command == "broker-config":
            return _broker_config(ca, ca_dir, args)
        return _mqtt_identity(ca, args)
    except LookupError as error:
        return _fail(str(error), EX_CONFIG)
    except (OSError, PkiError) as error:
        return _fail(str(error), EX_CANTCREAT)


def _broker_config(ca: CertificateAuthority, ca_dir: Path, args: argparse.Namespace) -> int:
    plan = BrokerPlan(
        ca_dir=ca_dir,
        out=args.out,
        port=args.port,
        broker_user=args.broker_user,
        cloud_identities=tuple(args.cloud_identity or ["mpm-cloud"]),
        hostnames=tuple(args.hostname or default_hostnames()),
    )
    files = write_broker_files(plan, ca)
    if args.json:
        print(json.dumps(files.as_json() | {"port": plan.port, "hostnames": list(plan.hostnames)}))
    else:
        print(files.config)
        print(files.acl)
    return 0


def _mqtt_identity(ca: CertificateAuthority, args: argparse.Namespace) -> int:
    try:
        credentials = ca.issue_client_cert(args.name)
    except CsrRejected as error:
        return _fail(f"--name {args.name!r}: {error}", EX_CONFIG)
    args.out.mkdir(mode=0o755, parents=True, exist_ok=True)
    certificate, key = credentials.write(args.out, "cloud")
    write_atomic(args.out / CA_CERT_FILE, ca.certificate_pem.encode(), mode=0o644)
    for path in (certificate, key, args.out / CA_CERT_FILE):
        print(path)
    return 0


def default_hostnames() -> list[str]:
    """This machine's name and FQDN, ``localhost`` and ``127.0.0.1``, without duplicates."""
    return list(dict.fromkeys([socket.gethostname(), socket.getfqdn(), "localhost", "127.0.0.1"]))


def _fail(message: str, status: int) -> int:
    print(f"mpm-cloud: {message}", file=sys.stderr)
    return status

"""``mpm-agent enroll --cloud URL --token T``: enrol this box and point the configuration at the result.

Wiring (edge_agent/cli.py, in ``build_parser`` after the other sub-commands)::

    from edge_agent.ops.enroll_command import add_enroll_command
    add_enroll_command(commands)

The key is made on the box and stays in the state directory (0600); only the CSR travels. On success
``<config dir>/conf.d/00-enrolled.toml`` sets ``agent_id``, ``mqtt.url`` and, for ``mqtts://``, the TLS
ca/cert/key paths, so ``mpm-agent run`` picks them up through the layered configuration (a later
conf.d file, ``MPM_AGENT_*`` or ``--set`` still wins). Nothing printed names the key's content or the
token. Exit codes: 0 enrolled, 1 refused by the cloud (its reason is shown), 69 cloud unreachable or
its answer unusable, 73 the files cannot be written.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from edge_agent.enrolment import Enrolment

__all__ = [
    "DEFAULT_CONFIG_DIR",
    "DEFAULT_STATE_DIR",
    "ENROLLED_CONFIG",
    "EX_CANTCREAT",
    "EX_REFUSED",
    "EX_UNAVAILABLE",
    "add_enroll_command",
    "cmd_enroll",
    "enrolled_config_toml",
]

DEFAULT_STATE_DIR: Final = Path("/var/lib/mpm-agent")
DEFAULT_CONFIG_DIR: Final = Path("/etc/mpm-agent")
ENROLLED_CONFIG: Final = Path("conf.d") / "00-enrolled.toml"
EX_REFUSED: Final = 1
EX_UNAVAILABLE: Final = 69  # sysexits EX_UNAVAILABLE
EX_CANTCREAT: Final = 73  # sysexits EX_CANTCREAT


def cmd_enroll(args: argparse.Namespace) -> int:
    """Enrol with the cloud, store the credentials, write conf.d/00-enrolled.toml; print what was done."""
    from edge_agent.enrolment import EnrolmentError, EnrolmentRefused, enroll

    token = sys.stdin.readline().strip() if args.token == "-" else args.token
    try:
        enrolment = asyncio.run(enroll(args.cloud, token, args.state_dir))
    except EnrolmentRefused as refused:
        _err(f"enrolment refused by {args.cloud} ({refused.status}): {refused.detail}")
        return EX_REFUSED
    except EnrolmentError as error:
        _err(f"enrolment failed: {error}")
        return EX_UNAVAILABLE
    except OSError as error:
        _err(f"cannot write the enrolment files: {error}")
        return EX_CANTCREAT
    config_file = args.config_dir / ENROLLED_CONFIG
    tls = urlsplit(enrolment.mqtt_url).scheme == "mqtts"
    text = enrolled_config_toml(
        agent_id=enrolment.agent_id,
        mqtt_url=enrolment.mqtt_url,
        tls_files=(enrolment.ca_file, enrolment.certificate_file, enrolment.key_file) if tls else None,
        enrolled_at=enrolment.enrolled_at,
    )
    try:
        _write_config(config_file, text)
    except OSError as error:
        _err(f"enrolled as {enrolment.agent_id}, but cannot write {config_file}: {error}")
        return EX_CANTCREAT
    _report(args.cloud, enrolment, config_file, tls)
    _hand_over_to_service(args.state_dir)
    return 0


SERVICE_USER: Final = "mpm-agent"


def _hand_over_to_service(state_dir: Path) -> None:
    """When run as root on a box with the service user, give it the state directory it runs from.

    ``sudo mpm-agent enroll`` would otherwise leave the key readable by root only, and the unit
    (``User=mpm-agent``) would fail to connect. Starting the unit stays with the installer (the
    guide's next step), so enrolling never surprises a box with a running service.
    """
    import pwd

    if os.geteuid() != 0:
        return
    try:
        account = pwd.getpwnam(SERVICE_USER)
    except KeyError:
        return
    for path in [state_dir, *state_dir.rglob("*")]:
        os.chown(path, account.pw_uid, account.pw_gid, follow_symlinks=False)
    _out(f"  owner        {SERVICE_USER} now owns {state_dir}; start it with: systemctl start mpm-agent")


def enrolled_config_toml(
    *, agent_id: str, mqtt_url: str, tls_files: tuple[Path, Path, Path] | None, enrolled_at: datetime
) -> str:
    """The conf.d layer of an enrolment; ``tls_files`` = (ca, cert, key) for ``mqtts://``."""
    lines = [
        f"# Written by `mpm-agent enroll` at {enrolled_at.astimezone(UTC).isoformat()}.",
        "# Enrolling again replaces this file; override a value in a later conf.d file, not here.",
        f"agent_id = {_toml_string(agent_id)}",
        "",
        "[mqtt]",
        f"url = {_toml_string(mqtt_url)}",
    ]
    if tls_files is not None:
        ca, cert, key = tls_files
        lines += ["", "[mqtt.tls]"]
        lines += [f"{name} = {_toml_string(str(path))}" for name, path in _tls_names(ca, cert, key)]
    return "\n".join(lines) + "\n"


def _tls_names(ca: Path, cert: Path, key: Path) -> list[tuple[str, Path]]:
    return [("ca_file", ca), ("cert_file", cert), ("key_file", key)]


def _toml_string(text: str) -> str:
    # A JSON string with ASCII escapes is a valid TOML basic string.
    return json.dumps(text)


def _write_config(path: Path, text: str) -> None:
    # Through a temporary file and a rename: `mpm-agent run` never reads half a file.
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text)
    temporary.chmod(0o644)
    os.replace(temporary, path)


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")


def _err(line: str) -> None:
    sys.stderr.write(line + "\n")


def _report(cloud: str, enrolment: Enrolment, config_file: Path, tls: bool) -> None:
    _out(f"enrolled with {cloud} as agent {enrolment.agent_id}")
    _out(f"  certificate  {enrolment.certificate_file}")
    _out(f"  CA           {enrolment.ca_file}")
    _out(f"  private key  {enrolment.key_file} (made on this box, mode 0600, never sent)")
    _out(f"  broker       {enrolment.mqtt_url}")
    _out(f"  config       {config_file}")
    if not tls:
        _out("  note: the broker URL is plain mqtt://, so the certificate is not used to connect")


def add_enroll_command(commands: argparse._SubParsersAction[Any]) -> None:
    """Add ``enroll`` to the ``mpm-agent`` sub-command set."""
    parser = commands.add_parser("enroll", help="enrol this agent with the cloud using a one-time token")
    parser.add_argument("--cloud", required=True, metavar="URL", help="the cloud's base URL")
    parser.add_argument(
        "--token",
        required=True,
        help="enrolment token or short code from the admin; write --token=T (a token may start with '-'), "
        "or --token - to read it from stdin",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=DEFAULT_STATE_DIR,
        help=f"where the key and certificates live (default {DEFAULT_STATE_DIR})",
    )
    parser.add_argument(
        "--config-dir",
        type=Path,
        default=DEFAULT_CONFIG_DIR,
        help=f"the directory of agent.toml; conf.d/00-enrolled.toml is written there (default "
        f"{DEFAULT_CONFIG_DIR})",
    )
    parser.set_defaults(handler=cmd_enroll)

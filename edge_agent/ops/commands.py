"""``mpm-agent ports`` and ``mpm-agent config validate|show``, ready to add to the agent's CLI.

``ports`` is also an operator check: with a configuration (``--config``, or the default file when it
exists) each configured port the service user cannot open is one ``FAIL`` line and the exit code is 1;
an invalid configuration is one ``FAIL config:`` line and exit 78, as for every sub-command.

Wiring (edge_agent/cli.py, in ``build_parser`` after the other sub-commands)::

    from edge_agent.ops.commands import add_ops_commands
    add_ops_commands(commands)

Each sub-command sets ``handler`` like the others, so ``main`` needs no change.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_CONFIG", "add_ops_commands", "cmd_config_show", "cmd_config_validate", "cmd_ports"]

DEFAULT_CONFIG = Path("/etc/mpm-agent/agent.toml")
SERVICE_USER = "mpm-agent"  # the unit's User=; keep in step with edge_agent.ops.ports.SERVICE_USER
EX_CONFIG = 78


def _configured_ports(args: argparse.Namespace) -> list[str] | None:
    """Ports of the inventory; None (after one FAIL line) when the configuration is invalid."""
    from edge_agent.config import ConfigError, load_config
    from edge_agent.ops.startup_checks import serial_ports_in

    path = args.config or DEFAULT_CONFIG
    if args.config is None and not path.exists():
        return []  # nothing installed yet: a plain listing
    try:
        return serial_ports_in(load_config(path, environ=os.environ, overrides=args.set))
    except ConfigError as error:
        detail = str(error).replace("\n", "; ")
        sys.stdout.write(f"FAIL    config: {detail}\n")
        return None


def cmd_ports(args: argparse.Namespace) -> int:
    """List serial ports; FAIL (exit 1) for each configured port the service cannot open."""
    from edge_agent.ops.ports import check_configured, list_ports, render_json, render_text

    configured = _configured_ports(args)
    if configured is None:
        return EX_CONFIG
    user = args.service_user
    ports = check_configured(list_ports(service_user=user), configured, service_user=user)
    sys.stdout.write(render_json(ports) if args.json else render_text(ports, service_user=user))
    return 1 if any(port.problem for port in ports) else 0


def cmd_config_validate(args: argparse.Namespace) -> int:
    """Validate the layered configuration; exit 0 or 78."""
    from edge_agent.config import AgentConfig
    from edge_agent.ops.config_commands import validate_command

    return validate_command(AgentConfig, args.config, os.environ, args.set, sys.stdout)


def cmd_config_show(args: argparse.Namespace) -> int:
    """Print the effective configuration, optionally with the source of every value."""
    from edge_agent.ops.inventory_show import show_agent_config

    return show_agent_config(args.config, os.environ, args.set, sys.stdout, with_sources=args.sources)


def _config_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, default=DEFAULT_CONFIG, help=f"main file (default {DEFAULT_CONFIG})"
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override, repeatable"
    )


def add_ops_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """Add ``ports`` and ``config {validate,show}`` to the ``mpm-agent`` sub-command set."""
    ports = commands.add_parser(
        "ports", help="list serial ports and who can open them; exit 1 if a configured port cannot be used"
    )
    ports.add_argument("--config", type=Path, default=None,
                       help=f"main file (default {DEFAULT_CONFIG}, skipped when absent)")  # fmt: skip
    ports.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override, repeatable")
    ports.add_argument(
        "--service-user", default=SERVICE_USER, help=f"judge access for (default {SERVICE_USER})"
    )
    ports.add_argument("--json", action="store_true", help="machine-readable output")
    ports.set_defaults(handler=cmd_ports)
    config = commands.add_parser("config", help="check or show the configuration")
    actions = config.add_subparsers(dest="config_command", required=True)
    validate = actions.add_parser("validate", help="exit 0 if valid, 78 with every problem otherwise")
    _config_options(validate)
    validate.set_defaults(handler=cmd_config_validate)
    show = actions.add_parser("show", help="the merged configuration")
    _config_options(show)
    show.add_argument("--effective", action="store_true", help="after all layers (the only mode; accepted)")
    show.add_argument(
        "--sources", action="store_true", help="add '# from <file:line|env|flag>' to each value"
    )
    show.set_defaults(handler=cmd_config_show)

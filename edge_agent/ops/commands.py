"""``mpm-agent ports`` and ``mpm-agent config validate|show``, ready to add to the agent's CLI.

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


def cmd_ports(args: argparse.Namespace) -> int:
    """List serial ports with stable names, USB identity and access for us and the service."""
    from edge_agent.ops.ports import list_ports, render_json, render_text

    ports = list_ports()
    sys.stdout.write(render_json(ports) if args.json else render_text(ports))
    return 0


def cmd_config_validate(args: argparse.Namespace) -> int:
    """Validate the layered configuration; exit 0 or 78."""
    from edge_agent.config import AgentConfig
    from edge_agent.ops.config_commands import validate_command

    return validate_command(AgentConfig, args.config, os.environ, args.set, sys.stdout)


def cmd_config_show(args: argparse.Namespace) -> int:
    """Print the effective configuration, optionally with the source of every value."""
    from edge_agent.config import AgentConfig
    from edge_agent.ops.config_commands import show_command

    return show_command(AgentConfig, args.config, os.environ, args.set, sys.stdout, with_sources=args.sources)


def _config_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, default=DEFAULT_CONFIG, help=f"main file (default {DEFAULT_CONFIG})"
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override, repeatable"
    )


def add_ops_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """Add ``ports`` and ``config {validate,show}`` to the ``mpm-agent`` sub-command set."""
    ports = commands.add_parser("ports", help="list serial ports, their stable names and who can open them")
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

"""``mpm-agent``: the site agent's command line (argparse sub-commands, one small function each).

``run`` runs the agent with one-line structured logs on stdout, telling systemd READY=1 only after its
start-up checks pass; ``status [--json]`` reads the outbox database directly (safe while the agent
runs) and the running agent's task restarts and LAN counters from ``<outbox>.runtime.json``;
``ports``, ``config validate|show``, ``doctor`` and ``test-device NAME --once`` help installers.
Every sub-command reads ``/etc/mpm-agent/agent.toml`` (+ conf.d, ``MPM_AGENT_*`` variables,
``--set``) unless ``--config`` says otherwise. An invalid configuration prints the setting and its
source and exits 78 (EX_CONFIG).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from edge_agent.config import EX_CONFIG, AgentConfig, ConfigError, load_config
from edge_agent.drivers.registry import DriverUnavailable
from edge_agent.ops.commands import DEFAULT_CONFIG, add_ops_commands
from edge_agent.ops.doctor import add_doctor_command
from edge_agent.ops.enroll_command import add_enroll_command
from edge_agent.ops.test_device import add_test_device_command
from edge_agent.outbox import read_stats
from edge_agent.runtime_state import read_runtime_state, runtime_state_path

EX_UNAVAILABLE = 69

Command = Callable[[argparse.Namespace], int]


class OneLineFormatter(logging.Formatter):
    """``time level=... logger=... msg="..."``: one line per record, exceptions folded in."""

    def format(self, record: logging.LogRecord) -> str:
        when = dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds")
        message = record.getMessage()
        if record.exc_info:
            message += " | " + self.formatException(record.exc_info)
        text = json.dumps(message, ensure_ascii=False)
        return f"{when} level={record.levelname} logger={record.name} msg={text}"


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(OneLineFormatter())
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)


def _load(args: argparse.Namespace) -> AgentConfig | None:
    try:
        return load_config(args.config, overrides=getattr(args, "set", ()))
    except ConfigError as exc:
        print(f"invalid configuration:\n{exc}", file=sys.stderr)
        return None


def cmd_run(args: argparse.Namespace) -> int:
    """Run the agent until SIGTERM/SIGINT."""
    from edge_agent.app import run_agent  # the runtime stack is only imported to run
    from edge_agent.ops.startup_checks import announce, run_startup_checks

    configure_logging(args.log_level)
    # Config, database and every configured serial port gate readiness (docs/INSTALL.md §7): a port
    # that is missing or closed to us exits 69 naming it and its devices, and systemd restarts us, which
    # covers a USB adapter that enumerates late. A port lost while running is the driver's to retry.
    report = run_startup_checks(
        lambda: load_config(args.config, overrides=args.set),
        database_path=lambda c: c.outbox.path,
        config_errors=(ConfigError,),
        port_wait_s=5.0,
    )
    if report.config is None or not report.ok:
        print(report.summary(), file=sys.stderr)
        announce(report)  # systemd's Status: line says which check failed
        return report.exit_code
    announce(report)
    config = report.config
    try:
        asyncio.run(run_agent(config))
    except DriverUnavailable as exc:
        logging.getLogger("edge_agent").error("%s", exc)
        return EX_CONFIG
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """Print backlog, bytes, oldest unacked age, drops and display version from the outbox, and the
    running agent's supervised tasks and LAN counters when it has written them."""
    config = _load(args)
    if config is None:
        return EX_CONFIG
    try:
        stats = read_stats(config.outbox.path, max_bytes=config.outbox.max_bytes)
    except FileNotFoundError as exc:
        print(str(exc), file=sys.stderr)
        return EX_UNAVAILABLE
    body = {"agent_id": config.agent_id, "outbox": str(config.outbox.path), **stats.to_json()}
    runtime = read_runtime_state(runtime_state_path(config.outbox.path))
    if runtime is not None:  # written by the running agent: supervised tasks, LAN listeners
        body["runtime"] = runtime
    if args.json:
        print(json.dumps(body, ensure_ascii=False))
    else:
        for key, value in body.items():
            print(f"{key}: {value}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mpm-agent", description="MPM Edge site agent")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the agent")
    _config_option(run)
    run.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    run.set_defaults(handler=cmd_run)
    status = commands.add_parser("status", help="show the outbox backlog (works while the agent runs)")
    _config_option(status)
    status.add_argument("--json", action="store_true", help="one JSON object")
    status.set_defaults(handler=cmd_status)
    add_ops_commands(commands)
    add_enroll_command(commands)
    add_doctor_command(commands, _config_option)
    add_test_device_command(commands, _config_option)
    return parser


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, default=DEFAULT_CONFIG, help=f"main file (default {DEFAULT_CONFIG})"
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override, repeatable"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``mpm-agent``."""
    args = build_parser().parse_args(argv)
    handler: Command = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())

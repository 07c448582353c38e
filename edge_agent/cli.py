"""``mpm-agent``: the site agent's command line (argparse sub-commands, one small function each).

``run --config FILE [--log-level LEVEL]`` runs the agent with one-line structured logs on stdout;
``status --config FILE [--json]`` reads the outbox database directly (safe while the agent runs).
An invalid configuration prints the file and field at fault and exits 78 (EX_CONFIG).
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
from edge_agent.outbox import read_stats

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
        return load_config(args.config)
    except ConfigError as exc:
        print(f"invalid configuration:\n{exc}", file=sys.stderr)
        return None


def cmd_run(args: argparse.Namespace) -> int:
    """Run the agent until SIGTERM/SIGINT."""
    from edge_agent.app import run_agent  # the runtime stack is only imported to run

    config = _load(args)
    if config is None:
        return EX_CONFIG
    configure_logging(args.log_level)
    try:
        asyncio.run(run_agent(config))
    except DriverUnavailable as exc:
        logging.getLogger("edge_agent").error("%s", exc)
        return EX_CONFIG
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """Print backlog, bytes, oldest unacked age, drops and display version from the outbox."""
    config = _load(args)
    if config is None:
        return EX_CONFIG
    try:
        stats = read_stats(config.outbox.path, max_bytes=config.outbox.max_bytes)
    except FileNotFoundError as exc:
        print(str(exc), file=sys.stderr)
        return EX_UNAVAILABLE
    body = {"agent_id": config.agent_id, "outbox": str(config.outbox.path), **stats.to_json()}
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
    run.add_argument("--config", type=Path, required=True)
    run.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    run.set_defaults(handler=cmd_run)
    status = commands.add_parser("status", help="show the outbox backlog (works while the agent runs)")
    status.add_argument("--config", type=Path, required=True)
    status.add_argument("--json", action="store_true", help="one JSON object")
    status.set_defaults(handler=cmd_status)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``mpm-agent``."""
    args = build_parser().parse_args(argv)
    handler: Command = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())

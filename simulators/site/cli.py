"""``mpm-sim site --config site.toml [--state-dir DIR] [--json]``: a whole site from one TOML file."""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from simulators.site.runner import RunOptions, run_site


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the site options."""
    parser.add_argument("--config", type=Path, required=True, help="site file (see site.example.toml)")
    parser.add_argument(
        "--state-dir",
        type=Path,
        help="state files, PNGs, logs, site.json, agent-devices.toml (default: "
        "<temp dir>/mpm-site-<config stem>)",
    )
    parser.add_argument("--json", action="store_true", help="print site.json on stdout once all are up")
    parser.add_argument(
        "--start-timeout", type=float, default=30.0, metavar="S", help="time for all to come up"
    )


def run(args: argparse.Namespace) -> int:
    """Run the site until SIGINT/SIGTERM."""
    config: Path = args.config
    state_dir: Path = args.state_dir or Path(tempfile.gettempdir()) / f"mpm-site-{config.stem}"
    options = RunOptions(
        config=config,
        state_dir=state_dir,
        log_level=args.log_level.upper(),
        start_timeout_s=args.start_timeout,
        on_up=_print_json if args.json else lambda description: None,
    )
    return run_site(options)


def _print_json(description: dict[str, Any]) -> None:
    print(json.dumps(description, ensure_ascii=False, indent=2, sort_keys=True), flush=True)

"""``mpm-cloud keys rotate``: re-wrap every organisation's data key under MPM_MASTER_KEY (ENC-2)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from cloud.db.session import SessionFactory
from cloud.domain.key_rotation import DEFAULT_BATCH, RotationProgress, rotate
from cloud.settings import CloudSettings


def add_keys_commands(commands: Any) -> None:
    """Register ``keys rotate`` on the ``mpm-cloud`` sub-command parser."""
    keys = commands.add_parser("keys", help="master key tools (PRIVACY.md ENC-2)")
    key_commands = keys.add_subparsers(dest="keys_command", required=True)
    rotate_parser = key_commands.add_parser(
        "rotate",
        help="re-wrap every data key under MPM_MASTER_KEY (MPM_MASTER_KEY_PREVIOUS unwraps the old ones);"
        " safe to rerun, safe while the cloud serves",
    )
    rotate_parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    rotate_parser.add_argument(
        "--batch-size", type=int, default=DEFAULT_BATCH, help=f"data keys per transaction ({DEFAULT_BATCH})"
    )


async def run_keys_command(
    settings: CloudSettings, sessions: SessionFactory, args: argparse.Namespace
) -> int:
    """Rotate, reporting progress on stderr; 0 when every data key is under the current key."""
    if not 1 <= args.batch_size <= 10_000:
        print("mpm-cloud: --batch-size must be 1 … 10000", file=sys.stderr)
        return 2
    master = settings.master()
    result = await rotate(sessions, master, batch_size=args.batch_size, on_batch=_print_progress)
    body = {
        "master_key_id": master.key_id.hex(),
        "data_keys": result.total,
        "rotated": result.rotated,
        "already_current": result.already_current,
        "failed": {str(org_id): why for org_id, why in sorted(result.failed.items())},
    }
    if args.json:
        print(json.dumps(body))
    else:
        print(
            f"{result.rotated} data key(s) re-wrapped, {result.already_current} already under master key "
            f"{body['master_key_id']}, {len(result.failed)} failed"
        )
        for org_id, why in sorted(result.failed.items()):
            print(f"  organisation {org_id}: {why}")
    if result.failed:
        print(
            "mpm-cloud: some data keys were wrapped by a key that is neither MPM_MASTER_KEY nor "
            "MPM_MASTER_KEY_PREVIOUS; they are unchanged. Do not destroy the old key yet.",
            file=sys.stderr,
        )
        return 1
    return 0


def _print_progress(progress: RotationProgress) -> None:
    print(
        f"mpm-cloud: keys rotate: {progress.done}/{progress.total} data keys "
        f"(re-wrapped {progress.rotated}, already current {progress.already_current}, "
        f"failed {len(progress.failed)})",
        file=sys.stderr,
        flush=True,
    )

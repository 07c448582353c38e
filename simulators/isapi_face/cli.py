"""``mpm-sim isapi-face``: a Hikvision ISAPI face terminal on HTTP with Digest auth."""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading
from pathlib import Path

from simulators.isapi_face.server import IsapiFaceSimulator


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18080)
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", required=True)
    parser.add_argument("--punch-every", type=float, metavar="S", help="punch a user every S seconds")
    parser.add_argument(
        "--state", type=Path, metavar="FILE", help="JSON state file (users, events, settings)"
    )
    parser.add_argument("--pictures", action="store_true", help="attach a JPEG to events while upload is on")
    parser.add_argument(
        "--ignore-picture-setting",
        action="store_true",
        help="fault: attach pictures even after the client turned picture upload off",
    )
    parser.add_argument("--boundary-style", choices=["boundary", "MIME_boundary"], default="MIME_boundary")
    parser.add_argument(
        "--heartbeat", type=float, default=5.0, metavar="S", help="alertStream heartbeat period"
    )


def run(args: argparse.Namespace) -> int:
    sim = IsapiFaceSimulator(
        host=args.host,
        port=args.port,
        username=args.user,
        password=args.password,
        pictures=args.pictures,
        boundary_style=args.boundary_style,
        state_path=args.state,
        heartbeat_s=args.heartbeat,
    )
    sim.terminal.ignore_picture_setting = args.ignore_picture_setting
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with sim:
        if args.punch_every:
            sim.start_punching(args.punch_every)
        print(f"isapi-face listening on {sim.url}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            done.wait()
    return 0

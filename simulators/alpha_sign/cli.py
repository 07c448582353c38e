"""``mpm-sim alpha-sign (--pty LINK | --serial PATH) [--address AA] [--state FILE] [--png FILE]``."""

from __future__ import annotations

import argparse
import logging
import signal
from pathlib import Path
from types import FrameType

from simulators.alpha_sign.link import AlphaSignSimulator, Endpoint, PtyEndpoint, SerialEndpoint

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the alpha-sign options."""
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--pty", type=Path, metavar="LINK", help="create a pty and symlink its name at LINK")
    where.add_argument("--serial", metavar="PATH", help="open an existing serial device (e.g. a socat pty)")
    parser.add_argument("--baudrate", type=int, default=9600)
    parser.add_argument("--address", default="00", help="sign address, 2 hex digits (default 00)")
    parser.add_argument("--state", type=Path, metavar="FILE", help="JSON state file (rewritten)")
    parser.add_argument("--png", type=Path, metavar="FILE", help="LED-dot picture of the face")
    parser.add_argument("--fault-ignore", action="store_true", help="drop every byte received")
    parser.add_argument("--fault-garble", action="store_true", help="corrupt the checksum of every answer")
    parser.add_argument("--fault-answer-delay", type=float, default=0.0, metavar="S", help="answer late")


def run(args: argparse.Namespace) -> int:
    """Serve until SIGTERM/SIGINT."""
    endpoint: Endpoint = PtyEndpoint(args.pty) if args.pty else SerialEndpoint(args.serial, args.baudrate)
    sim = AlphaSignSimulator(endpoint, address=args.address, state_path=args.state, png_path=args.png)
    sim.device.faults.ignore = args.fault_ignore
    sim.device.faults.garble = args.fault_garble
    sim.device.faults.answer_delay_s = args.fault_answer_delay

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    log.info("alpha sign %s listening on %s", args.address, args.pty or args.serial)
    try:
        sim.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        endpoint.close()
    return 0

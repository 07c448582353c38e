"""``mpm-sim modbus-sign``: a Modbus (TCP or RTU) points-display module with our register map.

mpm-sim modbus-sign (--tcp HOST:PORT | --serial PATH | --pty LINK) [--unit N] [--profile NAME]
                    [--baudrate B] [--state FILE] [--png FILE] [--faults FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from pathlib import Path

from firmware_protocols.modbus_led import PROFILES
from simulators.modbus_sign.faults import Faults
from simulators.modbus_sign.module import SignModule
from simulators.modbus_sign.picture import write_png
from simulators.modbus_sign.server import (
    make_device,
    pseudo_terminal,
    reply_tracer,
    serving_serial,
    serving_tcp,
)
from simulators.state_file import write_state

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--tcp", metavar="HOST:PORT", help="serve Modbus TCP on HOST:PORT")
    where.add_argument("--serial", metavar="PATH", help="serve Modbus RTU on a serial device (8N1)")
    where.add_argument(
        "--pty", metavar="LINK", type=Path, help="serve Modbus RTU on a new pty linked at LINK"
    )
    parser.add_argument("--unit", type=int, default=1, help="Modbus unit (slave) id, default 1")
    parser.add_argument(
        "--baudrate", type=int, default=9600, help="RTU baud rate (ignored on a pty), default 9600"
    )
    parser.add_argument("--profile", default="mpm-gbk", choices=sorted(PROFILES), help="register map profile")
    parser.add_argument("--state", type=Path, help="JSON state file, rewritten after every write")
    parser.add_argument("--png", type=Path, help="PNG of the LED face, rewritten after every write")
    parser.add_argument("--faults", type=Path, help="JSON fault file: drop / corrupt / delay_s + delay_count")


class Publisher:
    """Writes the state file and the PNG after each change."""

    def __init__(self, unit: int, state: Path | None, png: Path | None) -> None:
        self.unit, self.state_path, self.png_path = unit, state, png

    def __call__(self, module: SignModule) -> None:
        if self.state_path:
            write_state(self.state_path, {**module.state(), "unit": self.unit})
        if self.png_path:
            write_png(module.showing_lines(), self.png_path)


async def serve(args: argparse.Namespace) -> None:
    module = SignModule(PROFILES[args.profile])
    faults = Faults(source=args.faults)
    publish = Publisher(args.unit, args.state, args.png)
    device = make_device(args.unit, module, faults, publish)
    trace = reply_tracer(faults, module)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with contextlib.AsyncExitStack() as stack:
        if args.tcp:
            host, _, port = args.tcp.rpartition(":")
            await stack.enter_async_context(serving_tcp(device, host or "127.0.0.1", int(port), trace))
        else:
            port_url = stack.enter_context(pseudo_terminal(args.pty)) if args.pty else args.serial
            await stack.enter_async_context(serving_serial(device, port_url, args.baudrate, trace))
        publish(module)  # the first state file means "serving": tests wait for it
        log.info("modbus-sign ready (unit %d, profile %s)", args.unit, args.profile)
        await stop.wait()


def run(args: argparse.Namespace) -> int:
    asyncio.run(serve(args))
    return 0

"""``mpm-sim zk-terminal``: a ZKTeco 4370 terminal on TCP and UDP."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
import signal
from pathlib import Path

from simulators.zk_terminal.faults import parse_fault
from simulators.zk_terminal.model import DEMO_USERS, load_users
from simulators.zk_terminal.server import ZkTerminal

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4370)
    parser.add_argument("--comm-key", type=int, default=0, help="comm key (0: none)")
    parser.add_argument(
        "--users", type=Path, help='JSON list of {"pin","name","privilege","card","password"}'
    )
    parser.add_argument("--state", type=Path, help="JSON state file, rewritten atomically on every change")
    parser.add_argument(
        "--punch-every", type=float, metavar="S", help="a random user punches every S seconds"
    )
    parser.add_argument("--serial-number", default="SIM0000000001")
    parser.add_argument("--records", type=int, default=0, help="pre-fill the log with N punches")
    parser.add_argument("--timezone", default="Asia/Shanghai", help="zone of the terminal's local clock")
    parser.add_argument(
        "--encoding", default="utf-8", help="text encoding of names (gbk like Chinese firmware)"
    )
    parser.add_argument(
        "--fault", type=parse_fault, metavar="KIND:N", help="drop|delay|corrupt|disconnect N replies"
    )


def run(args: argparse.Namespace) -> int:
    asyncio.run(_serve(args))
    return 0


async def _serve(args: argparse.Namespace) -> None:
    terminal = ZkTerminal(
        host=args.host,
        port=args.port,
        comm_key=args.comm_key,
        users=load_users(args.users) if args.users else DEMO_USERS,
        records=args.records,
        serial_number=args.serial_number,
        state_file=args.state,
        encoding=args.encoding,
        timezone=args.timezone,
    )
    if args.fault:
        terminal.inject_fault(*args.fault)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with terminal:
        if args.punch_every:
            async with asyncio.TaskGroup() as group:
                puncher = group.create_task(_punch_forever(terminal, args.punch_every), name="puncher")
                await stop.wait()
                puncher.cancel()
        else:
            await stop.wait()
    log.info("zk terminal stopped")


async def _punch_forever(terminal: ZkTerminal, every: float) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        while True:
            await asyncio.sleep(every)
            user = random.choice(terminal.model.users)
            await terminal.punch(user.user_id, state=random.choice((0, 1)), verify=random.choice((1, 2, 15)))

"""``mpm-sim zk-push``: a ZKTeco terminal pushing ADMS to a server (the agent's zk_push driver)."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import threading
from pathlib import Path
from types import FrameType

from simulators.zk_push.state import user_from_json
from simulators.zk_push.terminal import PushTerminal

log = logging.getLogger(__name__)
PATH_STYLES = {"plain": "", "slash": "/", "aspx": ".aspx"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", required=True, help="server base URL, e.g. http://127.0.0.1:8081")
    parser.add_argument("--sn", required=True, help="terminal serial number")
    parser.add_argument("--users", type=Path, help='JSON list of users: [{"pin": "1001", "name": "张三"}, …]')
    parser.add_argument("--punch-every", type=float, metavar="S", help="punch the next user every S seconds")
    parser.add_argument("--state", type=Path, help="JSON state file (users, log, pending uploads, counters)")
    parser.add_argument(
        "--language", default="69", help="ZK language code; 83 = Simplified Chinese (GBK bodies)"
    )
    parser.add_argument("--photos", action="store_true", help="also upload an ATTPHOTO (fake JPEG) per punch")
    parser.add_argument(
        "--templates", action="store_true", help="also upload FP/FACE templates and a USERPIC per punch"
    )
    parser.add_argument("--timezone", default="Asia/Shanghai", help="IANA zone of the terminal clock")
    parser.add_argument(
        "--path-style", choices=sorted(PATH_STYLES), default="plain", help="/iclock/cdata[/|.aspx]"
    )


def run(args: argparse.Namespace) -> int:
    terminal = PushTerminal(
        args.server,
        args.sn,
        language=args.language,
        photos=args.photos,
        templates=args.templates,
        timezone=args.timezone,
        state_path=args.state,
        path_suffix=PATH_STYLES[args.path_style],
    )
    if args.users:
        for user in json.loads(args.users.read_text(encoding="utf-8")):
            terminal.enroll(user_from_json(user))
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    log.info("terminal %s pushing to %s", args.sn, args.server)
    pins = tuple(sorted(terminal.memory.users))
    terminal.run(stop, punch_every=args.punch_every, pins=pins)
    return 0

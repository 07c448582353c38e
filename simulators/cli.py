"""``mpm-sim``: run one device simulator (or a whole site) from the command line."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from typing import Final, Protocol, cast

# sub-command → (module, one-line help). Modules are imported only when their command runs.
SIMULATORS: Final[dict[str, tuple[str, str]]] = {
    "zk-terminal": ("simulators.zk_terminal.cli", "ZKTeco terminal serving the 4370 protocol on TCP and UDP"),
    "alpha-sign": (
        "simulators.alpha_sign.cli",
        "Alpha protocol LED sign on a pseudo-terminal or serial port",
    ),
    "modbus-sign": ("simulators.modbus_sign.cli", "Modbus RTU/TCP points-display module (our register map)"),
    "isapi-face": ("simulators.isapi_face.cli", "Hikvision ISAPI face terminal on HTTP with Digest auth"),
    "zk-push": ("simulators.zk_push.cli", "ZKTeco terminal pushing ADMS (HTTP /iclock/*) to a server"),
    "site": ("simulators.site.cli", "a whole site: any mix of simulators from a TOML file"),
}


class SimulatorModule(Protocol):
    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def _module(command: str) -> SimulatorModule:
    return cast(SimulatorModule, importlib.import_module(SIMULATORS[command][0]))


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="mpm-sim", description="MPM Edge device simulators")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING (default INFO)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="SIMULATOR")
    chosen = next((a for a in argv if a in SIMULATORS), None)
    for name, (_, help_text) in SIMULATORS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            _module(name).add_arguments(sub)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        return _module(args.command).run(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""A ZKTeco terminal speaking the 4370 binary protocol on TCP and UDP (``mpm-sim zk-terminal``)."""

from simulators.zk_terminal.faults import FaultKind, FaultPlan
from simulators.zk_terminal.model import DEMO_USERS, TerminalModel, load_users
from simulators.zk_terminal.server import ZkTerminal
from simulators.zk_terminal.threaded import TerminalThread

__all__ = [
    "DEMO_USERS",
    "FaultKind",
    "FaultPlan",
    "TerminalModel",
    "TerminalThread",
    "ZkTerminal",
    "load_users",
]

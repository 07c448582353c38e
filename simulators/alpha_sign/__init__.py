"""An Alpha protocol LED sign: the codec in device role, reachable over a pty or a serial port."""

from simulators.alpha_sign.device import AlphaSignDevice, Faults
from simulators.alpha_sign.link import AlphaSignSimulator
from simulators.alpha_sign.memory import SignMemory

__all__ = ["AlphaSignDevice", "AlphaSignSimulator", "Faults", "SignMemory"]

"""Pure wire codecs shared by the edge agent, the cloud and the simulators.

Rule: this package imports only the standard library and never does I/O, sleeps or logs
(shared/STYLE.md §1); ``tests/firmware_protocols/test_purity.py`` enforces it.
"""

from firmware_protocols.errors import NEED_DATA, NeedData, ProtocolError, RemoteProtocolError

__all__ = ["NEED_DATA", "NeedData", "ProtocolError", "RemoteProtocolError"]

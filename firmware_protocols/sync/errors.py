"""The sync contract's error: a payload or topic that does not follow the contract."""

from firmware_protocols.errors import RemoteProtocolError


class SyncProtocolError(RemoteProtocolError):
    """A payload or topic violates the edge↔cloud contract; the message names the field at fault."""

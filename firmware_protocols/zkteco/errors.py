"""Errors of the ZKTeco 4370 codec, split by who is at fault."""

from firmware_protocols.errors import LocalProtocolError, ProtocolError, RemoteProtocolError


class ZkProtocolError(ProtocolError):
    """Base of every ZKTeco 4370 codec error."""


class ZkRemoteError(ZkProtocolError, RemoteProtocolError):
    """The peer sent bytes that are not a valid 4370 packet or record."""


class ZkLocalError(ZkProtocolError, LocalProtocolError):
    """Our caller asked to encode something the 4370 protocol cannot carry."""

"""The Alpha codec's errors, split by who is at fault (firmware_protocols/errors.py)."""

from __future__ import annotations

from firmware_protocols.errors import LocalProtocolError, RemoteProtocolError


class AlphaProtocolError(RemoteProtocolError):
    """The bytes received are not a valid Alpha packet; the frame was dropped."""


class ChecksumError(AlphaProtocolError):
    """A command group's checksum did not match its bytes; the whole frame was dropped."""


class FrameCutShort(AlphaProtocolError):
    """A new packet (SOH) began before the previous one ended (EOT); the partial one was dropped."""


class FrameTooLong(AlphaProtocolError):
    """No EOT within the decoder's maximum frame size; the buffered bytes were dropped."""


class AlphaEncodeError(LocalProtocolError):
    """Our caller asked to encode something an Alpha packet cannot carry."""

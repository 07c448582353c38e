"""The ISAPI codec's own error family (see firmware_protocols/errors.py for the split)."""

from __future__ import annotations

from firmware_protocols.errors import LocalProtocolError, RemoteProtocolError


class IsapiProtocolError(RemoteProtocolError):
    """The device (or a peer in device role) sent a body we cannot accept."""


class IsapiLocalError(LocalProtocolError):
    """Our caller asked to encode something ISAPI cannot carry."""

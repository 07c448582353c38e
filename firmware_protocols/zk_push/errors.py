"""Errors of the ADMS codec, split by who is at fault (``firmware_protocols.errors``)."""

from __future__ import annotations

from firmware_protocols.errors import LocalProtocolError, RemoteProtocolError


class ZkPushProtocolError(RemoteProtocolError):
    """A terminal (or a server, for the device role) sent a request or reply we cannot accept."""


class ZkPushLocalError(LocalProtocolError):
    """Our caller asked to encode something ADMS cannot carry (a tab or newline inside a field)."""

"""Errors of the Modbus LED register map, split by who is at fault."""

from __future__ import annotations

from firmware_protocols.errors import LocalProtocolError, RemoteProtocolError


class ModbusLedError(RemoteProtocolError):
    """Registers read from a module cannot be a points display of this profile."""


class ModbusLedEncodeError(LocalProtocolError):
    """Our caller asked for content the register map cannot carry."""

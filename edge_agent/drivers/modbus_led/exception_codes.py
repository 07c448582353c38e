"""Modbus exception replies in words: what the code means for one of our LED modules and what to check.

A module answers an exception reply (function code | 0x80, one byte of exception code) when it
understood the request but cannot do it. Installers meet codes 2 and 11 most: a register map
(``profile``) the module does not have, or a ``unit`` id that nothing on the line or behind the
gateway answers to. The table follows the Modbus Application Protocol v1.1b3, §7.
"""

from __future__ import annotations

import dataclasses
from typing import Final


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ExceptionMeaning:
    """The standard name of an exception code and the advice for our set-up ({unit}, {registers}, {be})."""

    name: str
    advice: str


EXCEPTION_CODES: Final[dict[int, ExceptionMeaning]] = {
    1: ExceptionMeaning(
        name="illegal function",
        advice="the module does not support this request — is it an LED module of our register map?",
    ),
    2: ExceptionMeaning(
        name="illegal data address",
        advice="{registers} {be} outside the sign's map — check `unit`/`profile`",
    ),
    3: ExceptionMeaning(
        name="illegal data value",
        advice="the module refused a value written to {registers} — check `profile`",
    ),
    4: ExceptionMeaning(
        name="server device failure", advice="the module failed while acting on {registers}; power-cycle it"
    ),
    5: ExceptionMeaning(name="acknowledge", advice="the module accepted a long job; it will retry"),
    6: ExceptionMeaning(name="server device busy", advice="the module is busy; it will retry"),
    8: ExceptionMeaning(name="memory parity error", advice="the module reports a memory fault; service it"),
    10: ExceptionMeaning(
        name="gateway path unavailable",
        advice="the gateway has no route to unit {unit} — check `unit` and the gateway's settings",
    ),
    11: ExceptionMeaning(
        name="gateway target device failed to respond",
        advice="nothing behind the gateway answers as unit {unit} — check `unit`, RS-485 wiring and baud",
    ),
}


def explain(code: int, *, unit: int, address: int, count: int) -> str:
    """One sentence for exception ``code`` to a request for ``count`` registers at ``address`` of ``unit``."""
    registers = f"register {address}" if count <= 1 else f"registers {address}–{address + count - 1}"
    meaning = EXCEPTION_CODES.get(code)
    if meaning is None:
        return f"unit {unit} answered exception code {code} (not a standard Modbus code) for {registers}"
    advice = meaning.advice.format(unit=unit, registers=registers, be="is" if count <= 1 else "are")
    return f"unit {unit}: {meaning.name} (code {code}): {advice}"

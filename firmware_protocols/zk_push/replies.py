"""Server replies (options, ``OK``, ``C:<id>:<command>``) and their parsers for the device role.

Reply bodies are ``text/plain`` lines separated by LF (terminals accept LF or CRLF). Command text is
tab-separated ``K=V`` fields after a fixed verb, so a field holding a tab or newline cannot be encoded
(ZkPushLocalError). Parsing a reply raises only ZkPushProtocolError.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Final

from firmware_protocols.zk_push import messages as m
from firmware_protocols.zk_push._fields import checked_field, split_lines
from firmware_protocols.zk_push.errors import ZkPushProtocolError
from firmware_protocols.zk_push.requests import parse_user_fields

OK: Final = "OK"
OPTIONS_HEADER: Final = "GET OPTION FROM: "
# reply key → TerminalOptions field, in the order terminals are used to (PROTOCOLS.md §3.1).
OPTION_KEYS: Final[Mapping[str, str]] = {
    "ATTLOGStamp": "attlog_stamp",
    "OPERLOGStamp": "operlog_stamp",
    "ATTPHOTOStamp": "attphoto_stamp",
    "ErrorDelay": "error_delay",
    "Delay": "delay",
    "TransTimes": "trans_times",
    "TransInterval": "trans_interval",
    "TransFlag": "trans_flag",
    "TimeZone": "timezone",
    "Realtime": "realtime",
    "Encrypt": "encrypt",
    "ServerVer": "server_ver",
}
# TransFlag words that make a terminal upload photos or biometrics: never requested (PRIVACY.md BIO-2).
BIOMETRIC_TRANS_FLAGS: Final = frozenset({"AttPhoto", "EnrollFP", "ChgFP", "UserPic", "FPImag", "FaceImag"})
USER_KEYS: Final = (
    ("PIN", "pin"),
    ("Name", "name"),
    ("Pri", "privilege"),
    ("Passwd", "password"),
    ("Card", "card"),
    ("Grp", "group"),
)
UPDATE_USER: Final = "DATA UPDATE USERINFO "
DELETE_USER: Final = "DATA DELETE USERINFO "
# commands without arguments: verb ↔ message class
PLAIN_COMMANDS: Final[Mapping[str, type[m.Check | m.Info | m.ClearLog]]] = {
    "CHECK": m.Check,
    "INFO": m.Info,
    "CLEAR LOG": m.ClearLog,
}
COMMAND_LINE: Final = re.compile(r"C:(\d{1,9}):(.*)")


def ok_reply(count: int | None = None) -> str:
    """``OK`` or ``OK: <n>`` (the count of records stored, as many servers send)."""
    return OK if count is None else f"{OK}: {count}"


def options_reply(sn: str, options: m.TerminalOptions) -> str:
    """The initialisation reply for terminal ``sn``."""
    lines = [OPTIONS_HEADER + checked_field(sn, "SN")]
    for key, name in OPTION_KEYS.items():
        value = getattr(options, name)
        text = str(int(value)) if isinstance(value, bool) else checked_field(str(value), key)
        lines.append(f"{key}={text}")
    return "\n".join(lines) + "\n"


def parse_options_reply(text: str) -> tuple[str, m.TerminalOptions]:
    """(SN, options) from an initialisation reply; unknown keys are ignored, defaults fill gaps."""
    lines = split_lines(text)
    if not lines or not lines[0].startswith(OPTIONS_HEADER):
        raise ZkPushProtocolError("options reply without 'GET OPTION FROM:'")
    values: dict[str, object] = {}
    types = {field.name: field.type for field in dataclasses.fields(m.TerminalOptions)}
    for line in lines[1:]:
        key, _, value = line.partition("=")
        name = OPTION_KEYS.get(key.strip())
        if name is not None:
            values[name] = _option_value(types[name], value.strip(), key)
    return lines[0][len(OPTIONS_HEADER) :].strip(), m.TerminalOptions(**values)  # type: ignore[arg-type]


def _option_value(kind: object, value: str, key: str) -> object:
    if kind not in ("int", "bool"):
        return value
    if not value.isascii() or not value.lstrip("-").isdigit() or len(value) > 9:
        raise ZkPushProtocolError(f"option {key[:32]}: not a number: {value[:32]!r}")
    return int(value) if kind == "int" else value != "0"


def user_fields(user: m.UserEntry) -> str:
    """``PIN=…\\tName=…\\t…`` for a USER line or a DATA UPDATE USERINFO command."""
    pairs = [(key, getattr(user, name)) for key, name in USER_KEYS] + list(user.extra)
    return "\t".join(f"{checked_field(k, 'key')}={checked_field(v, k)}" for k, v in pairs)


def command_text(command: m.DeviceCommand | m.UnknownCommand) -> str:
    """The text after ``C:<id>:`` for one command."""
    match command:
        case m.UpdateUser(user=user):
            return UPDATE_USER + user_fields(user)
        case m.DeleteUser(pin=pin):
            return f"{DELETE_USER}PIN={checked_field(pin, 'PIN')}"
        case m.UnknownCommand(text=text):
            return checked_field(text, "command")
    return next(verb for verb, kind in PLAIN_COMMANDS.items() if isinstance(command, kind))


def commands_reply(commands: Sequence[m.QueuedCommand]) -> str:
    """The getrequest reply: ``OK`` when nothing is queued, else one ``C:<id>:<command>`` per line."""
    if not commands:
        return OK
    return "\n".join(f"C:{queued.id}:{command_text(queued.command)}" for queued in commands) + "\n"


def parse_commands_reply(text: str) -> tuple[m.QueuedCommand, ...]:
    """The commands in a getrequest reply (none for ``OK``)."""
    queued: list[m.QueuedCommand] = []
    for line in split_lines(text):
        if line.strip() == OK:
            continue
        found = COMMAND_LINE.fullmatch(line)
        if found is None:
            raise ZkPushProtocolError(f"not a command line: {line[:80]!r}")
        queued.append(m.QueuedCommand(id=int(found.group(1)), command=parse_command(found.group(2))))
    return tuple(queued)


def parse_command(text: str) -> m.DeviceCommand | m.UnknownCommand:
    """One command's text as a message; anything not understood is an UnknownCommand."""
    for prefix, parse in _PREFIXED.items():
        if text.startswith(prefix):
            return parse(text[len(prefix) :]) or m.UnknownCommand(text=text)
    plain = PLAIN_COMMANDS.get(text.strip())
    return plain() if plain is not None else m.UnknownCommand(text=text)


def _update_user(fields: str) -> m.UpdateUser | None:
    user = parse_user_fields(fields)
    return m.UpdateUser(user=user) if user is not None else None


def _delete_user(fields: str) -> m.DeleteUser | None:
    user = parse_user_fields(fields)
    return m.DeleteUser(pin=user.pin) if user is not None else None


_PREFIXED: Final[Mapping[str, Callable[[str], m.DeviceCommand | None]]] = {
    UPDATE_USER: _update_user,
    DELETE_USER: _delete_user,
}

"""ADMS messages in both directions: what a terminal sends, what the server answers and commands.

Every field is kept as the text the terminal sent (codes, times, stamps): the agent normalises, the
codec never guesses. Photos and biometric templates never appear in a message (PRIVACY.md BIO-1):
the decoder only counts them.
"""

from __future__ import annotations

import dataclasses

# -- terminal → server ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class OptionsRequest:
    """``GET /iclock/cdata?SN=…&options=all``: the terminal asks for its settings (initialisation)."""

    sn: str
    pushver: str = ""
    language: str = ""
    params: tuple[tuple[str, str], ...] = ()


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class AttRecord:
    """One ATTLOG line: ``PIN\\tTIME\\tSTATUS\\tVERIFY\\tWORKCODE[\\t…]`` (TIME is local, no zone)."""

    pin: str
    time: str
    status: str = "0"
    verify: str = "0"
    workcode: str = "0"
    extra: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class AttLogUpload:
    """``POST cdata?table=ATTLOG``; ``malformed`` counts lines with no PIN or no time."""

    sn: str
    stamp: str
    records: tuple[AttRecord, ...]
    malformed: int = 0


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class OpLogEntry:
    """One ``OPLOG`` line: operation code, admin, time, then the objects, as sent."""

    fields: tuple[str, ...]


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class UserEntry:
    """One ``USER`` line (or a ``DATA UPDATE USERINFO`` command body): a person on a terminal."""

    pin: str
    name: str = ""
    privilege: str = "0"
    password: str = ""
    card: str = ""
    group: str = "1"
    extra: tuple[tuple[str, str], ...] = ()


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class OperLogUpload:
    """``POST cdata?table=OPERLOG``: operations and users; template and picture lines only counted."""

    sn: str
    stamp: str
    oplogs: tuple[OpLogEntry, ...] = ()
    users: tuple[UserEntry, ...] = ()
    templates_dropped: int = 0
    pictures_dropped: int = 0
    unknown_lines: int = 0


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class AttPhotoUpload:
    """``POST cdata?table=ATTPHOTO``: only who, when and how big; the JPEG itself is never kept."""

    sn: str
    stamp: str
    pin: str
    time: str
    photo_bytes: int


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class OtherUpload:
    """``POST cdata`` with a table this codec does not interpret: acknowledged and counted."""

    sn: str
    table: str
    size: int


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class CommandPoll:
    """``GET /iclock/getrequest?SN=…[&INFO=…]``: heartbeat and request for commands."""

    sn: str
    info: str = ""


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class CommandResult:
    """One ``ID=…&Return=…&CMD=…`` line; ``return_code`` 0 means success."""

    id: str
    return_code: str
    cmd: str = ""
    extra: tuple[tuple[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        return self.return_code.strip() == "0"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class CommandResultUpload:
    """``POST /iclock/devicecmd?SN=…``: one or more command results."""

    sn: str
    results: tuple[CommandResult, ...]


TerminalRequest = (
    OptionsRequest
    | AttLogUpload
    | OperLogUpload
    | AttPhotoUpload
    | OtherUpload
    | CommandPoll
    | CommandResultUpload
)

# -- server → terminal: commands --------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class UpdateUser:
    """``DATA UPDATE USERINFO PIN=…\\tName=…\\t…``: create or change a person (names may be Chinese)."""

    user: UserEntry


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class DeleteUser:
    """``DATA DELETE USERINFO PIN=…``: remove a person and their biometrics from the terminal."""

    pin: str


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Check:
    """``CHECK``: the terminal re-checks and uploads whatever the server lacks."""


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Info:
    """``INFO``: the terminal reports its information (counts, firmware)."""


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ClearLog:
    """``CLEAR LOG``: the terminal deletes its attendance log (only after the cloud acked it)."""


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class UnknownCommand:
    """A command line this codec does not interpret (device role: answered with an error code)."""

    text: str


DeviceCommand = UpdateUser | DeleteUser | Check | Info | ClearLog


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class QueuedCommand:
    """One ``C:<id>:<command>`` line of a getrequest reply."""

    id: int
    command: DeviceCommand | UnknownCommand


# -- server → terminal: the options reply -----------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class TerminalOptions:
    """The settings in the initialisation reply (PROTOCOLS.md §3.1), stamps as text ("None" = all)."""

    attlog_stamp: str = "None"
    operlog_stamp: str = "None"
    attphoto_stamp: str = "None"
    error_delay: int = 30
    delay: int = 10
    trans_times: str = "00:00;14:05"
    trans_interval: int = 1
    trans_flag: str = "TransData AttLog OpLog EnrollUser ChgUser"
    timezone: str = "8"
    realtime: bool = True
    encrypt: str = "None"
    server_ver: str = "2.4.1"

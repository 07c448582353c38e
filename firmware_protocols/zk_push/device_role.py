"""The terminal's side of ADMS: request targets and bodies, as a real terminal sends them.

Used by the simulator, so it is the same codec in device role; ``requests.parse_request`` reads
everything built here back (the round-trip property in the tests).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final
from urllib.parse import urlencode

from firmware_protocols.zk_push import messages as m
from firmware_protocols.zk_push._fields import checked_field
from firmware_protocols.zk_push.replies import user_fields

PATH_SUFFIXES: Final = ("", "/", ".aspx")
PHOTO_SEPARATOR: Final = b"\x00"


def target(endpoint: str, params: Sequence[tuple[str, str]], suffix: str = "") -> str:
    """``/iclock/<endpoint><suffix>?<query>`` (suffix one of PATH_SUFFIXES)."""
    return f"/iclock/{endpoint}{suffix}?{urlencode(list(params))}"


def options_target(sn: str, *, pushver: str = "2.4.1", language: str = "69", suffix: str = "") -> str:
    """The initialisation request's target."""
    params = [("SN", sn), ("options", "all"), ("pushver", pushver), ("language", language)]
    return target("cdata", params, suffix)


def upload_target(sn: str, table: str, stamp: str, *, language: str = "", suffix: str = "") -> str:
    """``cdata?SN&table=…&Stamp=…`` (OPERLOG carries ``OpStamp``, as terminals send it)."""
    stamp_key = "OpStamp" if table == "OPERLOG" else "Stamp"
    params = [("SN", sn), ("table", table), (stamp_key, stamp)]
    return target("cdata", [*params, ("language", language)] if language else params, suffix)


def poll_target(sn: str, *, info: str = "", suffix: str = "") -> str:
    """The getrequest (heartbeat) target."""
    return target("getrequest", [("SN", sn), ("INFO", info)] if info else [("SN", sn)], suffix)


def result_target(sn: str, *, suffix: str = "") -> str:
    """The devicecmd target."""
    return target("devicecmd", [("SN", sn)], suffix)


def attlog_body(records: Sequence[m.AttRecord]) -> str:
    """ATTLOG lines, one per record."""
    return "".join(_att_line(record) + "\n" for record in records)


def _att_line(record: m.AttRecord) -> str:
    fields = (record.pin, record.time, record.status, record.verify, record.workcode, *record.extra)
    return "\t".join(checked_field(field, "ATTLOG field") for field in fields)


def operlog_body(users: Sequence[m.UserEntry] = (), oplogs: Sequence[m.OpLogEntry] = ()) -> str:
    """OPERLOG lines: OPLOG entries, then USER lines."""
    lines = ["OPLOG " + "\t".join(checked_field(f, "OPLOG field") for f in entry.fields) for entry in oplogs]
    lines += ["USER " + user_fields(user) for user in users]
    return "".join(line + "\n" for line in lines)


def attphoto_body(sn: str, pin: str, time: str, jpeg: bytes) -> bytes:
    """The ATTPHOTO body: text header, CMD=uploadphoto, NUL, then the picture (``time`` as yyyymmddhhmmss)."""
    name = f"{checked_field(time, 'time')}-{checked_field(pin, 'PIN')}.jpg"
    header = f"PIN={name}\nSN={checked_field(sn, 'SN')}\nsize={len(jpeg)}\nCMD=uploadphoto"
    return header.encode("ascii", errors="replace") + PHOTO_SEPARATOR + jpeg


def command_results_body(results: Sequence[m.CommandResult]) -> str:
    """devicecmd lines ``ID=…&Return=…&CMD=…``, each followed by its extra ``K=V`` lines (INFO)."""
    lines: list[str] = []
    for result in results:
        lines.append(f"ID={result.id}&Return={result.return_code}&CMD={result.cmd}")
        lines += [f"{checked_field(k, 'key')}={checked_field(v, k)}" for k, v in result.extra]
    return "".join(line + "\n" for line in lines)

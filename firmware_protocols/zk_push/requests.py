"""Classify an ADMS request (method, path, query, body) into a typed terminal message.

Theory of operation: ADMS rides on HTTP, so framing (Content-Length, keep-alive) belongs to the HTTP
layer (h11 in the agent); this codec sees one complete request at a time. Three endpoints, each
reachable as ``/iclock/X``, ``/iclock/X/`` and ``/iclock/X.aspx`` (PROTOCOLS.md §3.2):

    GET  cdata?SN&options=all       → OptionsRequest
    POST cdata?SN&table=ATTLOG      → AttLogUpload    (PIN\\tTIME\\tSTATUS\\tVERIFY\\tWORKCODE…)
    POST cdata?SN&table=OPERLOG     → OperLogUpload   (OPLOG / USER / FP / FACE / USERPIC lines)
    POST cdata?SN&table=ATTPHOTO    → AttPhotoUpload  (text header, CMD=uploadphoto, NUL, JPEG)
    GET  getrequest?SN[&INFO]       → CommandPoll
    POST devicecmd?SN               → CommandResultUpload (ID=…&Return=…&CMD=… per line)

Garbage rule: an unknown path or method, or a missing/invalid SN, raises ZkPushProtocolError (the
server answers 4xx); inside a body, lines that cannot be read are counted, never fatal, so one bad
line never costs the good ones. Nothing here raises anything but ZkPushProtocolError.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Final
from urllib.parse import parse_qsl

from firmware_protocols.zk_push import messages as m
from firmware_protocols.zk_push._fields import first, key_values, split_lines
from firmware_protocols.zk_push.errors import ZkPushProtocolError
from firmware_protocols.zk_push.text import decode_text

SN_PATTERN: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
ENDPOINTS: Final[Mapping[str, str]] = {
    f"/iclock/{name}{suffix}": name
    for name in ("cdata", "getrequest", "devicecmd")
    for suffix in ("", "/", ".aspx")
}
JPEG_START: Final = b"\xff\xd8\xff"
PHOTO_MARKERS: Final = (b"CMD=uploadphoto", b"CMD=realupload")
# OPERLOG line prefixes whose payload is a biometric template or picture: counted, never kept.
TEMPLATE_PREFIXES: Final = frozenset({"FP", "FACE", "BIODATA", "FVEIN"})
PICTURE_PREFIXES: Final = frozenset({"USERPIC", "BIOPHOTO"})
USER_FIELDS: Final[Mapping[str, str]] = {
    "PIN": "pin",
    "Name": "name",
    "Pri": "privilege",
    "Passwd": "password",
    "Card": "card",
    "Grp": "group",
}

Query = list[tuple[str, str]]


def parse_request(method: str, path: str, query: str, body: bytes) -> m.TerminalRequest:
    """The typed message for one complete ADMS request, or ZkPushProtocolError."""
    endpoint = ENDPOINTS.get(path)
    if endpoint is None:
        raise ZkPushProtocolError(f"not an ADMS path: {path[:80]!r}")
    handler = _HANDLERS.get((endpoint, method.upper()))
    if handler is None:
        raise ZkPushProtocolError(f"{method[:10]} is not served on {path}")
    params = parse_qsl(query, keep_blank_values=True)
    return handler(_serial(params), params, body)


def _serial(params: Query) -> str:
    sn = first(params, "SN").strip()
    if not SN_PATTERN.fullmatch(sn):
        raise ZkPushProtocolError(f"missing or invalid SN: {sn[:80]!r}")
    return sn


def _options(sn: str, params: Query, body: bytes) -> m.OptionsRequest:
    return m.OptionsRequest(
        sn=sn, pushver=first(params, "pushver"), language=first(params, "language"), params=tuple(params)
    )


def _command_poll(sn: str, params: Query, body: bytes) -> m.CommandPoll:
    return m.CommandPoll(sn=sn, info=first(params, "INFO"))


def _upload(sn: str, params: Query, body: bytes) -> m.TerminalRequest:
    table = first(params, "table").upper()
    parser = _TABLES.get(table)
    if parser is None:
        return m.OtherUpload(sn=sn, table=table[:32], size=len(body))
    return parser(sn, params, body)


def _attlog(sn: str, params: Query, body: bytes) -> m.AttLogUpload:
    records: list[m.AttRecord] = []
    lines = split_lines(decode_text(body, first(params, "language")))
    for line in lines:
        record = _att_record(line)
        if record is not None:
            records.append(record)
    return m.AttLogUpload(
        sn=sn, stamp=first(params, "Stamp"), records=tuple(records), malformed=len(lines) - len(records)
    )


def _att_record(line: str) -> m.AttRecord | None:
    fields = [field.strip() for field in line.split("\t")]
    if len(fields) < 2 or not fields[0] or not fields[1]:
        return None
    fields += [""] * (5 - len(fields))
    return m.AttRecord(
        pin=fields[0],
        time=fields[1],
        status=fields[2],
        verify=fields[3],
        workcode=fields[4],
        extra=tuple(fields[5:]),
    )


def _operlog(sn: str, params: Query, body: bytes) -> m.OperLogUpload:
    oplogs: list[m.OpLogEntry] = []
    users: list[m.UserEntry] = []
    counts = {"template": 0, "picture": 0, "unknown": 0}
    for line in split_lines(decode_text(body, first(params, "language"))):
        prefix, _, rest = line.partition(" ")
        user = parse_user_fields(rest) if prefix == "USER" else None
        if prefix == "OPLOG":
            oplogs.append(m.OpLogEntry(fields=tuple(rest.split("\t"))))
        elif user is not None:
            users.append(user)
        else:
            counts[_drop_kind(prefix)] += 1
    return m.OperLogUpload(
        sn=sn,
        stamp=first(params, "OpStamp") or first(params, "Stamp"),
        oplogs=tuple(oplogs),
        users=tuple(users),
        templates_dropped=counts["template"],
        pictures_dropped=counts["picture"],
        unknown_lines=counts["unknown"],
    )


def _drop_kind(prefix: str) -> str:
    if prefix in TEMPLATE_PREFIXES:
        return "template"
    return "picture" if prefix in PICTURE_PREFIXES else "unknown"


def parse_user_fields(text: str) -> m.UserEntry | None:
    """A ``PIN=…\\tName=…`` field list as a UserEntry, or None without a PIN."""
    items = key_values(text, "\t")
    known = {USER_FIELDS[key]: value for key, value in items if key in USER_FIELDS}
    pin = known.pop("pin", "").strip()
    if not pin:
        return None
    extra = tuple((key, value) for key, value in items if key not in USER_FIELDS)
    return m.UserEntry(pin=pin, extra=extra, **known)


def _attphoto(sn: str, params: Query, body: bytes) -> m.AttPhotoUpload:
    header, photo_bytes = _split_photo(body)
    items = key_values(decode_text(header.replace(b"\x00", b"\n")), "\n")
    name = (first(params, "PIN") or first(items, "PIN")).strip()
    stem = name[:-4] if name.lower().endswith(".jpg") else name
    when, _, pin = stem.partition("-")
    return m.AttPhotoUpload(
        sn=sn,
        stamp=first(params, "Stamp"),
        pin=pin.strip()[:32],
        time=when.strip()[:32],
        photo_bytes=photo_bytes,
    )


def _split_photo(body: bytes) -> tuple[bytes, int]:
    """(text header, size of the picture after it): lenient, finds the marker then ``FF D8 FF``."""
    marker = max((body.find(mark) for mark in PHOTO_MARKERS), default=-1)
    header_end = marker if marker >= 0 else len(body)
    jpeg = body.find(JPEG_START, max(marker, 0))
    return body[:header_end], (len(body) - jpeg if jpeg >= 0 else 0)


def _command_results(sn: str, params: Query, body: bytes) -> m.CommandResultUpload:
    """Each ``ID=…&Return=…`` line starts a result; other lines (INFO output) extend the last one."""
    parts: list[tuple[list[tuple[str, str]], list[tuple[str, str]]]] = []
    for line in split_lines(decode_text(body, first(params, "language"))):
        items = key_values(line, "&")
        if first(items, "ID") and first(items, "Return"):
            parts.append((items, []))
        elif parts:
            parts[-1][1].extend(key_values(line, "\t"))
    return m.CommandResultUpload(sn=sn, results=tuple(_command_result(items, more) for items, more in parts))


def _command_result(items: list[tuple[str, str]], more: list[tuple[str, str]]) -> m.CommandResult:
    extra = [(key, value) for key, value in items if key.upper() not in {"ID", "RETURN", "CMD"}]
    return m.CommandResult(
        id=first(items, "ID").strip(),
        return_code=first(items, "Return").strip(),
        cmd=first(items, "CMD").strip(),
        extra=tuple(extra + more),
    )


_TABLES: Final[Mapping[str, Callable[[str, Query, bytes], m.TerminalRequest]]] = {
    "ATTLOG": _attlog,
    "OPERLOG": _operlog,
    "ATTPHOTO": _attphoto,
}
_HANDLERS: Final[Mapping[tuple[str, str], Callable[[str, Query, bytes], m.TerminalRequest]]] = {
    ("cdata", "GET"): _options,
    ("cdata", "POST"): _upload,
    ("getrequest", "GET"): _command_poll,
    ("devicecmd", "POST"): _command_results,
}

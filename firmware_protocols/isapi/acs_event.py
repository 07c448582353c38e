"""``POST /ISAPI/AccessControl/AcsEvent?format=json``: the paged event search (PROTOCOLS.md §4).

The agent pages by advancing ``searchResultPosition`` by ``numOfMatches`` while the status is ``MORE``.
The same record shape is read from the alertStream's ``AccessControllerEvent`` (see ``stream_event``).
Names and picture fields are ignored on purpose (privacy: the agent only needs the person id).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final

from firmware_protocols.isapi import _json as j
from firmware_protocols.isapi.errors import IsapiLocalError, IsapiProtocolError
from firmware_protocols.isapi.messages import AcsEventCond, AcsEventPage, AcsEventRecord, SearchStatus

PATH: Final = "/ISAPI/AccessControl/AcsEvent?format=json"
MAX_RESULTS_CAP: Final = 30  # what devices answer at most per page [source]


def encode_cond(cond: AcsEventCond) -> bytes:
    """The request body of one page."""
    if not 1 <= cond.max_results <= 1000 or cond.position < 0:
        raise IsapiLocalError("AcsEventCond: max_results must be 1..1000 and position >= 0")
    body: dict[str, Any] = {
        "searchID": cond.search_id,
        "searchResultPosition": cond.position,
        "maxResults": cond.max_results,
        "major": cond.major,
        "minor": cond.minor,
    }
    optional = {"startTime": cond.start_time, "endTime": cond.end_time, "beginSerialNo": cond.begin_serial_no}
    body.update({k: v for k, v in optional.items() if v is not None})
    return j.dump({"AcsEventCond": body})


def decode_cond(body: bytes) -> AcsEventCond:
    """Device role: read a page request."""
    obj = j.member(j.load_object(body, "AcsEventCond"), "AcsEventCond", "body")
    where = "AcsEventCond"
    begin = obj.get("beginSerialNo")
    return AcsEventCond(
        search_id=j.optional_text(obj, "searchID", where) or "",
        position=j.integer(obj, "searchResultPosition", where, 0),
        max_results=j.integer(obj, "maxResults", where, MAX_RESULTS_CAP),
        major=j.integer(obj, "major", where, 0),
        minor=j.integer(obj, "minor", where, 0),
        start_time=j.optional_text(obj, "startTime", where),
        end_time=j.optional_text(obj, "endTime", where),
        begin_serial_no=None if begin is None else j.integer(obj, "beginSerialNo", where),
    )


def parse_time(raw: str) -> dt.datetime:
    """The device's ISO-8601 time with offset, as an aware UTC datetime."""
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise IsapiProtocolError(f"time {raw!r} is not ISO-8601") from None
    if value.tzinfo is None:
        raise IsapiProtocolError(f"time {raw!r} has no UTC offset")
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:  # 9999-12-31T23:59-14:00 has no UTC time
        raise IsapiProtocolError(f"time {raw!r} is out of range in UTC") from None


def decode_record(item: object, where: str = "InfoList[]") -> AcsEventRecord:
    """One InfoList item → record (``employeeNoString`` first, then the older ``employeeNo``)."""
    obj = j.require_object(item, where)
    raw_time = j.text(obj, "time", where)
    parse_time(raw_time)
    return AcsEventRecord(
        major=j.integer(obj, "major", where),
        minor=j.integer(obj, "minor", where),
        time=raw_time,
        serial_no=j.integer(obj, "serialNo", where),
        employee_id=employee_id_from(obj, where),
        card_no=j.optional_text(obj, "cardNo", where),
        verify_mode=j.optional_text(obj, "currentVerifyMode", where),
        attendance_status=j.optional_text(obj, "attendanceStatus", where),
        pictures=j.integer(obj, "picturesNumber", where, 0),
    )


def employee_id_from(obj: Mapping[str, Any], where: str) -> str | None:
    """``employeeNoString``, or the older numeric ``employeeNo``."""
    return j.optional_text(obj, "employeeNoString", where) or j.optional_text(obj, "employeeNo", where)


def encode_record(record: AcsEventRecord, *, name: str | None = None) -> dict[str, Any]:
    """Device role: one InfoList item (``name`` as a device would add it; the agent drops it)."""
    item: dict[str, Any] = {"major": record.major, "minor": record.minor, "time": record.time}
    optional = {
        "employeeNoString": record.employee_id,
        "name": name,
        "cardNo": record.card_no,
        "currentVerifyMode": record.verify_mode,
        "attendanceStatus": record.attendance_status,
    }
    item.update({k: v for k, v in optional.items() if v is not None})
    item["serialNo"] = record.serial_no
    if record.pictures:
        item["picturesNumber"] = record.pictures
    return item


def encode_page(page: AcsEventPage, names: Mapping[int, str] | None = None) -> bytes:
    """Device role: the reply to one page request."""
    names = names or {}
    infos = [encode_record(r, name=names.get(r.serial_no)) for r in page.records]
    body: dict[str, Any] = {
        "searchID": page.search_id,
        "responseStatusStrg": page.status.value,
        "numOfMatches": len(infos),
        "totalMatches": page.total_matches,
    }
    if infos:
        body["InfoList"] = infos
    return j.dump({"AcsEvent": body})


def decode_page(body: bytes) -> AcsEventPage:
    """Agent role: one page reply; malformed items are counted in ``rejected``, not fatal."""
    obj = j.member(j.load_object(body, "AcsEvent"), "AcsEvent", "body")
    records: list[AcsEventRecord] = []
    rejected = 0
    for item in j.items(obj, "InfoList", "AcsEvent"):
        try:
            records.append(decode_record(item))
        except IsapiProtocolError:
            rejected += 1
    return AcsEventPage(
        search_id=j.optional_text(obj, "searchID", "AcsEvent") or "",
        status=search_status(j.text(obj, "responseStatusStrg", "AcsEvent")),
        total_matches=j.integer(obj, "totalMatches", "AcsEvent", len(records)),
        records=tuple(records),
        rejected=rejected,
    )


def search_status(raw: str) -> SearchStatus:
    """``responseStatusStrg`` → SearchStatus."""
    try:
        return SearchStatus(raw)
    except ValueError:
        raise IsapiProtocolError(f"responseStatusStrg {raw!r} is not OK/MORE/NO MATCH") from None

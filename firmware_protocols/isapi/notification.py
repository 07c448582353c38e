"""Event notification bodies shared by the alertStream and HTTP-listening push (PROTOCOLS.md §4).

- JSON ``{"eventType": "AccessControllerEvent", "dateTime": ..., "AccessControllerEvent": {...}}``
  → ``AcsEventRecord`` (major = ``majorEventType``, minor = ``subEventType``, time = ``dateTime``);
  the name and picture fields inside are ignored on purpose.
- XML ``EventNotificationAlert`` with ``videoloss``/``inactive`` (or JSON ``heartBeat``) → ``Heartbeat``.
- Any other event type → ``OtherAlert`` (its type only).
"""

from __future__ import annotations

from typing import Any, Final

from firmware_protocols.isapi import _json as j
from firmware_protocols.isapi.acs_event import employee_id_from, parse_time
from firmware_protocols.isapi.messages import AcsEventRecord, Heartbeat, OtherAlert

ACS_EVENT_TYPE: Final = "AccessControllerEvent"
HEARTBEAT_TYPES: Final = frozenset({"videoloss", "heartbeat"})  # compared lower-case [unverified: heartBeat]
XML_NAMESPACE: Final = "http://www.hikvision.com/ver20/XMLSchema"

EventMessage = AcsEventRecord | Heartbeat | OtherAlert


def decode_event_json(body: bytes) -> EventMessage:
    """One JSON event notification."""
    obj = j.load_object(body, "event")
    event_type = j.optional_text(obj, "eventType", "event") or ""
    if event_type == ACS_EVENT_TYPE:
        return _acs_event(obj)
    if _is_heartbeat(event_type, j.optional_text(obj, "eventState", "event")):
        return Heartbeat(date_time=j.optional_text(obj, "dateTime", "event"))
    return OtherAlert(event_type=event_type)


def _acs_event(obj: dict[str, Any]) -> AcsEventRecord:
    inner = j.member(obj, ACS_EVENT_TYPE, "event")
    where = f"event.{ACS_EVENT_TYPE}"
    raw_time = j.text(obj, "dateTime", "event")
    parse_time(raw_time)
    return AcsEventRecord(
        major=j.integer(inner, "majorEventType", where),
        minor=j.integer(inner, "subEventType", where),
        time=raw_time,
        serial_no=j.integer(inner, "serialNo", where),
        employee_id=employee_id_from(inner, where),
        card_no=j.optional_text(inner, "cardNo", where),
        verify_mode=j.optional_text(inner, "currentVerifyMode", where),
        attendance_status=j.optional_text(inner, "attendanceStatus", where),
        pictures=j.integer(inner, "picturesNumber", where, 0),
    )


def _is_heartbeat(event_type: str, event_state: str | None) -> bool:
    return event_type.lower() in HEARTBEAT_TYPES and event_state in (None, "inactive")


def encode_event_json(
    record: AcsEventRecord, *, name: str | None = None, ip_address: str = "127.0.0.1", mac_address: str = ""
) -> bytes:
    """Device role: the JSON of one access-control event, as a terminal sends it."""
    inner: dict[str, Any] = {"deviceName": "", "majorEventType": record.major, "subEventType": record.minor}
    optional = {
        "name": name,
        "employeeNoString": record.employee_id,
        "cardNo": record.card_no,
        "currentVerifyMode": record.verify_mode,
        "attendanceStatus": record.attendance_status,
    }
    inner.update({k: v for k, v in optional.items() if v is not None})
    inner.update({"cardReaderNo": 1, "serialNo": record.serial_no, "userType": "normal"})
    inner["picturesNumber"] = record.pictures
    return j.dump(
        {
            "ipAddress": ip_address,
            "portNo": 80,
            "protocol": "HTTP",
            "macAddress": mac_address,
            "channelID": 1,
            "dateTime": record.time,
            "activePostCount": 1,
            "eventType": ACS_EVENT_TYPE,
            "eventState": "active",
            "eventDescription": "Access Controller Event",
            ACS_EVENT_TYPE: inner,
        }
    )


def decode_alert_xml(body: bytes) -> EventMessage:
    """One XML ``EventNotificationAlert`` (heartbeats; camera events are reported by type only)."""
    fields = j.xml_fields(j.load_xml(body, "EventNotificationAlert"))
    event_type = fields.get("eventType", "")
    if _is_heartbeat(event_type, fields.get("eventState")):
        return Heartbeat(date_time=fields.get("dateTime") or None)
    return OtherAlert(event_type=event_type)


def encode_heartbeat_xml(date_time: str, *, ip_address: str = "127.0.0.1") -> bytes:
    """Device role: the keep-alive a terminal sends on an idle alertStream."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\r\n'
        f'<EventNotificationAlert version="2.0" xmlns="{XML_NAMESPACE}">\r\n'
        f"<ipAddress>{ip_address}</ipAddress>\r\n<portNo>80</portNo>\r\n<protocol>HTTP</protocol>\r\n"
        f"<channelID>1</channelID>\r\n<dateTime>{date_time}</dateTime>\r\n<activePostCount>0</activePostCount>\r\n"
        "<eventType>videoloss</eventType>\r\n<eventState>inactive</eventState>\r\n"
        "<eventDescription>videoloss alarm</eventDescription>\r\n</EventNotificationAlert>\r\n"
    ).encode()

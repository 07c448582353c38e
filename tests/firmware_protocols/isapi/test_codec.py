"""ISAPI bodies: exact tables from PROTOCOLS.md §4, round trips and totality on random bytes."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_protocols.errors import NEED_DATA
from firmware_protocols.isapi import (
    acs_event,
    alert_stream,
    device_info,
    http_push,
    notification,
    user_info,
)
from firmware_protocols.isapi import (
    settings as isapi_settings,
)
from firmware_protocols.isapi.errors import IsapiProtocolError
from firmware_protocols.isapi.messages import (
    AcsEventCond,
    AcsEventPage,
    AcsEventRecord,
    DeviceInfo,
    Heartbeat,
    HttpHost,
    OtherAlert,
    PartSkipped,
    PictureDropped,
    PictureUploadSettings,
    ResponseStatus,
    SearchStatus,
    StreamMessage,
    UserInfo,
    UserSearchCond,
    UserSearchPage,
)

JPEG = b"\xff\xd8\xff\xe0JFIF" + b"\x00" * 3000 + b"\xff\xd9"

PAGE = b"""{"AcsEvent":{"searchID":"s1","responseStatusStrg":"MORE","numOfMatches":2,"totalMatches":40,
"InfoList":[{"major":5,"minor":75,"time":"2024-05-06T08:59:00+08:00","cardType":1,"name":"\xe5\xbc\xa0\xe4\xb8\x89",
"cardReaderNo":1,"doorNo":1,"employeeNoString":"1001","serialNo":17,"userType":"normal",
"currentVerifyMode":"face","attendanceStatus":"checkIn","mask":"no","pictureURL":"http://x/pic",
"picturesNumber":1},{"major":5,"minor":1,"time":"2024-05-06T09:00:00+08:00","employeeNo":42,"cardNo":"C9",
"serialNo":18}]}}"""


def test_acs_event_page_table() -> None:
    page = acs_event.decode_page(PAGE)
    assert page.status is SearchStatus.MORE
    assert page.total_matches == 40
    assert page.records == (
        AcsEventRecord(
            major=5,
            minor=75,
            time="2024-05-06T08:59:00+08:00",
            serial_no=17,
            employee_id="1001",
            verify_mode="face",
            attendance_status="checkIn",
            pictures=1,
        ),
        AcsEventRecord(
            major=5, minor=1, time="2024-05-06T09:00:00+08:00", serial_no=18, employee_id="42", card_no="C9"
        ),
    )
    assert "张三" not in repr(page)
    assert "pictureURL" not in repr(page)


def test_malformed_items_are_counted_not_fatal() -> None:
    body = (
        b'{"AcsEvent":{"responseStatusStrg":"OK","InfoList":[{"major":5},{"major":5,"minor":1,"time":"x",'
        b'"serialNo":1},{"major":5,"minor":75,"time":"2024-05-06T08:59:00","serialNo":2}]}}'
    )
    page = acs_event.decode_page(body)
    assert page.records == ()
    assert page.rejected == 3


@pytest.mark.parametrize("status", ["OK", "MORE", "NO MATCH"])
def test_search_statuses(status: str) -> None:
    body = json.dumps(
        {"AcsEvent": {"searchID": "a", "responseStatusStrg": status, "totalMatches": 0}}
    ).encode()
    assert acs_event.decode_page(body).status.value == status


def test_cond_exact_json() -> None:
    cond = AcsEventCond(
        search_id="u",
        position=30,
        max_results=30,
        major=5,
        minor=75,
        start_time="2024-05-06T00:00:00+08:00",
        end_time="2024-05-06T23:59:59+08:00",
    )
    assert json.loads(acs_event.encode_cond(cond)) == {
        "AcsEventCond": {
            "searchID": "u",
            "searchResultPosition": 30,
            "maxResults": 30,
            "major": 5,
            "minor": 75,
            "startTime": "2024-05-06T00:00:00+08:00",
            "endTime": "2024-05-06T23:59:59+08:00",
        }
    }


def test_time_is_normalised_to_utc() -> None:
    assert acs_event.parse_time("2024-05-06T08:59:00+08:00") == dt.datetime(2024, 5, 6, 0, 59, tzinfo=dt.UTC)


STREAM_JSON = b"""{"ipAddress":"10.0.0.9","portNo":80,"protocol":"HTTP","macAddress":"aa:bb","channelID":1,
"dateTime":"2024-05-06T08:59:00+08:00","activePostCount":1,"eventType":"AccessControllerEvent",
"eventState":"active","eventDescription":"Access Controller Event",
"AccessControllerEvent":{"deviceName":"Door","majorEventType":5,"subEventType":75,"name":"Zhang","cardReaderNo":1,"employeeNoString":"1001","serialNo":77,
"userType":"normal","currentVerifyMode":"face","attendanceStatus":"checkOut","mask":"no","picturesNumber":1}}"""
HEARTBEAT_XML = b"""<EventNotificationAlert version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema">
<ipAddress>10.0.0.9</ipAddress><dateTime>2024-05-06T09:00:00+08:00</dateTime><activePostCount>0</activePostCount>
<eventType>videoloss</eventType><eventState>inactive</eventState></EventNotificationAlert>"""
STREAM_RECORD = AcsEventRecord(
    major=5,
    minor=75,
    time="2024-05-06T08:59:00+08:00",
    serial_no=77,
    employee_id="1001",
    verify_mode="face",
    attendance_status="checkOut",
    pictures=1,
)


@pytest.mark.parametrize("boundary", ["boundary", "MIME_boundary"])
def test_alert_stream_table(boundary: str) -> None:
    b = boundary.encode()
    data = (
        f'--{boundary}\r\nContent-Type: application/json; charset="UTF-8"\r\n'.encode()
        + f"Content-Length: {len(STREAM_JSON)}\r\n\r\n".encode()
        + STREAM_JSON
        + b"\r\n"
        + f"--{boundary}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(JPEG)}\r\n\r\n".encode()
        + JPEG
        + b"\r\n"
        + f"--{boundary}\r\nContent-Type: application/xml\r\n\r\n".encode()
        + HEARTBEAT_XML
        + b"\r\n"
        + b"--"
        + b
        + b"\r\nContent-Type: application/json\r\n\r\n{not json\r\n--"
        + b
        + b"\r\n"
    )
    decoder = alert_stream.AlertStreamDecoder(f"multipart/mixed; boundary={boundary}")
    out: list[StreamMessage] = []
    for i in range(0, len(data), 7):
        decoder.feed(data[i : i + 7])
        while (m := decoder.next_message()) is not NEED_DATA:
            out.append(m)
    assert out == [
        STREAM_RECORD,
        PictureDropped(content_type="image/jpeg", size=len(JPEG)),
        Heartbeat(date_time="2024-05-06T09:00:00+08:00"),
        PartSkipped(reason="bad application/json", size=9),
    ]


def test_other_event_types_are_reported_by_type() -> None:
    assert notification.decode_event_json(b'{"eventType":"doorbell"}') == OtherAlert(event_type="doorbell")
    xml = b"<EventNotificationAlert><eventType>VMD</eventType><eventState>active</eventState>"
    xml += b"</EventNotificationAlert>"
    assert notification.decode_alert_xml(xml) == OtherAlert(event_type="VMD")


def test_http_push_form_event_log_and_picture() -> None:
    body = http_push.encode_form(b"----hik", STREAM_JSON, JPEG)
    assert b'name="event_log"' in body
    messages = http_push.decode_form("multipart/form-data; boundary=----hik", body)
    assert messages == [STREAM_RECORD, PictureDropped(content_type="image/jpeg", size=len(JPEG))]


def test_device_info_round_trip_and_table() -> None:
    info = DeviceInfo(
        device_name="Gate <1>",
        serial_number="DS-K1T671M0120240101",
        model="DS-K1T671M",
        mac_address="aa:bb:cc:dd:ee:ff",
        firmware_version="V3.2.30",
    )
    assert device_info.decode_device_info(device_info.encode_device_info(info)) == info
    real = b"""<?xml version="1.0" encoding="UTF-8"?><DeviceInfo version="2.0"
    xmlns="http://www.isapi.org/ver20/XMLSchema"><deviceName>Door</deviceName><deviceID>x</deviceID>
    <model>DS-K1T341</model><serialNumber>SN1</serialNumber><deviceType>ACS</deviceType></DeviceInfo>"""
    assert device_info.decode_device_info(real).serial_number == "SN1"


def test_user_info_bodies() -> None:
    assert json.loads(user_info.encode_delete(("1001",))) == {
        "UserInfoDelCond": {"EmployeeNoList": [{"employeeNo": "1001"}]}
    }
    assert user_info.decode_delete(user_info.encode_delete(("1", "2"))) == ("1", "2")
    user = UserInfo(employee_no="1001", name="张三")
    assert user_info.decode_record(user_info.encode_record(user)) == user
    cond = UserSearchCond(search_id="s", employee_nos=("1001",))
    assert user_info.decode_search(user_info.encode_search(cond)) == cond
    page = UserSearchPage(search_id="s", status=SearchStatus.OK, total_matches=1, users=(user,))
    assert user_info.decode_search_page(user_info.encode_search_page(page)) == page


def test_settings_bodies() -> None:
    off = PictureUploadSettings(upload_capture_picture=False, upload_verification_picture=False)
    assert json.loads(isapi_settings.encode_picture_upload(off)) == {
        "AcsCfg": {"uploadCapPic": False, "uploadVerificationPic": False}
    }
    on = PictureUploadSettings(upload_capture_picture=True, upload_verification_picture=True)
    assert isapi_settings.decode_picture_upload(isapi_settings.encode_picture_upload(off), on) == off
    hosts = (HttpHost(host_id="1", url="/events", ip_address="127.0.0.1", port=8080),)
    assert isapi_settings.decode_http_hosts(isapi_settings.encode_http_hosts(hosts)) == hosts
    status = ResponseStatus(status_code=1)
    assert isapi_settings.decode_status(isapi_settings.encode_status(status)).ok


records = st.builds(
    AcsEventRecord,
    major=st.integers(0, 10),
    minor=st.integers(0, 300),
    time=st.datetimes(timezones=st.just(dt.timezone(dt.timedelta(hours=8)))).map(lambda d: d.isoformat()),
    serial_no=st.integers(0, 2**40),
    employee_id=st.none() | st.text(st.characters(categories=["Nd", "Lu"]), min_size=1, max_size=12),
    card_no=st.none() | st.text("0123456789ABC", min_size=1, max_size=10),
    verify_mode=st.none() | st.sampled_from(["face", "cardOrFaceOrFp"]),
    attendance_status=st.none() | st.sampled_from(["checkIn", "checkOut", "undefined"]),
    pictures=st.integers(0, 3),
)


@given(st.lists(records, max_size=5), st.sampled_from(list(SearchStatus)))
def test_page_round_trip(items: list[AcsEventRecord], status: SearchStatus) -> None:
    page = AcsEventPage(search_id="x", status=status, total_matches=len(items), records=tuple(items))
    assert acs_event.decode_page(acs_event.encode_page(page)) == page


@given(records, st.sampled_from([b"boundary", b"MIME_boundary"]))
def test_stream_and_push_round_trip(record: AcsEventRecord, boundary: bytes) -> None:
    decoder = alert_stream.AlertStreamDecoder(alert_stream.stream_content_type(boundary))
    decoder.feed(
        alert_stream.encode_event_part(boundary, record, name="n")
        + alert_stream.encode_picture_part(boundary, JPEG)
        + alert_stream.encode_heartbeat_part(boundary, record.time)
    )
    got = [decoder.next_message() for _ in range(3)]
    assert got == [
        record,
        PictureDropped(content_type="image/jpeg", size=len(JPEG)),
        Heartbeat(date_time=record.time),
    ]
    form = http_push.encode_form(boundary, notification.encode_event_json(record))
    assert http_push.decode_form(http_push.form_content_type(boundary), form) == [record]


PARSERS: list[Callable[[bytes], object]] = [
    acs_event.decode_page,
    acs_event.decode_cond,
    notification.decode_event_json,
    notification.decode_alert_xml,
    device_info.decode_device_info,
    user_info.decode_record,
    user_info.decode_delete,
    user_info.decode_search,
    user_info.decode_search_page,
    isapi_settings.decode_http_hosts,
    isapi_settings.decode_status,
    lambda b: isapi_settings.decode_picture_upload(
        b, PictureUploadSettings(upload_capture_picture=True, upload_verification_picture=True)
    ),
    lambda b: http_push.decode_form("multipart/form-data; boundary=b", b),
]

json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "AcsEvent",
                    "InfoList",
                    "time",
                    "serialNo",
                    "major",
                    "minor",
                    "responseStatusStrg",
                    "UserInfo",
                    "UserInfoSearch",
                    "UserInfoDelCond",
                    "EmployeeNoList",
                    "employeeNo",
                    "AcsEventCond",
                    "AcsCfg",
                    "uploadCapPic",
                    "statusCode",
                    "eventType",
                    "dateTime",
                    "AccessControllerEvent",
                    "UserInfoSearchCond",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@given(st.binary(max_size=300) | json_like.map(lambda v: json.dumps(v).encode()))
@settings(max_examples=300, deadline=None)
def test_every_parser_is_total(data: bytes) -> None:
    for parse in PARSERS:
        with contextlib.suppress(IsapiProtocolError):
            parse(data)


@given(st.binary(max_size=500))
def test_alert_stream_decoder_is_total(data: bytes) -> None:
    decoder = alert_stream.AlertStreamDecoder("multipart/mixed; boundary=boundary")
    decoder.feed(b"--boundary\r\nContent-Type: application/json\r\n\r\n" + data + b"\r\n--boundary\r\n")
    while decoder.next_message() is not NEED_DATA:
        pass

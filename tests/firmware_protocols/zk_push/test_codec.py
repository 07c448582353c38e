"""ADMS codec: request tables from PROTOCOLS.md §3, replies, totality and round-trip properties."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware_protocols import zk_push
from firmware_protocols.zk_push import device_role

SN = "CEXJ201260012"
ATTLOG_LINE = "1001\t2024-01-02 08:30:00\t0\t15\t0\t0\t0\n"


@pytest.mark.parametrize("suffix", device_role.PATH_SUFFIXES)
@pytest.mark.parametrize(
    ("method", "endpoint", "query", "body", "expected"),
    [
        (
            "GET",
            "cdata",
            f"SN={SN}&options=all&pushver=2.4.1&language=83",
            b"",
            zk_push.OptionsRequest(
                sn=SN,
                pushver="2.4.1",
                language="83",
                params=(("SN", SN), ("options", "all"), ("pushver", "2.4.1"), ("language", "83")),
            ),
        ),
        (
            "POST",
            "cdata",
            f"SN={SN}&table=ATTLOG&Stamp=9999",
            ATTLOG_LINE.encode(),
            zk_push.AttLogUpload(
                sn=SN,
                stamp="9999",
                records=(
                    zk_push.AttRecord(
                        pin="1001",
                        time="2024-01-02 08:30:00",
                        status="0",
                        verify="15",
                        workcode="0",
                        extra=("0", "0"),
                    ),
                ),
            ),
        ),
        (
            "GET",
            "getrequest",
            f"SN={SN}&INFO=Ver%206.60,3,0,12,192.168.1.201",
            b"",
            zk_push.CommandPoll(sn=SN, info="Ver 6.60,3,0,12,192.168.1.201"),
        ),
        (
            "POST",
            "devicecmd",
            f"SN={SN}",
            b"ID=12&Return=0&CMD=DATA\n",
            zk_push.CommandResultUpload(
                sn=SN, results=(zk_push.CommandResult(id="12", return_code="0", cmd="DATA"),)
            ),
        ),
        (
            "POST",
            "cdata",
            f"SN={SN}&table=ENROLLFP",
            b"xyz",
            zk_push.OtherUpload(sn=SN, table="ENROLLFP", size=3),
        ),
    ],
)
def test_requests_are_classified(
    suffix: str, method: str, endpoint: str, query: str, body: bytes, expected: zk_push.TerminalRequest
) -> None:
    assert zk_push.parse_request(method, f"/iclock/{endpoint}{suffix}", query, body) == expected


def test_operlog_keeps_users_and_counts_templates_without_keeping_them() -> None:
    body = (
        "OPLOG 4\t0\t2024-01-02 08:00:00\t0\t0\t0\t0\r\n"
        "USER PIN=1001\tName=张三\tPri=0\tPasswd=\tCard=[12AB]\tGrp=1\tTZ=0000000100000000\r\n"
        "FP PIN=1001\tFID=6\tSize=1184\tValid=1\tTMP=SGVsbG8gdGVtcGxhdGU=\r\n"
        "FACE PIN=1001\tFID=0\tSIZE=8\tVALID=1\tTMP=AAAA\r\n"
        "USERPIC PIN=1001\tFileName=1001.jpg\tContent=/9j/\r\n"
    ).encode("gbk")
    upload = zk_push.parse_request(
        "POST", "/iclock/cdata", f"SN={SN}&table=OPERLOG&OpStamp=7&language=83", body
    )
    assert upload == zk_push.OperLogUpload(
        sn=SN,
        stamp="7",
        oplogs=(zk_push.OpLogEntry(fields=("4", "0", "2024-01-02 08:00:00", "0", "0", "0", "0")),),
        users=(
            zk_push.UserEntry(pin="1001", name="张三", card="[12AB]", extra=(("TZ", "0000000100000000"),)),
        ),
        templates_dropped=2,
        pictures_dropped=1,
    )
    assert "SGVsbG8" not in repr(upload)
    assert "/9j/" not in repr(upload)


def test_attphoto_keeps_only_who_when_and_size() -> None:
    jpeg = b"\xff\xd8\xff\xe0" + b"\x01" * 200
    body = device_role.attphoto_body(SN, "1001", "20240102083000", jpeg)
    upload = zk_push.parse_request("POST", "/iclock/cdata", f"SN={SN}&table=ATTPHOTO&Stamp=5", body)
    assert upload == zk_push.AttPhotoUpload(
        sn=SN, stamp="5", pin="1001", time="20240102083000", photo_bytes=204
    )


def test_info_lines_belong_to_the_result_before_them() -> None:
    body = b"ID=14&Return=0&CMD=INFO\n~DeviceName=F18\nUserCount=3\nID=15&Return=-1002&CMD=REBOOT\n"
    upload = zk_push.parse_request("POST", "/iclock/devicecmd.aspx", f"SN={SN}", body)
    assert isinstance(upload, zk_push.CommandResultUpload)
    assert [(r.id, r.ok, r.extra) for r in upload.results] == [
        ("14", True, (("~DeviceName", "F18"), ("UserCount", "3"))),
        ("15", False, ()),
    ]


@pytest.mark.parametrize(
    ("method", "path", "query"),
    [
        ("GET", "/iclock/other", f"SN={SN}"),
        ("DELETE", "/iclock/cdata", f"SN={SN}"),
        ("GET", "/iclock/cdata", ""),
        ("GET", "/iclock/getrequest", "SN=bad%20sn"),
        ("POST", "/iclock/getrequest", f"SN={SN}"),
    ],
)
def test_bad_requests_raise_the_codec_error(method: str, path: str, query: str) -> None:
    with pytest.raises(zk_push.ZkPushProtocolError):
        zk_push.parse_request(method, path, query, b"")


def test_gbk_bodies_decode_and_utf8_wins_when_valid() -> None:
    assert zk_push.decode_text("张三".encode("gbk"), "83") == "张三"
    assert zk_push.decode_text("张三".encode(), "83") == "张三"
    assert zk_push.decode_text(b"\xff\xfe\x81", "69").count("\ufffd") >= 1
    assert zk_push.encode_text("张三", "83") == "张三".encode("gbk")


def test_options_reply_matches_the_spec_lines_and_requests_no_biometrics() -> None:
    text = zk_push.options_reply(SN, zk_push.TerminalOptions(attlog_stamp="9", delay=10, timezone="8"))
    lines = text.splitlines()
    assert lines[0] == f"GET OPTION FROM: {SN}"
    assert "ATTLOGStamp=9" in lines
    assert "Delay=10" in lines
    assert "TimeZone=8" in lines
    assert "Realtime=1" in lines
    flags = next(line for line in lines if line.startswith("TransFlag=")).split("=", 1)[1].split()
    assert not set(flags) & zk_push.BIOMETRIC_TRANS_FLAGS


@pytest.mark.parametrize(
    ("command", "text"),
    [
        (
            zk_push.UpdateUser(user=zk_push.UserEntry(pin="1001", name="张三")),
            "DATA UPDATE USERINFO PIN=1001\tName=张三\tPri=0\tPasswd=\tCard=\tGrp=1",
        ),
        (zk_push.DeleteUser(pin="1001"), "DATA DELETE USERINFO PIN=1001"),
        (zk_push.Check(), "CHECK"),
        (zk_push.Info(), "INFO"),
        (zk_push.ClearLog(), "CLEAR LOG"),
    ],
)
def test_command_lines(command: zk_push.DeviceCommand, text: str) -> None:
    assert zk_push.commands_reply([zk_push.QueuedCommand(id=12, command=command)]) == f"C:12:{text}\n"
    assert zk_push.parse_command(text) == command


def test_fields_that_would_break_framing_are_refused() -> None:
    with pytest.raises(zk_push.ZkPushLocalError):
        zk_push.command_text(zk_push.UpdateUser(user=zk_push.UserEntry(pin="1", name="a\tPri=14")))


# -- properties -----------------------------------------------------------------------------------

methods = st.sampled_from(["GET", "POST", "PUT", "get"])
paths = st.sampled_from([*zk_push.ENDPOINTS, "/", "/iclock/x"]) | st.text(max_size=30)
queries = st.lists(
    st.tuples(
        st.sampled_from(["SN", "table", "Stamp", "language", "INFO", "x"]),
        st.sampled_from([SN, "ATTLOG", "OPERLOG", "ATTPHOTO", "83", ""]) | st.text(max_size=10),
    )
)


@given(methods, paths, queries, st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_parse_request_is_total(method: str, path: str, query: list[tuple[str, str]], body: bytes) -> None:
    from urllib.parse import urlencode

    with contextlib.suppress(zk_push.ZkPushProtocolError):
        zk_push.parse_request(method, path, urlencode(query), body)


@given(st.text(max_size=300))
def test_reply_parsers_are_total(text: str) -> None:
    for parse in (zk_push.parse_options_reply, zk_push.parse_commands_reply):
        with contextlib.suppress(zk_push.ZkPushProtocolError):
            parse(text)


field = st.text(st.characters(blacklist_characters="\t\r\n\x00", blacklist_categories=("Cs",)), max_size=12)
token = field.map(str.strip).filter(bool).filter(lambda s: "=" not in s)
users = st.builds(
    zk_push.UserEntry, pin=token, name=field, privilege=token, password=field, card=field, group=token
)
records = st.builds(
    zk_push.AttRecord,
    pin=token,
    time=token,
    status=field.map(str.strip),
    verify=field.map(str.strip),
    workcode=field.map(str.strip),
)
commands = st.one_of(
    st.builds(zk_push.UpdateUser, user=users),
    st.builds(zk_push.DeleteUser, pin=token),
    st.just(zk_push.Check()),
    st.just(zk_push.Info()),
    st.just(zk_push.ClearLog()),
)


@given(st.lists(records, min_size=1, max_size=5), st.sampled_from(["69", "83"]))
def test_attlog_round_trip(batch: list[zk_push.AttRecord], language: str) -> None:
    body = zk_push.encode_text(device_role.attlog_body(batch), language)
    upload = zk_push.parse_request("POST", "/iclock/cdata", f"SN={SN}&table=ATTLOG&Stamp=3", body)
    assert upload == zk_push.AttLogUpload(sn=SN, stamp="3", records=tuple(batch))


@given(st.lists(users, max_size=4))
def test_operlog_users_round_trip(batch: list[zk_push.UserEntry]) -> None:
    body = device_role.operlog_body(batch).encode()
    upload = zk_push.parse_request("POST", "/iclock/cdata", f"SN={SN}&table=OPERLOG&OpStamp=1", body)
    assert isinstance(upload, zk_push.OperLogUpload)
    assert upload.users == tuple(batch)


@given(st.lists(st.builds(zk_push.QueuedCommand, id=st.integers(0, 10**9 - 1), command=commands), max_size=5))
def test_commands_round_trip(batch: list[zk_push.QueuedCommand]) -> None:
    assert zk_push.parse_commands_reply(zk_push.commands_reply(batch)) == tuple(batch)


@given(
    st.builds(
        zk_push.TerminalOptions,
        attlog_stamp=token,
        operlog_stamp=token,
        delay=st.integers(0, 9999),
        trans_flag=field.map(str.strip),
        realtime=st.booleans(),
    )
)
def test_options_round_trip(options: zk_push.TerminalOptions) -> None:
    assert zk_push.parse_options_reply(zk_push.options_reply(SN, options)) == (SN, options)

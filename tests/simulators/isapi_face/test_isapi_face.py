"""The ISAPI face simulator over real loopback HTTP, driven with httpx (Digest) and our codec."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from firmware_protocols.errors import NEED_DATA
from firmware_protocols.isapi import acs_event, alert_stream, device_info, http_push, settings, user_info
from firmware_protocols.isapi.messages import (
    AcsEventCond,
    AcsEventPage,
    AcsEventRecord,
    Heartbeat,
    HttpHost,
    PictureDropped,
    PictureUploadSettings,
    SearchStatus,
    StreamMessage,
    UserInfo,
    UserSearchCond,
)
from simulators.isapi_face import IsapiFaceSimulator
from tests.support.network import free_port
from tests.support.polling import wait_for

USER, PASSWORD = "admin", "s3cret-pw"


@pytest.fixture
def sim() -> Iterator[IsapiFaceSimulator]:
    with IsapiFaceSimulator(username=USER, password=PASSWORD, heartbeat_s=0.2) as running:
        yield running


def client(sim: IsapiFaceSimulator, password: str = PASSWORD) -> httpx.Client:
    return httpx.Client(base_url=sim.url, auth=httpx.DigestAuth(USER, password), timeout=5)


def test_digest_challenge_first_then_device_info(sim: IsapiFaceSimulator) -> None:
    bare = httpx.get(sim.url + device_info.PATH, timeout=5)
    assert bare.status_code == 401
    assert bare.headers["www-authenticate"].startswith('Digest realm="DS-K1T671M", qop="auth"')
    with client(sim) as http:
        info = device_info.decode_device_info(http.get(device_info.PATH).content)
    assert info.serial_number == sim.info.serial_number


def test_wrong_password_is_refused_and_counted(sim: IsapiFaceSimulator) -> None:
    with client(sim, "wrong") as http:
        assert http.get(device_info.PATH).status_code == 401
    assert sim.terminal.counters.auth_failures == 1


def search(
    http: httpx.Client, position: int, max_results: int = 100, begin_serial_no: int | None = None
) -> AcsEventPage:
    cond = AcsEventCond(
        search_id="s", position=position, max_results=max_results, begin_serial_no=begin_serial_no
    )
    reply = http.post(acs_event.PATH, content=acs_event.encode_cond(cond))
    reply.raise_for_status()
    return acs_event.decode_page(reply.content)


def test_acs_event_paging_caps_at_30(sim: IsapiFaceSimulator) -> None:
    with client(sim) as http:
        assert search(http, 0).status is SearchStatus.NO_MATCH
        for i in range(45):
            sim.punch(str(1000 + i))
        first, second = search(http, 0), search(http, 30)
        assert (first.status, len(first.records), first.total_matches) == (SearchStatus.MORE, 30, 45)
        assert (second.status, len(second.records)) == (SearchStatus.OK, 15)
        serials = [r.serial_no for r in first.records + second.records]
        assert serials == list(range(1, 46))
        assert [r.serial_no for r in search(http, 0, begin_serial_no=40).records] == list(range(40, 46))


def read_stream(
    sim: IsapiFaceSimulator, until: Callable[[list[StreamMessage]], bool], during: Callable[[], object]
) -> list[StreamMessage]:
    """Open the alertStream, run ``during`` once connected, read until ``until`` holds (5 s deadline)."""
    messages: list[StreamMessage] = []
    deadline = time.monotonic() + 5
    with client(sim) as http, http.stream("GET", alert_stream.PATH) as reply:
        decoder = alert_stream.AlertStreamDecoder(reply.headers["content-type"])
        wait_for(lambda: sim.terminal.subscriber_count() == 1, what="stream subscriber")
        during()
        for chunk in reply.iter_raw():
            decoder.feed(chunk)
            while (m := decoder.next_message()) is not NEED_DATA:
                messages.append(m)
            if until(messages) or time.monotonic() > deadline:
                break
    return messages


@pytest.mark.parametrize("style", ["boundary", "MIME_boundary"])
def test_alert_stream_events_and_heartbeats(style: str) -> None:
    with IsapiFaceSimulator(
        username=USER, password=PASSWORD, heartbeat_s=0.1, boundary_style=style, pictures=True
    ) as sim:
        messages = read_stream(
            sim,
            lambda ms: any(isinstance(m, AcsEventRecord) for m in ms) and isinstance(ms[-1], Heartbeat),
            lambda: sim.punch("1001"),
        )
    events = [m for m in messages if isinstance(m, AcsEventRecord)]
    assert [(e.employee_id, e.serial_no, e.pictures) for e in events] == [("1001", 1, 1)]
    assert PictureDropped(content_type="image/jpeg", size=len(sim_jpeg())) in messages


def sim_jpeg() -> bytes:
    from simulators.isapi_face.terminal import FAKE_JPEG

    return FAKE_JPEG


def test_picture_upload_off_is_honoured(sim: IsapiFaceSimulator) -> None:
    sim.terminal.pictures_enabled = True
    off = PictureUploadSettings(upload_capture_picture=False, upload_verification_picture=False)
    with client(sim) as http:
        http.put(settings.ACS_CFG_PATH, content=settings.encode_picture_upload(off)).raise_for_status()
    messages = read_stream(
        sim, lambda ms: any(isinstance(m, AcsEventRecord) for m in ms), lambda: sim.punch()
    )
    assert not any(isinstance(m, PictureDropped) for m in messages)
    assert sim.terminal.counters.pictures_sent == 0


def test_http_hosts_push_sends_event_log_form(sim: IsapiFaceSimulator) -> None:
    received: list[tuple[str, bytes]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(
                (self.headers["Content-Type"], self.rfile.read(int(self.headers["Content-Length"])))
            )
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    listener = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=listener.serve_forever, daemon=True)
    thread.start()
    try:
        sim.terminal.pictures_enabled = True
        host = HttpHost(host_id="1", url="/hik", ip_address="127.0.0.1", port=listener.server_address[1])
        with client(sim) as http:
            http.put(settings.HTTP_HOSTS_PATH, content=settings.encode_http_hosts((host,))).raise_for_status()
        sim.punch("2002")
        wait_for(lambda: received, what="push")
    finally:
        listener.shutdown()
        listener.server_close()
    content_type, body = received[0]
    assert b'name="event_log"' in body
    messages = http_push.decode_form(content_type, body)
    assert [r.employee_id for r in http_push.event_records(messages)] == ["2002"]
    assert any(isinstance(m, PictureDropped) for m in messages)


def test_user_record_search_delete(sim: IsapiFaceSimulator) -> None:
    with client(sim) as http:
        for number in ("1", "2"):
            body = user_info.encode_record(UserInfo(employee_no=number, name="张三"))
            http.post(user_info.RECORD_PATH, content=body).raise_for_status()
        found = http.post(
            user_info.SEARCH_PATH, content=user_info.encode_search(UserSearchCond(search_id="a"))
        )
        assert [u.employee_no for u in user_info.decode_search_page(found.content).users] == ["1", "2"]
        http.put(user_info.DELETE_PATH, content=user_info.encode_delete(("1",))).raise_for_status()
        cond = UserSearchCond(search_id=str(uuid.uuid4()), employee_nos=("1",))
        gone = user_info.decode_search_page(
            http.post(user_info.SEARCH_PATH, content=user_info.encode_search(cond)).content
        )
    assert gone.status is SearchStatus.NO_MATCH


def test_state_file_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "isapi.json"
    with IsapiFaceSimulator(username=USER, password=PASSWORD, state_path=state) as first:
        first.terminal.add_user(UserInfo(employee_no="7"))
        first.punch("7")
        first.punch("7")
    with (
        IsapiFaceSimulator(username=USER, password=PASSWORD, state_path=state) as second,
        client(second) as http,
    ):
        assert [r.serial_no for r in search(http, 0).records] == [1, 2]
        assert second.punch("7").serial_no == 3
        assert "7" in second.terminal.users


def test_cli_serves_device_info(tmp_path: Path) -> None:
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "simulators.cli",
        "isapi-face",
        "--port",
        str(port),
        "--user",
        USER,
        "--password",
        PASSWORD,
        "--state",
        str(tmp_path / "s.json"),
        "--boundary-style",
        "boundary",
    ]
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            try:
                return (
                    httpx.get(url + device_info.PATH, auth=httpx.DigestAuth(USER, PASSWORD)).status_code
                    == 200
                )
            except httpx.TransportError:
                return False

        wait_for(answers, timeout=15, what="mpm-sim isapi-face")
    finally:
        process.terminate()
        process.wait(timeout=10)
        assert process.stdout is not None
        process.stdout.close()

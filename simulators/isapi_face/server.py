"""The terminal's HTTP face: ISAPI routes behind Digest auth, the alertStream and the push client.

Threading: ``ThreadingHTTPServer`` gives each connection a thread; an alertStream thread blocks on its
subscriber queue and writes a heartbeat whenever ``heartbeat_s`` passes without an event.
Fault ``delay_s`` (settable at run time): a slow terminal; every request is answered ``delay_s`` late
and every alertStream part (heartbeats too) is written ``delay_s`` late. A client that gave up in the
meantime is expected, so its broken connection is logged at debug level, not reported.
"""

from __future__ import annotations

import http.client
import logging
import queue
import socket
import sys
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self, cast

from firmware_protocols.isapi import acs_event, alert_stream, device_info, http_push, notification, user_info
from firmware_protocols.isapi import settings as isapi_settings
from firmware_protocols.isapi.errors import IsapiProtocolError
from firmware_protocols.isapi.messages import AcsEventRecord, DeviceInfo, ResponseStatus
from simulators.isapi_face.digest import DigestAuthority
from simulators.isapi_face.terminal import Published, Terminal

log = logging.getLogger(__name__)

OK_JSON: Final = isapi_settings.encode_status(ResponseStatus(status_code=1))
OK_XML: Final = (
    b'<?xml version="1.0" encoding="UTF-8"?><ResponseStatus version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema">'
    b"<statusCode>1</statusCode><statusString>OK</statusString><subStatusCode>ok</subStatusCode></ResponseStatus>"
)


class IsapiFaceSimulator:
    """A face terminal on ``http://host:port``; use as a context manager or ``start()``/``stop()``."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        username: str = "admin",
        password: str = "12345",
        pictures: bool = False,
        boundary_style: str = "MIME_boundary",
        state_path: Path | None = None,
        heartbeat_s: float = 5.0,
        serial_number: str = "DS-K1T671M0120240101SIM0001",
    ) -> None:
        self.terminal = Terminal(pictures=pictures, state_path=state_path)
        self.terminal.push_listeners = self._queue_push  # type: ignore[method-assign]
        self.authority = DigestAuthority(username, password, realm="DS-K1T671M")
        self.boundary = alert_stream.BOUNDARY_STYLES[boundary_style]
        self.info = DeviceInfo(
            device_name="MPM face terminal",
            serial_number=serial_number,
            model="DS-K1T671M",
            mac_address="44:19:b6:00:00:01",
            firmware_version="V3.2.30",
        )
        self.heartbeat_s = heartbeat_s
        self.delay_s = 0.0  # fault: answer every request and write every stream part this late
        self.request_times: list[float] = []  # time.monotonic() of each request's arrival
        self.stopping = threading.Event()
        self._push_queue: queue.Queue[Published | None] = queue.Queue()
        self._httpd = _Server((host, port), _Handler, self)
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        """Serve in background threads."""
        for name, target in (("isapi-http", self._httpd.serve_forever), ("isapi-push", self._push_loop)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Close streams and the listener; wait for the threads."""
        self.stopping.set()
        self.terminal.drop_streams()
        self._push_queue.put(None)
        self._httpd.shutdown()
        self._httpd.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    def punch(self, employee_no: str = "1001", **kwargs: object) -> AcsEventRecord:
        """Make the terminal record an access event now."""
        return self.terminal.punch(employee_no, **kwargs)  # type: ignore[arg-type]

    def start_punching(self, every_s: float) -> None:
        """Punch a known user (or 1001) every ``every_s`` seconds until stopped."""

        def loop() -> None:
            while not self.stopping.wait(every_s):
                users = sorted(self.terminal.locked(lambda: list(self.terminal.users)))
                self.punch(users[self.terminal.next_serial % len(users)] if users else "1001")

        thread = threading.Thread(target=loop, name="isapi-punch", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _queue_push(self, item: Published) -> None:
        if self.terminal.http_hosts and item.record is not None:
            self._push_queue.put(item)

    def _push_loop(self) -> None:
        while (item := self._push_queue.get()) is not None:
            for host in self.terminal.http_hosts:
                self._push_one(host.ip_address, host.port, host.url, item)

    def _push_one(self, ip: str, port: int, url: str, item: Published) -> None:
        assert item.record is not None
        boundary = b"MIME_boundary"
        body = http_push.encode_form(
            boundary, notification.encode_event_json(item.record, name=item.name), item.picture
        )
        try:
            conn = http.client.HTTPConnection(ip, port, timeout=5)
            conn.request(
                "POST", url or "/", body=body, headers={"Content-Type": http_push.form_content_type(boundary)}
            )
            conn.getresponse().read()
            conn.close()
            self.terminal.counters.pushes_sent += 1
            self.terminal.counters.pictures_sent += 1 if item.picture else 0
        except OSError as exc:
            self.terminal.counters.push_failures += 1
            log.warning("push to %s:%s failed: %s", ip, port, exc)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], sim: IsapiFaceSimulator
    ):
        self.sim = sim
        super().__init__(address, handler)

    def handle_error(self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):  # the client gave up first (delay_s)
            log.debug("client %s went away", client_address)
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "App-webs/"
    sys_version = ""

    @property
    def sim(self) -> IsapiFaceSimulator:
        return cast(_Server, self.server).sim

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def _dispatch(self, method: str) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        terminal = self.sim.terminal
        terminal.counters.requests += 1
        self.sim.request_times.append(time.monotonic())
        if self.sim.delay_s:
            self.sim.stopping.wait(self.sim.delay_s)
        if not self._authorised(method):
            return
        route = ROUTES.get((method, self.path.split("?", 1)[0]))
        if route is None:
            self._reply(HTTPStatus.NOT_FOUND, "text/plain", b"not found")
            return
        try:
            route(self, body)
        except (IsapiProtocolError, KeyError, ValueError) as exc:
            self._reply(
                HTTPStatus.BAD_REQUEST,
                "application/json",
                isapi_settings.encode_status(
                    ResponseStatus(
                        status_code=6, status_string=str(exc)[:200], sub_status_code="badParameters"
                    )
                ),
            )

    def _authorised(self, method: str) -> bool:
        header = self.headers.get("Authorization")
        if header and self.sim.authority.verify(method, header):
            return True
        counters = self.sim.terminal.counters
        if header:
            counters.auth_failures += 1
            self.sim.terminal.auth_failure_times.append(time.monotonic())
        else:
            counters.challenges += 1
        self.send_response(HTTPStatus.UNAUTHORIZED)
        self.send_header("WWW-Authenticate", self.sim.authority.challenge())
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", "0")
        self.end_headers()
        return False

    def _reply(self, status: HTTPStatus, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    # -- routes ---------------------------------------------------------------------------------
    def device_info(self, _: bytes) -> None:
        self._reply(HTTPStatus.OK, "application/xml", device_info.encode_device_info(self.sim.info))

    def device_status(self, _: bytes) -> None:
        """``/ISAPI/System/status``: hikvisionapi probes it to pick Basic or Digest."""
        body = b'<?xml version="1.0" encoding="UTF-8"?><DeviceStatus version="2.0">'
        self._reply(HTTPStatus.OK, "application/xml", body + b"<deviceUpTime>1</deviceUpTime></DeviceStatus>")

    def acs_event(self, body: bytes) -> None:
        page = self.sim.terminal.search_events(acs_event.decode_cond(body))
        self._reply(
            HTTPStatus.OK, "application/json", acs_event.encode_page(page, self.sim.terminal.event_names())
        )

    def user_record(self, body: bytes) -> None:
        self.sim.terminal.add_user(user_info.decode_record(body))
        self._reply(HTTPStatus.OK, "application/json", OK_JSON)

    def user_delete(self, body: bytes) -> None:
        self.sim.terminal.delete_users(user_info.decode_delete(body))
        self._reply(HTTPStatus.OK, "application/json", OK_JSON)

    def user_search(self, body: bytes) -> None:
        page = self.sim.terminal.search_users(user_info.decode_search(body))
        self._reply(HTTPStatus.OK, "application/json", user_info.encode_search_page(page))

    def acs_cfg(self, body: bytes) -> None:
        terminal = self.sim.terminal
        terminal.set_picture_upload(isapi_settings.decode_picture_upload(body, terminal.picture_upload))
        self._reply(HTTPStatus.OK, "application/json", OK_JSON)

    def http_hosts(self, body: bytes) -> None:
        self.sim.terminal.set_http_hosts(isapi_settings.decode_http_hosts(body))
        self._reply(HTTPStatus.OK, "application/xml", OK_XML)

    def stream(self, _: bytes) -> None:
        sim = self.sim
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", alert_stream.stream_content_type(sim.boundary))
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        inbox = sim.terminal.subscribe()
        try:
            self._follow(inbox)
        except OSError:
            pass  # the client went away
        finally:
            sim.terminal.unsubscribe(inbox)

    def _follow(self, inbox: queue.Queue[Published]) -> None:
        sim = self.sim
        while not sim.stopping.is_set():
            try:
                item = inbox.get(timeout=sim.heartbeat_s)
            except queue.Empty:
                now = time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(time.time() + 8 * 3600))
                self._write(alert_stream.encode_heartbeat_part(sim.boundary, now))
                continue
            if item.drop:
                return
            self._write(self._stream_bytes(item))

    def _stream_bytes(self, item: Published) -> bytes:
        if item.raw is not None:
            return item.raw
        assert item.record is not None
        data = alert_stream.encode_event_part(self.sim.boundary, item.record, name=item.name)
        if item.picture is not None:
            data += alert_stream.encode_picture_part(self.sim.boundary, item.picture)
            self.sim.terminal.counters.pictures_sent += 1
        return data

    def _write(self, data: bytes) -> None:
        if self.sim.delay_s:
            self.sim.stopping.wait(self.sim.delay_s)
        self.wfile.write(data)
        self.wfile.flush()


ROUTES: Final[dict[tuple[str, str], Callable[[_Handler, bytes], None]]] = {
    ("GET", device_info.PATH): _Handler.device_info,
    ("GET", "/ISAPI/System/status"): _Handler.device_status,
    ("POST", acs_event.PATH.split("?")[0]): _Handler.acs_event,
    ("GET", alert_stream.PATH): _Handler.stream,
    ("PUT", isapi_settings.HTTP_HOSTS_PATH): _Handler.http_hosts,
    ("PUT", isapi_settings.ACS_CFG_PATH.split("?")[0]): _Handler.acs_cfg,
    ("POST", user_info.RECORD_PATH.split("?")[0]): _Handler.user_record,
    ("PUT", user_info.DELETE_PATH.split("?")[0]): _Handler.user_delete,
    ("POST", user_info.SEARCH_PATH.split("?")[0]): _Handler.user_search,
}

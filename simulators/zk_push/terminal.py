"""A ZKTeco terminal speaking ADMS to a server: the device role of ``firmware_protocols.zk_push``.

Behaves like a real terminal where it matters: it asks for options first and resumes from the
server's ATTLOGStamp; it keeps every record until the server answers ``OK`` (any other answer, or a
broken connection, means the records are resent next cycle); it polls getrequest every Delay seconds
and executes the commands against its own user table and log, posting each result to devicecmd. With
``photos`` it also uploads a small fake JPEG per punch, and with ``templates`` a fingerprint and a face
template and a user picture of the person who punched (OPERLOG FP / FACE / USERPIC lines, as a
terminal re-enrolling them would): the agent must drop them all (PRIVACY.md BIO-1, BIO-2).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import http.client
import logging
import threading
import time
import zoneinfo
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from firmware_protocols import zk_push
from firmware_protocols.zk_push import device_role
from simulators.zk_push.state import LogEntry, TerminalMemory, load, save

log = logging.getLogger(__name__)

FAKE_JPEG: Final = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
)
# A fake biometric template: a recognisable header, then bytes no text field would hold.
FAKE_TEMPLATE: Final = b"MPMSIMTEMPLATE\x00\x01" + bytes(range(255, -1, -1)) * 2
MAX_LINES_PER_UPLOAD: Final = 100
UNKNOWN_COMMAND_RETURN: Final = "-1002"
DEFAULT_USER_TZ: Final = "0000000100000000"  # access time zone 1, as terminals report it


def biometric_lines(pin: str) -> str:
    """OPERLOG lines a terminal sends after enrolling ``pin``: fingerprint, face, user picture."""
    template, picture = base64.b64encode(FAKE_TEMPLATE).decode(), base64.b64encode(FAKE_JPEG).decode()
    return (
        f"FP PIN={pin}\tFID=6\tSize={len(template)}\tValid=1\tTMP={template}\n"
        f"FACE PIN={pin}\tFID=0\tSize={len(template)}\tValid=1\tTMP={template}\n"
        f"USERPIC PIN={pin}\tFileName={pin}.jpg\tSize={len(picture)}\tContent={picture}\n"
    )


class ServerRefused(Exception):
    """The server answered something other than ``OK``; the data stays pending."""


class PushTerminal:
    """One simulated terminal; call ``sync_once()`` (a test) or ``run(stop)`` (the CLI)."""

    def __init__(
        self,
        server: str,
        sn: str,
        *,
        language: str = "69",
        photos: bool = False,
        templates: bool = False,
        timezone: str = "Asia/Shanghai",
        state_path: Path | None = None,
        path_suffix: str = "",
        timeout_s: float = 10.0,
    ) -> None:
        url = urlsplit(server)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.sn, self.language, self.photos, self.suffix = sn, language, photos, path_suffix
        self.templates = templates
        self._pending_templates: list[str] = []  # PINs whose biometrics go up next cycle (not persisted)
        self.zone = zoneinfo.ZoneInfo(timezone)
        self.timeout_s = timeout_s
        self.state_path = state_path
        self.memory = (load(state_path) if state_path else None) or TerminalMemory()
        self.options: zk_push.TerminalOptions | None = None
        self._lock = threading.RLock()

    @property
    def delay_s(self) -> float:
        return float(self.options.delay if self.options else 10)

    # -- the people and punches in front of the terminal ---------------------------------------

    def enroll(self, user: zk_push.UserEntry) -> None:
        """Add or change a user locally (the change is reported in OPERLOG)."""
        if not any(key == "TZ" for key, _ in user.extra):  # real terminals always report TZ
            user = dataclasses.replace(user, extra=(*user.extra, ("TZ", DEFAULT_USER_TZ)))
        with self._lock:
            self.memory.users[user.pin] = user
            self.memory.pending_users.append(user)

    def punch(
        self, pin: str, *, status: str = "0", verify: str = "1", at: dt.datetime | None = None
    ) -> zk_push.AttRecord:
        """Record a punch now (or at ``at``, local terminal time) and queue it for upload."""
        local = (at or dt.datetime.now(self.zone)).astimezone(self.zone)
        record = zk_push.AttRecord(
            pin=pin, time=local.strftime("%Y-%m-%d %H:%M:%S"), status=status, verify=verify
        )
        with self._lock:
            self.memory.log.append(LogEntry(stamp=self.memory.next_stamp, record=record))
            self.memory.next_stamp += 1
            if self.photos:
                self.memory.pending_photos.append((pin, local.strftime("%Y%m%d%H%M%S")))
            if self.templates:
                self._pending_templates.append(pin)
        return record

    # -- one exchange cycle ---------------------------------------------------------------------

    def sync_once(self) -> None:
        """Options (first time), uploads, one command poll, result posts; then save the state."""
        with self._lock:
            try:
                if self.options is None:
                    self.initialise()
                self.upload_pending()
                self.poll_commands()
                self.post_results()
            finally:
                self._save()

    def run(
        self, stop: threading.Event, punch_every: float | None = None, pins: tuple[str, ...] = ()
    ) -> None:
        """Cycle every Delay seconds (ErrorDelay after a failure) until ``stop`` is set; punch if asked."""
        punching = bool(punch_every and pins)
        next_punch = next_sync = time.monotonic()
        turn = 0
        while not stop.is_set():
            now = time.monotonic()
            if punching and now >= next_punch:
                self.punch(pins[turn % len(pins)])
                turn, next_punch, next_sync = turn + 1, now + (punch_every or 0.0), now  # realtime upload
            if now >= next_sync:
                next_sync = now + self._cycle()
            stop.wait(max(0.0, min(next_sync, next_punch if punching else next_sync) - time.monotonic()))

    def _cycle(self) -> float:
        """One sync; the seconds to wait before the next one."""
        try:
            self.sync_once()
        except (OSError, http.client.HTTPException, ServerRefused, zk_push.ZkPushProtocolError) as error:
            self.memory.counters["errors"] += 1
            log.warning("terminal %s: %s", self.sn, error)
            return float(self.options.error_delay if self.options else 30)
        return self.delay_s

    def initialise(self) -> zk_push.TerminalOptions:
        """GET the options; resume uploads from the server's ATTLOGStamp."""
        target = device_role.options_target(self.sn, language=self.language, suffix=self.suffix)
        _, options = zk_push.parse_options_reply(self._exchange("GET", target))
        stamp = options.attlog_stamp.strip()
        self.memory.uploaded_stamp = int(stamp) if stamp.isdigit() else 0
        self.options = options
        self.memory.counters["initialisations"] += 1
        return options

    def upload_pending(self) -> None:
        """Upload unsent punches, user changes and photos; keep whatever is not answered OK."""
        while unsent := self.memory.unsent()[:MAX_LINES_PER_UPLOAD]:
            stamp = str(unsent[-1].stamp)
            body = device_role.attlog_body([entry.record for entry in unsent])
            self._upload("ATTLOG", stamp, zk_push.encode_text(body, self.language))
            self.memory.uploaded_stamp = unsent[-1].stamp
            self.memory.counters["punches_uploaded"] += len(unsent)
        if self.memory.pending_users:
            body = device_role.operlog_body(self.memory.pending_users)
            self._upload("OPERLOG", str(self.memory.next_stamp), zk_push.encode_text(body, self.language))
            self.memory.pending_users.clear()
        while self.memory.pending_photos:
            pin, when = self.memory.pending_photos[0]
            self._upload("ATTPHOTO", when, device_role.attphoto_body(self.sn, pin, when, FAKE_JPEG))
            self.memory.pending_photos.pop(0)
            self.memory.counters["photos_uploaded"] += 1
        if self._pending_templates:
            body = "".join(biometric_lines(pin) for pin in self._pending_templates)
            self._upload("OPERLOG", str(self.memory.next_stamp), zk_push.encode_text(body, self.language))
            self.memory.counters["templates_uploaded"] += 2 * len(self._pending_templates)
            self._pending_templates.clear()

    def poll_commands(self) -> int:
        """One getrequest; execute each command; return how many arrived."""
        reply = self._exchange("GET", device_role.poll_target(self.sn, suffix=self.suffix))
        commands = zk_push.parse_commands_reply(reply)
        for queued in commands:
            self.memory.pending_results.append(self.execute(queued))
        return len(commands)

    def post_results(self) -> None:
        """POST pending command results to devicecmd (kept until answered OK)."""
        if not self.memory.pending_results:
            return
        body = device_role.command_results_body(self.memory.pending_results)
        self._post(
            device_role.result_target(self.sn, suffix=self.suffix), zk_push.encode_text(body, self.language)
        )
        self.memory.pending_results.clear()

    # -- commands ----------------------------------------------------------------------------------

    def execute(self, queued: zk_push.QueuedCommand) -> zk_push.CommandResult:
        """Apply one command to the terminal's memory; its devicecmd result."""
        command, code = queued.command, "0"
        extra: tuple[tuple[str, str], ...] = ()
        match command:
            case zk_push.UpdateUser(user=user):
                self.memory.users[user.pin] = user
            case zk_push.DeleteUser(pin=pin):
                self.memory.users.pop(pin, None)
            case zk_push.Check():
                self.options = None  # re-initialise on the next cycle, as terminals do
            case zk_push.Info():
                extra = self._info()
            case zk_push.ClearLog():
                self.memory.log.clear()
            case zk_push.UnknownCommand():
                code = UNKNOWN_COMMAND_RETURN
        self.memory.counters["commands_executed"] += 1
        verb = zk_push.command_text(command).split(" ", 1)[0]
        return zk_push.CommandResult(id=str(queued.id), return_code=code, cmd=verb, extra=extra)

    def _info(self) -> tuple[tuple[str, str], ...]:
        return (
            ("~DeviceName", "MPM-SIM"),
            ("FWVersion", "Ver 6.60 sim"),
            ("UserCount", str(len(self.memory.users))),
            ("TransactionCount", str(len(self.memory.log))),
        )

    # -- HTTP ---------------------------------------------------------------------------------------

    def _upload(self, table: str, stamp: str, body: bytes) -> None:
        target = device_role.upload_target(self.sn, table, stamp, language=self.language, suffix=self.suffix)
        self._post(target, body)

    def _post(self, target: str, body: bytes) -> None:
        reply = self._exchange("POST", target, body)
        if not reply.strip().startswith(zk_push.ok_reply()):
            self.memory.counters["refused"] += 1
            raise ServerRefused(f"{target.split('?')[0]} answered {reply[:60]!r}")

    def _exchange(self, method: str, target: str, body: bytes | None = None) -> str:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)
        try:
            connection.request(method, target, body=body, headers={"Content-Type": "text/plain"})
            response = connection.getresponse()
            payload = response.read()
        finally:
            connection.close()
        if response.status != 200:
            self.memory.counters["refused"] += 1
            raise ServerRefused(f"{method} {target.split('?')[0]}: HTTP {response.status}")
        return zk_push.decode_text(payload, self.language)

    def _save(self) -> None:
        if self.state_path is not None:
            save(self.state_path, self.memory)

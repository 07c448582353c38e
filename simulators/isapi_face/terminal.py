"""The terminal's memory: users, the event log, settings and counters (thread-safe, persistable).

Rules a real terminal follows and this one copies: ``serialNo`` increases by one per event and is
never reused; searches page at most ``MAX_RESULTS_CAP`` items; a picture is attached to an event
only while picture upload is on (unless the ``ignore_picture_setting`` fault is set).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import queue
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final, TypeVar

from firmware_protocols.isapi import acs_event
from firmware_protocols.isapi.messages import (
    AcsEventCond,
    AcsEventPage,
    AcsEventRecord,
    HttpHost,
    PictureUploadSettings,
    SearchStatus,
    UserInfo,
    UserSearchCond,
    UserSearchPage,
)
from simulators.state_file import read_state, write_state

DEVICE_TZ: Final = dt.timezone(dt.timedelta(hours=8))
# A tiny JPEG-shaped blob (SOI … EOI): enough for an egress check to recognise picture bytes.
FAKE_JPEG: Final = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + bytes(range(256)) * 8 + b"\xff\xd9"
T = TypeVar("T")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Published:
    """What stream subscribers receive: an event (with the picture to attach, if any) or raw bytes."""

    record: AcsEventRecord | None = None
    name: str | None = None
    picture: bytes | None = None
    raw: bytes | None = None
    drop: bool = False


@dataclasses.dataclass
class Counters:
    requests: int = 0
    challenges: int = 0
    auth_failures: int = 0
    pictures_sent: int = 0
    pushes_sent: int = 0
    push_failures: int = 0
    stream_connects: int = 0


class Terminal:
    """Everything the device knows; every public method is safe to call from any thread."""

    def __init__(self, *, pictures: bool = False, state_path: Path | None = None) -> None:
        self._lock = threading.RLock()
        self._state_path = state_path
        self.pictures_enabled = pictures
        self.ignore_picture_setting = False  # fault: attach pictures even when upload is off
        self.ignore_deletes = False  # fault: answer OK to UserInfo/Delete but keep the user
        self.users: dict[str, UserInfo] = {}
        self.events: list[tuple[AcsEventRecord, str | None]] = []
        self.next_serial = 1
        self.picture_upload = PictureUploadSettings(
            upload_capture_picture=True, upload_verification_picture=True
        )
        self.http_hosts: tuple[HttpHost, ...] = ()
        self.counters = Counters()
        self.auth_failure_times: list[float] = []
        self._subscribers: list[queue.Queue[Published]] = []
        self._load()

    def locked(self, action: Callable[[], T]) -> T:
        with self._lock:
            return action()

    # -- events ---------------------------------------------------------------------------------
    def punch(
        self,
        employee_no: str = "1001",
        *,
        minor: int = 75,
        verify_mode: str = "face",
        attendance_status: str = "checkIn",
    ) -> AcsEventRecord:
        """Record one access event now and publish it to streams and push hosts."""
        with self._lock:
            picture = self._picture_for_event()
            record = AcsEventRecord(
                major=5,
                minor=minor,
                time=dt.datetime.now(DEVICE_TZ).replace(microsecond=0).isoformat(),
                serial_no=self.next_serial,
                employee_id=employee_no,
                verify_mode=verify_mode,
                attendance_status=attendance_status,
                pictures=1 if picture else 0,
            )
            self.next_serial += 1
            name = self.users[employee_no].name if employee_no in self.users else None
            self.events.append((record, name))
            self._publish(Published(record=record, name=name, picture=picture))
            self.save()
            return record

    def _picture_for_event(self) -> bytes | None:
        upload_on = self.picture_upload.upload_capture_picture or self.ignore_picture_setting
        return FAKE_JPEG if self.pictures_enabled and upload_on else None

    def search_events(self, cond: AcsEventCond) -> AcsEventPage:
        """One AcsEvent page, filtered like a device does."""
        with self._lock:
            matches = [r for r, _ in self.events if _event_matches(r, cond)]
        status, page = _page(matches, cond.position, cond.max_results)
        return AcsEventPage(
            search_id=cond.search_id, status=status, total_matches=len(matches), records=tuple(page)
        )

    def event_names(self) -> dict[int, str]:
        with self._lock:
            return {r.serial_no: n for r, n in self.events if n}

    # -- users ----------------------------------------------------------------------------------
    def add_user(self, user: UserInfo) -> None:
        with self._lock:
            self.users[user.employee_no] = user
            self.save()

    def delete_users(self, employee_nos: Sequence[str]) -> None:
        with self._lock:
            if self.ignore_deletes:
                return
            for number in employee_nos:
                self.users.pop(number, None)
            self.save()

    def search_users(self, cond: UserSearchCond) -> UserSearchPage:
        with self._lock:
            users = [
                u for n, u in sorted(self.users.items()) if not cond.employee_nos or n in cond.employee_nos
            ]
        status, page = _page(users, cond.position, cond.max_results)
        return UserSearchPage(
            search_id=cond.search_id, status=status, total_matches=len(users), users=tuple(page)
        )

    # -- settings -------------------------------------------------------------------------------
    def set_picture_upload(self, settings: PictureUploadSettings) -> None:
        with self._lock:
            self.picture_upload = settings
            self.save()

    def set_http_hosts(self, hosts: tuple[HttpHost, ...]) -> None:
        with self._lock:
            self.http_hosts = hosts
            self.save()

    # -- stream subscribers ---------------------------------------------------------------------
    def subscribe(self) -> queue.Queue[Published]:
        inbox: queue.Queue[Published] = queue.Queue()
        with self._lock:
            self._subscribers.append(inbox)
            self.counters.stream_connects += 1
        return inbox

    def unsubscribe(self, inbox: queue.Queue[Published]) -> None:
        with self._lock:
            if inbox in self._subscribers:
                self._subscribers.remove(inbox)

    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def _publish(self, item: Published) -> None:
        for inbox in self._subscribers:
            inbox.put(item)
        self.push_listeners(item)

    def push_listeners(self, item: Published) -> None:
        """Replaced by the server: deliver an event to the ``httpHosts`` targets."""

    def drop_streams(self) -> None:
        """Fault: cut every open alertStream."""
        with self._lock:
            for inbox in self._subscribers:
                inbox.put(Published(drop=True))

    def inject_garbage(self, data: bytes) -> None:
        """Fault: write raw bytes into every open alertStream before the next part."""
        with self._lock:
            for inbox in self._subscribers:
                inbox.put(Published(raw=data))

    # -- persistence ----------------------------------------------------------------------------
    def save(self) -> None:
        if self._state_path is not None:
            with self._lock:
                write_state(self._state_path, self._snapshot())

    def _snapshot(self) -> dict[str, Any]:
        return {
            "users": [dataclasses.asdict(u) for u in self.users.values()],
            "events": [{**acs_event.encode_record(r), "name": n} for r, n in self.events],
            "next_serial": self.next_serial,
            "settings": {
                "picture_upload": dataclasses.asdict(self.picture_upload),
                "http_hosts": [dataclasses.asdict(h) for h in self.http_hosts],
            },
            "counters": dataclasses.asdict(self.counters),
        }

    def _load(self) -> None:
        state = read_state(self._state_path) if self._state_path else None
        if state is None:
            return
        self.users = {u["employee_no"]: UserInfo(**u) for u in state["users"]}
        self.events = [(acs_event.decode_record(e), e.get("name")) for e in state["events"]]
        self.next_serial = int(state["next_serial"])
        self.picture_upload = PictureUploadSettings(**state["settings"]["picture_upload"])
        self.http_hosts = tuple(HttpHost(**h) for h in state["settings"]["http_hosts"])
        self.counters = Counters(**state["counters"])


def _event_matches(record: AcsEventRecord, cond: AcsEventCond) -> bool:
    checks = (
        cond.major in (0, record.major),
        cond.minor in (0, record.minor),
        cond.begin_serial_no is None or record.serial_no >= cond.begin_serial_no,
        cond.start_time is None or _at(record.time) >= _at(cond.start_time),
        cond.end_time is None or _at(record.time) <= _at(cond.end_time),
    )
    return all(checks)


def _at(raw: str) -> dt.datetime:
    return acs_event.parse_time(raw)


def _page(items: list[T], position: int, max_results: int) -> tuple[SearchStatus, list[T]]:
    if not items:
        return SearchStatus.NO_MATCH, []
    page = items[position : position + max(1, min(max_results, acs_event.MAX_RESULTS_CAP))]
    more = position + len(page) < len(items)
    return (SearchStatus.MORE if more else SearchStatus.OK), page

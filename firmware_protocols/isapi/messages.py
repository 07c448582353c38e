"""Typed ISAPI messages, for both roles (agent and simulated device).

Privacy rule (PRIVACY.md BIO-1, ENC-4): an ``AcsEventRecord`` keeps the person id only; names and
pictures that a device sends are never kept, so nothing downstream can leak them. ``UserInfo`` carries
a name because the simulator (device role) stores one; the agent never fills it in.
"""

from __future__ import annotations

import dataclasses
import enum


class SearchStatus(enum.StrEnum):
    """``responseStatusStrg`` of a paged search (AcsEvent, UserInfo/Search)."""

    OK = "OK"
    MORE = "MORE"
    NO_MATCH = "NO MATCH"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class AcsEventCond:
    """One page request of ``POST /ISAPI/AccessControl/AcsEvent?format=json``.

    ``minor`` 0 asks for every minor type [unverified: devices differ]; ``begin_serial_no`` is the
    resume point (``beginSerialNo``, newer firmware [unverified]); the agent also filters locally.
    """

    search_id: str
    position: int = 0
    max_results: int = 30
    major: int = 5
    minor: int = 0
    start_time: str | None = None
    end_time: str | None = None
    begin_serial_no: int | None = None


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class AcsEventRecord:
    """One access-control event (an AcsEvent InfoList item or a stream ``AccessControllerEvent``).

    ``time`` is the device's raw ISO-8601 text with its offset; ``employee_id`` is None for events
    that concern no person (door state, tamper).
    """

    major: int
    minor: int
    time: str
    serial_no: int
    employee_id: str | None = None
    card_no: str | None = None
    verify_mode: str | None = None
    attendance_status: str | None = None
    pictures: int = 0


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class AcsEventPage:
    """One page of an AcsEvent search; ``rejected`` counts InfoList items that were malformed."""

    search_id: str
    status: SearchStatus
    total_matches: int
    records: tuple[AcsEventRecord, ...] = ()
    rejected: int = 0


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Heartbeat:
    """The alertStream keep-alive (``videoloss`` / ``inactive`` EventNotificationAlert)."""

    date_time: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class OtherAlert:
    """A stream event that is neither an access-control event nor a heartbeat (kept as its type only)."""

    event_type: str


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class PictureDropped:
    """A picture part that was discarded unread; only its size is known (BIO-2)."""

    content_type: str
    size: int


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class PartSkipped:
    """A part or stretch of bytes the decoder could not use (garbage, oversize, bad JSON/XML)."""

    reason: str
    size: int


StreamMessage = AcsEventRecord | Heartbeat | OtherAlert | PictureDropped | PartSkipped


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class DeviceInfo:
    """The few ``/ISAPI/System/deviceInfo`` fields the agent uses."""

    device_name: str
    serial_number: str
    model: str = ""
    mac_address: str = ""
    firmware_version: str = ""
    device_type: str = "ACS"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class UserInfo:
    """A person enrolled on the device (``UserInfo``); the agent only ever uses ``employee_no``."""

    employee_no: str
    name: str = ""
    user_type: str = "normal"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class UserSearchCond:
    """``UserInfoSearchCond``: one page, optionally for given employee numbers."""

    search_id: str
    position: int = 0
    max_results: int = 30
    employee_nos: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class UserSearchPage:
    """One page of ``UserInfoSearch``."""

    search_id: str
    status: SearchStatus
    total_matches: int
    users: tuple[UserInfo, ...] = ()


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class ResponseStatus:
    """The generic JSON reply of a write (``statusCode`` 1 = OK)."""

    status_code: int
    status_string: str = "OK"
    sub_status_code: str = "ok"

    @property
    def ok(self) -> bool:
        return self.status_code == 1


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class HttpHost:
    """One ``HttpHostNotification``: where the device POSTs events in "HTTP listening" mode."""

    host_id: str
    url: str
    ip_address: str
    port: int
    protocol: str = "HTTP"
    parameter_format: str = "JSON"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class PictureUploadSettings:
    """The ``AcsCfg`` flags that make a terminal attach pictures to events [source, see settings.py]."""

    upload_capture_picture: bool
    upload_verification_picture: bool

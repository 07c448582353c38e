"""Hikvision ISAPI access-control codec (PROTOCOLS.md §4): AcsEvent JSON, alertStream multipart,
HTTP-listening push, deviceInfo, UserInfo, settings. Pure: bytes in, typed messages out, and back.
"""

from firmware_protocols.isapi.alert_stream import AlertStreamDecoder
from firmware_protocols.isapi.errors import IsapiLocalError, IsapiProtocolError
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
from firmware_protocols.isapi.multipart import MultipartDecoder, Part

__all__ = [
    "AcsEventCond",
    "AcsEventPage",
    "AcsEventRecord",
    "AlertStreamDecoder",
    "DeviceInfo",
    "Heartbeat",
    "HttpHost",
    "IsapiLocalError",
    "IsapiProtocolError",
    "MultipartDecoder",
    "OtherAlert",
    "Part",
    "PartSkipped",
    "PictureDropped",
    "PictureUploadSettings",
    "ResponseStatus",
    "SearchStatus",
    "StreamMessage",
    "UserInfo",
    "UserSearchCond",
    "UserSearchPage",
]

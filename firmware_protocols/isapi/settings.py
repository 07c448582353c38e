"""Device settings the agent writes: the picture-upload switches and ``httpHosts``; write replies.

Pictures (PRIVACY.md BIO-2): the agent turns picture upload off with
``PUT /ISAPI/AccessControl/AcsCfg?format=json`` ``{"AcsCfg": {"uploadCapPic": false,
"uploadVerificationPic": false}}``. ``uploadCapPic`` (attach the captured picture to events) is
[source: Hikvision SDK demos and open clients]; ``uploadVerificationPic`` is [source: one open client,
unverified against the vendor PDF]. A device may ignore the switch, so the agent drops pictures anyway.
"""

from __future__ import annotations

from typing import Any, Final
from xml.sax.saxutils import escape

from firmware_protocols.isapi import _json as j
from firmware_protocols.isapi.errors import IsapiProtocolError
from firmware_protocols.isapi.messages import HttpHost, PictureUploadSettings, ResponseStatus

ACS_CFG_PATH: Final = "/ISAPI/AccessControl/AcsCfg?format=json"
HTTP_HOSTS_PATH: Final = "/ISAPI/Event/notification/httpHosts"
NAMESPACE: Final = "http://www.isapi.org/ver20/XMLSchema"

# PictureUploadSettings field → AcsCfg key.
_PICTURE_KEYS: Final = (
    ("upload_capture_picture", "uploadCapPic"),
    ("upload_verification_picture", "uploadVerificationPic"),
)
# HttpHost field → XML element.
_HOST_ELEMENTS: Final = (
    ("host_id", "id"),
    ("url", "url"),
    ("protocol", "protocolType"),
    ("parameter_format", "parameterFormatType"),
    ("ip_address", "ipAddress"),
    ("port", "portNo"),
)


def encode_picture_upload(settings: PictureUploadSettings) -> bytes:
    """The AcsCfg body that sets the picture-upload switches."""
    return j.dump({"AcsCfg": {key: getattr(settings, field) for field, key in _PICTURE_KEYS}})


def decode_picture_upload(body: bytes, current: PictureUploadSettings) -> PictureUploadSettings:
    """Device role: apply an AcsCfg body to ``current`` (keys it does not name stay as they were)."""
    cfg = j.member(j.load_object(body, "AcsCfg"), "AcsCfg", "body")
    values: dict[str, bool] = {}
    for field, key in _PICTURE_KEYS:
        value = cfg.get(key, getattr(current, field))
        if not isinstance(value, bool):
            raise IsapiProtocolError(f"AcsCfg.{key}: expected a boolean")
        values[field] = value
    return PictureUploadSettings(**values)


def encode_http_hosts(hosts: tuple[HttpHost, ...]) -> bytes:
    """The ``HttpHostNotificationList`` body of ``PUT httpHosts``."""
    items = "".join(
        "<HttpHostNotification>"
        + "".join(f"<{tag}>{escape(str(getattr(host, field)))}</{tag}>" for field, tag in _HOST_ELEMENTS)
        + "<addressingFormatType>ipaddress</addressingFormatType>"
        + "<httpAuthenticationMethod>none</httpAuthenticationMethod></HttpHostNotification>"
        for host in hosts
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><HttpHostNotificationList version="2.0" xmlns="{NAMESPACE}">'
        f"{items}</HttpHostNotificationList>"
    ).encode()


def decode_http_hosts(body: bytes) -> tuple[HttpHost, ...]:
    """Device role: read a ``PUT httpHosts`` body (a single ``HttpHostNotification`` is accepted too)."""
    root = j.load_xml(body, "HttpHostNotificationList")
    nodes = [root] if j.local_name(root.tag) == "HttpHostNotification" else list(root)
    return tuple(_http_host(j.xml_fields(node)) for node in nodes)


def _http_host(fields: dict[str, str]) -> HttpHost:
    port = fields.get("portNo", "")
    if not port.isascii() or not port.isdigit() or len(port) > 5 or not 0 < int(port) < 65536:
        raise IsapiProtocolError(f"HttpHostNotification.portNo {port!r} is not a port")
    values: dict[str, Any] = {field: fields.get(tag, "") for field, tag in _HOST_ELEMENTS}
    values["port"] = int(port)
    return HttpHost(**values)


def encode_status(status: ResponseStatus) -> bytes:
    """Device role: the JSON reply of a write."""
    return j.dump(
        {
            "statusCode": status.status_code,
            "statusString": status.status_string,
            "subStatusCode": status.sub_status_code,
        }
    )


def decode_status(body: bytes) -> ResponseStatus:
    """Agent role: the JSON reply of a write."""
    obj = j.load_object(body, "ResponseStatus")
    return ResponseStatus(
        status_code=j.integer(obj, "statusCode", "ResponseStatus"),
        status_string=j.optional_text(obj, "statusString", "ResponseStatus") or "",
        sub_status_code=j.optional_text(obj, "subStatusCode", "ResponseStatus") or "",
    )

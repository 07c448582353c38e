"""``GET /ISAPI/System/deviceInfo``: a minimal XML build and parse (the agent needs the serial)."""

from __future__ import annotations

from typing import Final
from xml.sax.saxutils import escape

from firmware_protocols.isapi import _json as j
from firmware_protocols.isapi.errors import IsapiProtocolError
from firmware_protocols.isapi.messages import DeviceInfo

PATH: Final = "/ISAPI/System/deviceInfo"
NAMESPACE: Final = "http://www.hikvision.com/ver20/XMLSchema"

# DeviceInfo field → XML element, in the order devices send them.
_ELEMENTS: Final = (
    ("device_name", "deviceName"),
    ("serial_number", "serialNumber"),
    ("model", "model"),
    ("mac_address", "macAddress"),
    ("firmware_version", "firmwareVersion"),
    ("device_type", "deviceType"),
)


def encode_device_info(info: DeviceInfo) -> bytes:
    """Device role: the deviceInfo XML."""
    children = "".join(f"<{tag}>{escape(getattr(info, field))}</{tag}>\r\n" for field, tag in _ELEMENTS)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\r\n<DeviceInfo version="2.0" xmlns="{NAMESPACE}">\r\n'
        f"{children}</DeviceInfo>\r\n"
    ).encode()


def decode_device_info(body: bytes) -> DeviceInfo:
    """Agent role: the deviceInfo XML (a missing serialNumber is an error: it keys deduplication)."""
    root = j.load_xml(body, "DeviceInfo")
    if j.local_name(root.tag) != "DeviceInfo":
        raise IsapiProtocolError(f"expected <DeviceInfo>, got <{j.local_name(root.tag)}>")
    fields = j.xml_fields(root)
    values = {field: fields.get(tag, "") for field, tag in _ELEMENTS}
    if not values["serial_number"]:
        raise IsapiProtocolError("DeviceInfo has no serialNumber")
    return DeviceInfo(**values)

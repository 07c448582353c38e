"""Total JSON and XML readers: every malformed input becomes an ``IsapiProtocolError``."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any, Final

from firmware_protocols.isapi.errors import IsapiProtocolError

MAX_BODY: Final = 1 << 20  # no single ISAPI JSON/XML body we read is larger than 1 MiB


def load_object(body: bytes, where: str) -> dict[str, Any]:
    """Parse ``body`` as one JSON object."""
    if len(body) > MAX_BODY:
        raise IsapiProtocolError(f"{where}: body of {len(body)} bytes is over {MAX_BODY}")
    try:
        value = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise IsapiProtocolError(f"{where}: not JSON ({exc.__class__.__name__})") from None
    return require_object(value, where)


def dump(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def require_object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise IsapiProtocolError(f"{where}: expected a JSON object")
    return value


def member(obj: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    return require_object(obj.get(key), f"{where}.{key}")


def integer(obj: Mapping[str, Any], key: str, where: str, default: int | None = None) -> int:
    value = obj.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise IsapiProtocolError(f"{where}.{key}: expected an integer, got {type(value).__name__}")
    return value


def text(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise IsapiProtocolError(f"{where}.{key}: expected a string")
    return value


def optional_text(obj: Mapping[str, Any], key: str, where: str) -> str | None:
    """A string field, or None when absent or empty; numbers are accepted as their decimal text."""
    value = obj.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise IsapiProtocolError(f"{where}.{key}: expected a string")
    return value


def items(obj: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = obj.get(key, [])
    if not isinstance(value, list):
        raise IsapiProtocolError(f"{where}.{key}: expected a list")
    return value


def load_xml(body: bytes, where: str) -> ET.Element:
    """Parse ``body`` as XML (expat: no external entities; entity expansion is bounded by expat)."""
    if len(body) > MAX_BODY:
        raise IsapiProtocolError(f"{where}: body of {len(body)} bytes is over {MAX_BODY}")
    try:
        return ET.fromstring(body)
    except (ET.ParseError, ValueError, RecursionError) as exc:
        raise IsapiProtocolError(f"{where}: not XML ({exc.__class__.__name__})") from None


def local_name(tag: str) -> str:
    """``{namespace}name`` → ``name``: Hikvision uses two namespaces for the same elements."""
    return tag.rpartition("}")[2]


def xml_fields(root: ET.Element) -> dict[str, str]:
    """The direct children of ``root`` as local name → text (first occurrence wins)."""
    fields: dict[str, str] = {}
    for child in root:
        fields.setdefault(local_name(child.tag), (child.text or "").strip())
    return fields

"""Search for biometric bytes (PRIVACY.md BIO-1): pictures by their magic numbers, templates by the
simulators' recognisable template, raw and base64-encoded, in payloads, rows and database files.

Raw database files are searched only for long patterns (8 bytes and more): a 3-byte JPEG start would
turn up by chance in megabytes of pages. A single value or payload is also checked for starting
with an image's short magic number.
"""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Final

from simulators.isapi_face.terminal import FAKE_JPEG as ISAPI_JPEG
from simulators.zk_push.terminal import FAKE_JPEG as ZK_JPEG
from simulators.zk_push.terminal import FAKE_TEMPLATE

IMAGE_STARTS: Final = {"jpeg": b"\xff\xd8\xff", "png": b"\x89PNG\r\n\x1a\n"}
PATTERNS: Final = {
    "jfif header": b"\xff\xd8\xff\xe0\x00\x10JFIF",
    "png signature": b"\x89PNG\r\n\x1a\n",
    "base64 jpeg": b"/9j/4AAQSkZJRg",
    "base64 png": b"iVBORw0KGgo",
    "template": FAKE_TEMPLATE[:16],
    "base64 template": base64.b64encode(FAKE_TEMPLATE)[:20],
    "hex template": FAKE_TEMPLATE[:16].hex().encode(),
    "isapi picture body": ISAPI_JPEG[16:48],
    "zk picture body": base64.b64encode(ZK_JPEG)[:24],
}


def findings(blob: bytes) -> set[str]:
    """Which patterns occur in ``blob`` (and whether it starts as an image does)."""
    found = {name for name, pattern in PATTERNS.items() if pattern in blob}
    found |= {f"{name} start" for name, magic in IMAGE_STARTS.items() if blob.startswith(magic)}
    return found


def file_findings(path: Path) -> set[str]:
    """Patterns in a file's raw bytes (deleted rows linger in free pages and the WAL)."""
    data = path.read_bytes() if path.exists() else b""
    return {name for name, pattern in PATTERNS.items() if pattern in data}


def sqlite_values(path: Path) -> Iterator[tuple[str, str, bytes]]:
    """(table, column, value as bytes) for every non-null value of every table of a SQLite file."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            cursor = db.execute(f'SELECT * FROM "{table}"')  # names from sqlite_master
            columns = [d[0] for d in cursor.description]
            for row in cursor:
                for column, value in zip(columns, row, strict=True):
                    if value is not None:
                        data = value if isinstance(value, bytes) else str(value).encode()
                        yield table, column, data


def database_findings(path: Path) -> dict[tuple[str, str], set[str]]:
    """Per (table, column): the patterns found in its values."""
    found: dict[tuple[str, str], set[str]] = {}
    for table, column, data in sqlite_values(path):
        if hit := findings(data):
            found.setdefault((table, column), set()).update(hit)
    return found

"""Local checks: serial ports open read/write, outbox integrity, backlog age, free disk."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from edge_agent.ops.doctor_checks.result import CheckResult, MiB, fail, ok, unknown, warn
from edge_agent.ops.startup_checks import check_database, check_serial_port


def check_ports(ports: list[str]) -> list[CheckResult]:
    """One line per configured serial port: does it open read/write for this process?"""
    if not ports:
        return [ok("serial ports", "none configured")]
    results = []
    for port in ports:
        found = check_serial_port(port)
        results.append(ok(found.name, found.detail) if found.ok else fail(found.name, found.detail))
    return results


def check_integrity(path: Path) -> CheckResult:
    """``PRAGMA quick_check`` on the outbox (absent is fine when its directory is writable)."""
    found = check_database(path)
    return ok("outbox integrity", found.detail) if found.ok else fail("outbox integrity", found.detail)


def check_backlog(path: Path, *, max_age_s: float, max_bytes: int) -> CheckResult:
    """Rows waiting for the cloud and the age of the oldest; FAIL past ``max_age_s``."""
    from edge_agent.outbox import read_stats

    name = "backlog"
    if not path.exists():
        return ok(name, "no outbox yet")
    try:
        stats = read_stats(path, max_bytes=max_bytes)
    except FileNotFoundError:  # the file is there, its schema not yet (the agent is starting)
        return ok(name, "no outbox yet")
    except sqlite3.Error as error:
        return unknown(name, f"cannot read the outbox: {error}")
    age = stats.oldest_unacked_age_s
    text = f"{stats.backlog_rows} rows, {stats.bytes / MiB:.1f} MiB, oldest " + (
        "-" if age is None else f"{age:.0f} s"
    )
    if age is not None and age > max_age_s:
        return fail(name, f"{text} (limit {max_age_s:.0f} s: is the link down?)")
    if stats.full:
        return warn(name, f"{text}; outbox full, shedding ({stats.dropped_total} dropped)")
    return ok(name, text)


def _existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path("/")


def check_disk(path: Path, *, min_free_bytes: int) -> CheckResult:
    """Free space on the outbox's filesystem; FAIL under ``min_free_bytes``."""
    where = _existing(path.parent)
    free = shutil.disk_usage(where).free
    text = f"{free / MiB:.0f} MiB free on {where} (limit {min_free_bytes / MiB:.0f} MiB)"
    return ok("disk", text) if free >= min_free_bytes else fail("disk", text)

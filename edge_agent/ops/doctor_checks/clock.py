"""Clock check: is the system clock synchronised?

Sources, first that answers wins: an explicit reference URL (its HTTP ``Date`` header, compared with
our clock at the middle of the request; 1 s resolution), then ``timedatectl``'s NTPSynchronized, then
systemd-timesyncd's ``/run/systemd/timesync/synchronized`` flag. With none of them the result is
``unknown``, which is not a failure: a box without systemd may well be synchronised by chrony.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from edge_agent.ops.doctor_checks.result import CheckResult, DoctorLimits, fail, ok, unknown

NAME = "clock"
TIMESYNC_FLAG = Path("/run/systemd/timesync/synchronized")


def reference_skew_s(url: str, *, timeout_s: float = 5.0) -> float:
    """Our clock minus the reference's ``Date`` (positive: we are ahead); raises OSError/ValueError."""
    request = urllib.request.Request(url, method="HEAD")
    before = time.time()
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as reply:
            header = reply.headers.get("Date")
    except urllib.error.HTTPError as error:  # any answer carries a Date, even a 404 or 405
        header = error.headers.get("Date")
    after = time.time()
    if not header:
        raise ValueError(f"{url} sent no Date header")
    remote = email.utils.parsedate_to_datetime(header)
    if remote.tzinfo is None:
        raise ValueError(f"{url} sent a Date without a zone: {header!r}")
    middle = dt.datetime.fromtimestamp((before + after) / 2, dt.UTC)
    return (middle - remote).total_seconds()


def timedatectl_synchronized() -> bool | None:
    """``timedatectl show -p NTPSynchronized --value`` as a bool; None when it cannot tell."""
    binary = shutil.which("timedatectl")
    if binary is None:
        return None
    try:
        answer = subprocess.run(
            [binary, "show", "-p", "NTPSynchronized", "--value"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    value = answer.stdout.strip()
    return {"yes": True, "no": False}.get(value) if answer.returncode == 0 else None


def check_clock(limits: DoctorLimits) -> CheckResult:
    """Clock synchronised (or within ``max_clock_skew_s`` of the reference)."""
    if limits.time_reference:
        return _against_reference(limits.time_reference, limits.max_clock_skew_s)
    synced = timedatectl_synchronized()
    if synced is None and TIMESYNC_FLAG.exists():
        synced = True
    if synced is None:
        return unknown(NAME, "cannot tell (no timedatectl answer, no timesyncd flag); not a failure")
    return ok(NAME, "NTP synchronised") if synced else fail(NAME, "NTP not synchronised (timedatectl)")


def _against_reference(url: str, max_skew_s: float) -> CheckResult:
    try:
        skew = reference_skew_s(url)
    except (OSError, ValueError) as error:
        return unknown(NAME, f"reference {url} unusable: {error}; not a failure")
    text = f"{skew:+.0f} s against {url} (limit ±{max_skew_s:.0f} s)"
    return ok(NAME, text) if abs(skew) <= max_skew_s else fail(NAME, f"skewed {text}")

"""What every doctor check returns, and the limits the checks judge against."""

from __future__ import annotations

import dataclasses
import enum
from typing import Final

MiB: Final = 1024 * 1024


class Status(enum.StrEnum):
    """``ok`` and ``warn`` pass; ``FAIL`` makes the exit code 1; ``unknown`` could not be checked."""

    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"
    UNKNOWN = "unknown"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class CheckResult:
    name: str
    status: Status
    detail: str

    @property
    def ok(self) -> bool:
        """False only for ``FAIL``: a warning or an unknown does not fail the doctor."""
        return self.status is not Status.FAIL

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "status": str(self.status), "ok": self.ok, "detail": self.detail}


def ok(name: str, detail: str) -> CheckResult:
    return CheckResult(name=name, status=Status.OK, detail=detail)


def warn(name: str, detail: str) -> CheckResult:
    return CheckResult(name=name, status=Status.WARN, detail=detail)


def fail(name: str, detail: str) -> CheckResult:
    return CheckResult(name=name, status=Status.FAIL, detail=detail)


def unknown(name: str, detail: str) -> CheckResult:
    return CheckResult(name=name, status=Status.UNKNOWN, detail=detail)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class DoctorLimits:
    """Thresholds; every one can be set from the command line."""

    max_clock_skew_s: float = 30.0
    time_reference: str | None = None  # an http(s) URL whose Date header is trusted
    broker_timeout_s: float = 5.0
    cert_warn_days: int = 30
    max_backlog_age_s: float = 3600.0
    min_free_bytes: int = 100 * MiB

"""The roster follows the people to every terminal (issue 11): site membership, intended and verified
enrolment per member and device, consent gating, and data-subject requests that reach every device.

Other code calls ``sync_members`` after changing members, ``refresh`` to take in receipts, and
``request_erasure`` to erase people everywhere (org deregistration does).
"""

from cloud.roster.intent import (
    BIOMETRIC_KINDS,
    CREDENTIAL_KINDS,
    Refused,
    biometric_consenting,
    check_kinds,
)
from cloud.roster.notify import wake
from cloud.roster.receipts import refresh
from cloud.roster.reconcile import Finding, apply_checks, findings, start_checks
from cloud.roster.requests import (
    DeviceProgress,
    close,
    close_verified,
    open_request,
    progress,
    request_erasure,
)
from cloud.roster.sync import COMMAND_TTL, plan, sync_members

__all__ = [
    "BIOMETRIC_KINDS",
    "COMMAND_TTL",
    "CREDENTIAL_KINDS",
    "DeviceProgress",
    "Finding",
    "Refused",
    "apply_checks",
    "biometric_consenting",
    "check_kinds",
    "close",
    "close_verified",
    "findings",
    "open_request",
    "plan",
    "progress",
    "refresh",
    "request_erasure",
    "start_checks",
    "sync_members",
    "wake",
]

"""Every table, one module per area; importing this package registers them all on ``Base.metadata``.

Privacy (shared/PRIVACY.md): no column anywhere holds a biometric template or a picture; sensitive
member fields exist only as encrypted blobs plus a keyed hash for lookups.
"""

from cloud.db.models.agents import Agent, AgentCommand, AgentEvent, Display
from cloud.db.models.attendance import AttendanceCorrection, AttendancePunch, AttendanceRule
from cloud.db.models.audit import AuditEntry, AuditHead
from cloud.db.models.calendar import CalendarDay, DayKind, LeaveRecord, Shift, ShiftAssignment, WorkCalendar
from cloud.db.models.dashboard import DisplayLink
from cloud.db.models.enrolment import EnrolmentToken as EnrolmentToken
from cloud.db.models.fleet import AgentInventory, Alert, AlertRules, AlertWebhook, WebhookDelivery
from cloud.db.models.members import Department, Member, MemberStatus
from cloud.db.models.orgs import ApiToken, Organisation, OrgKind, Role, Site
from cloud.db.models.points import (
    Balance,
    EntrySource,
    EntryStatus,
    LedgerEntry,
    PointRule,
    PointType,
    RankingSnapshot,
)
from cloud.db.models.privacy import Consent, ConsentKind, OrgDataKey
from cloud.db.models.quarantine import Quarantine
from cloud.db.models.ranking_version import RankingVersion
from cloud.db.models.roster import (
    DeviceState,
    PrivacyRequest,
    RequestKind,
    RequestState,
    RosterCheckRun,
    RosterCredentials,
    RosterDevice,
    RosterSiteLink,
    RosterTarget,
)
from cloud.db.models.scheduler import SchedulerRun
from cloud.db.models.workflow import Appeal, AppealStatus, AuthorityLimit, LedgerEvent

__all__ = [
    "Agent",
    "AgentCommand",
    "AgentEvent",
    "AgentInventory",
    "Alert",
    "AlertRules",
    "AlertWebhook",
    "ApiToken",
    "Appeal",
    "AppealStatus",
    "AttendanceCorrection",
    "AttendancePunch",
    "AttendanceRule",
    "AuditEntry",
    "AuditHead",
    "AuthorityLimit",
    "Balance",
    "CalendarDay",
    "Consent",
    "ConsentKind",
    "DayKind",
    "Department",
    "DeviceState",
    "Display",
    "DisplayLink",
    "EntrySource",
    "EntryStatus",
    "LeaveRecord",
    "LedgerEntry",
    "LedgerEvent",
    "Member",
    "MemberStatus",
    "OrgDataKey",
    "OrgKind",
    "Organisation",
    "PointRule",
    "PointType",
    "PrivacyRequest",
    "Quarantine",
    "RankingSnapshot",
    "RankingVersion",
    "RequestKind",
    "RequestState",
    "Role",
    "RosterCheckRun",
    "RosterCredentials",
    "RosterDevice",
    "RosterSiteLink",
    "RosterTarget",
    "SchedulerRun",
    "Shift",
    "ShiftAssignment",
    "Site",
    "WebhookDelivery",
    "WorkCalendar",
]

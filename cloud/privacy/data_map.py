"""The data map (PRIVACY.md DSR-1): every column of every table, personal or not.

A personal column holds data about one member (or links a row to one); each names where the subject
export (``GET /members/{id}/export``) shows it, as ``section.field``. Every other column is listed in
``NOT_PERSONAL`` under a reason. tests/cloud/privacy/test_data_map.py fails when a model gains a
column listed in neither, and when a personal column's place in the export is missing: a new
category of personal data cannot be added without being exported.
"""

from __future__ import annotations

from typing import Final

PERSONAL: Final[dict[str, dict[str, str]]] = {
    "member": {
        "id": "profile.id",
        "display_name": "profile.display_name",
        "legal_name": "profile.legal_name",
        "pin": "profile.pin",
        "card": "profile.card",
        "department_id": "profile.department_id",
        "status": "profile.status",
        "birth_year": "profile.birth_year",
        "minor": "profile.minor",
        "left_at": "profile.left_at",
        "created_at": "profile.created_at",
        "phone_enc": "sensitive.phone",
        "phone_hmac": "sensitive.phone",  # a keyed hash of the phone: the phone itself is exported
        "id_number_enc": "sensitive.id_number",
        "birth_date_enc": "sensitive.birth_date",
        "guardian_contact_enc": "sensitive.guardian_contact",
    },
    "consent": {
        "id": "consents.id",
        "member_id": "consents.member_id",
        "kind": "consents.kind",
        "granted": "consents.granted",
        "notice_version": "consents.notice_version",
        "actor": "consents.actor",
        "recorded_at": "consents.recorded_at",
    },
    "ledger_entry": {
        "id": "ledger.id",
        "member_id": "ledger.member_id",
        "point_type_id": "ledger.point_type_id",
        "points": "ledger.points",
        "rule_id": "ledger.rule_id",
        "reason": "ledger.reason",
        "source": "ledger.source",
        "effective_date": "ledger.effective_date",
        "status": "ledger.status",
        "revokes_id": "ledger.revokes_id",
        "event_id": "ledger.event_id",
        "created_at": "ledger.created_at",
    },
    "ledger_event": {
        "id": "ledger_events.id",
        "reason": "ledger_events.reason",
        "status": "ledger_events.status",
        "submitted_by_member_id": "ledger_events.submitted_by_member_id",
        "decided_at": "ledger_events.decided_at",
        "decision_comment": "ledger_events.decision_comment",
        "created_at": "ledger_events.created_at",
    },
    "appeal": {
        "id": "appeals.id",
        "entry_id": "appeals.entry_id",
        "reason": "appeals.reason",
        "status": "appeals.status",
        "decision_comment": "appeals.decision_comment",
        "compensation_id": "appeals.compensation_id",
        "created_at": "appeals.created_at",
        "decided_at": "appeals.decided_at",
    },
    "attendance_punch": {
        "id": "punches.id",
        "event_id": "punches.event_id",
        "device": "punches.device",
        "pin": "punches.pin",
        "member_id": "punches.member_id",
        "occurred_at": "punches.occurred_at",
        "device_time": "punches.device_time",
        "received_at": "punches.received_at",
        "verify_mode": "punches.verify_mode",
        "state": "punches.state",
        "ledger_entry_id": "punches.ledger_entry_id",
    },
    "attendance_correction": {
        "member_id": "corrections.member_id",
        "day": "corrections.day",
        "reason": "corrections.reason",
        "created_at": "corrections.created_at",
    },
    "balance": {
        "member_id": "balances.member_id",
        "point_type_id": "balances.point_type_id",
        "period_kind": "balances.period_kind",
        "period_key": "balances.period_key",
        "points": "balances.points",
    },
    "authority_limit": {
        "manager_member_id": "authority_limits.manager_member_id",
        "point_type_id": "authority_limits.point_type_id",
        "max_points": "authority_limits.max_points",
        "created_at": "authority_limits.created_at",
    },
    "api_token": {
        "id": "api_tokens.id",
        "member_id": "api_tokens.member_id",
        "role": "api_tokens.role",
        "label": "api_tokens.label",
        "created_at": "api_tokens.created_at",
        "expires_at": "api_tokens.expires_at",
        "revoked_at": "api_tokens.revoked_at",
    },
    "ranking_snapshot": {"rows": "ranking_snapshots.rank"},
    # Enrolment commands (user_upsert / user_delete) carry the member's PIN, card and name as sent to
    # the terminals; the agents' cmd_result events carry the outcome per command.
    "agent_command": {"args": "enrolment.args"},
    "agent_event": {"data": "enrolment.status"},
    # Audit entries whose target is the member: who did what to their data, and when.
    "audit_entry": {"fields": "audit.action"},
    # The roster: the member's sites, the credential kinds asked for them, and per terminal the
    # intended record (PIN, name as shown, kinds), the record read back and where the change stands.
    "roster_site_link": {"member_id": "sites.member_id", "site_id": "sites.site_id"},
    "roster_credentials": {
        "member_id": "credentials.member_id",
        "kinds": "credentials.kinds",
        "updated_at": "credentials.updated_at",
    },
    "roster_target": {
        "member_id": "roster.member_id",
        "agent_pk": "roster.agent_id",
        "pin": "roster.pin",
        "intended": "roster.intended",
        "changed_at": "roster.changed_at",
    },
    "roster_device": {
        "device": "roster.device",
        "state": "roster.state",
        "reason": "roster.reason",
        "verified": "roster.verified",
        "updated_at": "roster.updated_at",
    },
    # A terminal check's report lists PINs found extra on, or missing from, a terminal: the member's.
    "roster_check_run": {"report": "roster_checks.report", "applied_at": "roster_checks.applied_at"},
    "privacy_request": {
        "id": "requests.id",
        "member_id": "requests.member_id",
        "kind": "requests.kind",
        "reason": "requests.reason",
        "state": "requests.state",
        "created_at": "requests.created_at",
        "due_at": "requests.due_at",
        "closed_at": "requests.closed_at",
    },
    "leave_record": {
        "id": "leave.id",
        "member_id": "leave.member_id",
        "first_day": "leave.first_day",
        "last_day": "leave.last_day",
        "reason": "leave.reason",
        "created_at": "leave.created_at",
    },
    # A shift assigned to the member by name (a department's assignment is about the department).
    "shift_assignment": {"member_id": "shifts.member_id", "shift_id": "shifts.shift_id"},
}

NOT_PERSONAL: Final[dict[str, dict[str, frozenset[str]]]] = {
    "the controller's own records (organisation, its structure, catalogue and configuration)": {
        "organisation": frozenset({"id", "name", "kind", "time_zone", "settings", "created_at"}),
        "department": frozenset({"id", "org_id", "parent_id", "name", "created_at"}),
        "site": frozenset({"id", "org_id", "name", "created_at"}),
        "point_type": frozenset({"id", "org_id", "code", "name"}),
        "point_rule": frozenset(
            {"id", "org_id", "category", "name", "point_type_id", "points", "min_points", "max_points"}
            | {"needs_review", "issues_tickets"}
        ),
        "attendance_rule": frozenset(
            {"id", "org_id", "shift_start", "on_time_rule_id", "late_rule_id", "late_bands"}
            | {"absence_rule_id", "shift_end", "early_leave_rule_id", "early_leave_bands"}
            | {"full_attendance_rule_id", "created_at"}
        ),
        "display": frozenset(
            {"id", "org_id", "agent_pk", "sign", "point_type_id", "content_kind", "size", "title"}
            | {"audience", "announcement_text", "show_red_black", "created_at"}
        ),
        "ranking_version": frozenset({"org_id", "version"}),
        "work_calendar": frozenset({"org_id", "work_weekdays"}),
        "calendar_day": frozenset({"id", "org_id", "day", "kind", "name"}),
        "shift": frozenset({"id", "org_id", "name", "start", "end", "grace_minutes", "flexible_minutes"}),
        # Wall-screen passes to the dashboard: a label for the screen, not for a person.
        "display_link": frozenset({"id", "org_id", "label", "audience", "created_at", "expires_at"})
        | {"revoked_at"},
        # Alert settings: thresholds, the webhook signing secret and the admin's endpoint URLs.
        "alert_rules": frozenset({"org_id", "rules", "secret", "updated_at"}),
        "alert_webhook": frozenset({"id", "org_id", "url", "created_at"}),
    },
    "background jobs and fleet health (about boxes and terminals, never a member)": {
        # Runs of scheduled jobs per organisation and period; ``detail`` holds counts, not people.
        "scheduler_run": frozenset(
            {"id", "job", "org_id", "period", "status", "attempts", "due_at", "started_at", "finished_at"}
            | {"worker", "detail", "error"}
        ),
        # Alerts name an agent and a terminal (offline, clock drift, certificate expiry…); a
        # delivery's body is that alert as sent to a webhook.
        "alert": frozenset(
            {"id", "org_id", "key", "rule", "agent_id", "device", "detail", "raised_at", "resolved_at"}
        ),
        "webhook_delivery": frozenset(
            {"id", "org_id", "webhook_id", "alert_id", "event", "body", "attempts", "next_attempt_at"}
            | {"done", "delivered_at", "last_error"}
        ),
        # The terminals an agent drives (address, model, settings), versioned.
        "agent_inventory": frozenset({"id", "org_id", "agent_pk", "version", "devices", "cmd_id"})
        | {"created_at"},
        # A check's run itself (which agent, when); its report's PINs are personal (above).
        "roster_check_run": frozenset({"id", "org_id", "agent_pk", "cmd_id", "created_at"}),
    },
    "devices and their transport (not about a person)": {
        "agent": frozenset(
            {"id", "agent_id", "org_id", "site_id", "last_status", "last_status_at", "display_version"}
            | {"refused_events", "created_at", "retired_at", "cert_expires_at"}
        ),
        "agent_command": frozenset(
            {"id", "org_id", "agent_pk", "cmd_id", "type", "expires_at", "created_at", "delivered_at"}
        ),
        "agent_event": frozenset(
            {"id", "org_id", "agent_pk", "event_id", "seq", "kind", "device", "occurred_at", "ingested_at"}
        ),
        "enrolment_token": frozenset(
            {"id", "org_id", "site_id", "token_hash", "short_code_hash", "token_sealed", "expires_at"}
            | {"used_at", "used_by_agent", "created_by", "created_at"}
        ),
        # Undecodable payload prefixes: not attributable to a member; removed with the agent's org.
        "quarantine": frozenset(
            {"id", "topic", "payload_prefix", "payload_size", "payload_sha256", "event_id", "error"}
            | {"received_at"}
        ),
    },
    "secrets, hashes and integrity data": {
        "org_data_key": frozenset({"org_id", "wrapped", "created_at"}),
        "api_token": frozenset({"org_id", "token_hash"}),
        "audit_entry": frozenset({"id", "org_id", "seq", "action", "prev_hash", "hash", "recorded_at"}),
        "audit_head": frozenset({"org_id", "seq", "hash"}),
    },
    "keys and links internal to a row the export already shows": {
        "member": frozenset({"org_id"}),
        "consent": frozenset({"org_id"}),
        "ledger_entry": frozenset({"org_id", "idempotency_key", "attendance_day"}),
        "ledger_event": frozenset(
            {"org_id", "point_type_id", "points", "rule_id", "source", "effective_date", "idempotency_key"}
            | {"submitted_by_token_id", "decided_by_token_id"}
        ),
        "appeal": frozenset({"org_id"}),
        # seq/ingested_at/dedup_key: transport metadata; the dedup key repeats exported punch fields.
        "attendance_punch": frozenset({"org_id", "agent_pk", "seq", "ingested_at", "dedup_key"}),
        "attendance_correction": frozenset({"id", "org_id", "created_by_token_id"}),
        "balance": frozenset({"id", "org_id"}),
        "authority_limit": frozenset({"id", "org_id"}),
        "ranking_snapshot": frozenset(
            {"id", "org_id", "point_type_id", "period_kind", "period_key", "department_id", "frozen_at"}
            | {"frozen_by_token_id"}
        ),
        # A department's site link or shift is about the department; ids and org links are keys.
        "roster_site_link": frozenset({"id", "org_id", "department_id"}),
        "roster_credentials": frozenset({"org_id"}),
        # cmd_ids name the roster's latest commands, exported with their outcome under ``enrolment``.
        "roster_target": frozenset({"id", "org_id", "cmd_ids"}),
        "roster_device": frozenset({"id", "org_id", "target_id"}),
        "privacy_request": frozenset({"org_id"}),
        "leave_record": frozenset({"org_id"}),
        "shift_assignment": frozenset({"id", "org_id", "department_id"}),
    },
}


def classified(table: str) -> set[str]:
    """Every column of ``table`` the data map names, personal or not."""
    columns = set(PERSONAL.get(table, {}))
    for tables in NOT_PERSONAL.values():
        columns |= tables.get(table, frozenset())
    return columns

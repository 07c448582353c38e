"""docs/API.md is generated from STEPS below and every documented call is executed here, in order.

Regenerate the document after changing a step: ``MPM_WRITE_API_DOC=1 .venv/bin/pytest
tests/cloud/test_walkthrough.py``. Without it the test fails when the document and the steps differ.
Each step is one curl call; ``save`` names shell variables taken from the answer with a jq path
(``.id``, ``.[1].id``), and ``$NAME`` in a path or body is replaced by a saved value.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from cloud import cli
from cloud.settings import CloudSettings

DOC = Path(__file__).resolve().parents[2] / "docs" / "API.md"
CSV = (
    "display_name,legal_name,pin,card,department\n"
    "Alice,Alice Li,1,C001,Sales\nBob,,2,,Sales\nCarol,,3,,Support\nDave,,2,,Sales\n"
)


VERIFIED = "… whose hash chain verifies"


@dataclasses.dataclass(frozen=True)
class Step:
    title: str
    method: str
    path: str
    body: Any = None
    token: str = "TOKEN"
    save: dict[str, str] = dataclasses.field(default_factory=dict)
    key: str | None = None  # Idempotency-Key
    csv: bool = False
    expect: int = 200
    check: dict[str, Any] = dataclasses.field(default_factory=dict)  # jq path → expected value


STEPS = [
    Step("Look at your organisation", "GET", "/api/v1/org", check={".name": "Acme"}),
    Step(
        "Settings: time zone, ranking close day, retention, minors' age",
        "PATCH",
        "/api/v1/org",
        {
            "time_zone": "Asia/Shanghai",
            "ranking_close_day": 1,
            "punch_retention_months": 13,
            "minors_age": 14,
        },
    ),
    Step(
        "Point types: no hard-coded meaning",
        "POST",
        "/api/v1/point-types",
        {"code": "A", "name": "A points"},
        expect=201,
    ),
    Step("", "POST", "/api/v1/point-types", {"code": "T", "name": "Lottery tickets"}, expect=201),
    Step("A department", "POST", "/api/v1/departments", {"name": "Sales"}, save={"SALES": ".id"}, expect=201),
    Step(
        "Another one", "POST", "/api/v1/departments", {"name": "Support"}, save={"SUPPORT": ".id"}, expect=201
    ),
    Step(
        "Import members from CSV: good rows are created, bad rows reported by line",
        "POST",
        "/api/v1/members/import",
        CSV,
        csv=True,
        check={".created": 3, ".errors[0].row": 5},
    ),
    Step(
        "List them (paginated)",
        "GET",
        "/api/v1/members?limit=50&offset=0",
        save={"ALICE": ".[0].id", "BOB": ".[1].id", "CAROL": ".[2].id"},
    ),
    Step("Export as CSV", "GET", "/api/v1/members/export"),
    Step(
        "A rule for the catalogue (points per type, bounds, review flag)",
        "POST",
        "/api/v1/rules",
        {
            "category": "service",
            "name": "helped a customer",
            "point_type": "A",
            "points": 3,
            "min_points": 1,
            "max_points": 10,
            "needs_review": False,
        },
        save={"HELPED": ".id"},
        expect=201,
    ),
    Step(
        "Bob becomes a manager: an authority limit of 5 A points per member and event",
        "POST",
        "/api/v1/authority-limits",
        {"manager_member_id": "$BOB", "point_type": "A", "max_points": 5},
        expect=201,
    ),
    Step(
        "… and a manager token bound to Bob",
        "POST",
        "/api/v1/tokens",
        {"role": "manager", "label": "Bob's phone", "member_id": "$BOB"},
        save={"BOB_TOKEN": ".token", "BOB_TOKEN_ID": ".id"},
        expect=201,
    ),
    Step(
        "Bob awards Alice and Carol within his authority: approved at once",
        "POST",
        "/api/v1/ledger-events",
        {
            "member_ids": ["$ALICE", "$CAROL"],
            "point_type": "A",
            "rule_id": "$HELPED",
            "effective_date": "2026-11-05",
        },
        token="BOB_TOKEN",
        key="award-0001",
        expect=201,
        check={".status": "approved"},
    ),
    Step(
        "Bob awards Alice beyond his authority: pending",
        "POST",
        "/api/v1/ledger-events",
        {
            "member_ids": ["$ALICE"],
            "point_type": "A",
            "points": 8,
            "reason": "closed the big deal",
            "effective_date": "2026-11-06",
        },
        token="BOB_TOKEN",
        key="award-0002",
        save={"BIG": ".id"},
        expect=201,
        check={".status": "pending"},
    ),
    Step(
        "Bob cannot award himself",
        "POST",
        "/api/v1/ledger-events",
        {"member_ids": ["$BOB"], "point_type": "A", "points": 1},
        token="BOB_TOKEN",
        key="award-0003",
        expect=403,
    ),
    Step("The approval queue", "GET", "/api/v1/ledger-events?status=pending", check={".[0].points": 8}),
    Step(
        "The admin approves",
        "POST",
        "/api/v1/ledger-events/$BIG/approve",
        {"comment": "well done"},
        check={".status": "approved"},
    ),
    Step(
        "A deduction",
        "POST",
        "/api/v1/ledger-events",
        {
            "member_ids": ["$CAROL"],
            "point_type": "A",
            "points": -2,
            "reason": "late report",
            "effective_date": "2026-11-07",
        },
        key="deduct-0001",
        expect=201,
    ),
    Step("Carol's entries", "GET", "/api/v1/ledger-entries?member_id=$CAROL", save={"DEDUCTION": ".[0].id"}),
    Step(
        "Revoke the deduction: a compensating entry, the original stays",
        "POST",
        "/api/v1/ledger-entries/$DEDUCTION/revoke",
        {"reason": "report was on time"},
        expect=201,
        check={".points": 2},
    ),
    Step(
        "Ranking of the month (red list)",
        "GET",
        "/api/v1/rankings?point_type=A&period=month&key=2026-11",
        check={".rows[0].display_name": "Alice", ".rows[0].points": 11, ".rows[1].points": 3},
    ),
    Step(
        "… of one department",
        "GET",
        "/api/v1/rankings?point_type=A&period=month&key=2026-11&department_id=$SUPPORT",
        check={".rows[0].display_name": "Carol"},
    ),
    Step(
        "… of the week, worst first (black list)",
        "GET",
        "/api/v1/rankings?point_type=A&period=week&key=2026-W45&order=bottom&limit=3",
        check={".rows[0].display_name": "Carol"},
    ),
    Step(
        "Attendance: shift start and the rules for on time and late",
        "POST",
        "/api/v1/rules",
        {"category": "attendance", "name": "on time", "point_type": "A", "points": 1},
        save={"ON_TIME": ".id"},
        expect=201,
    ),
    Step(
        "",
        "POST",
        "/api/v1/rules",
        {"category": "attendance", "name": "late", "point_type": "A", "points": -1},
        save={"LATE": ".id"},
        expect=201,
    ),
    Step(
        "",
        "POST",
        "/api/v1/rules",
        {"category": "attendance", "name": "very late", "point_type": "A", "points": -2},
        save={"VERY_LATE": ".id"},
        expect=201,
    ),
    Step(
        "",
        "POST",
        "/api/v1/rules",
        {"category": "attendance", "name": "absent", "point_type": "A", "points": -3},
        save={"ABSENT": ".id"},
        expect=201,
    ),
    Step(
        "",
        "POST",
        "/api/v1/attendance-rules",
        {
            "shift_start": "09:00:00",
            "on_time_rule_id": "$ON_TIME",
            "late_rule_id": "$LATE",
            "late_bands": [{"after_minutes": 30, "rule_id": "$VERY_LATE"}],
            "absence_rule_id": "$ABSENT",
        },
        expect=201,
    ),
    Step(
        "Punches arrive from the site agents (MQTT) and turn into attendance entries",
        "GET",
        "/api/v1/punches",
    ),
    Step(
        "Close a working day: members without a check-in get the absence rule",
        "POST",
        "/api/v1/attendance/day-closings",
        {"day": "2026-11-09"},
        check={".absences_recorded": 3},
    ),
    Step(
        "A correction (补卡) cancels Carol's absence and awards the on-time rule",
        "POST",
        "/api/v1/attendance/corrections",
        {"member_id": "$CAROL", "day": "2026-11-09", "reason": "badge forgotten, confirmed by Bob"},
        expect=201,
    ),
    Step(
        "Generated attendance entries, to review (any of them can be revoked like any entry)",
        "GET",
        "/api/v1/ledger-entries?source=attendance",
    ),
    Step(
        "Calendar: a Monday-to-Friday week, National Day off, a make-up work day (调休) on Saturday",
        "POST",
        "/api/v1/attendance/calendar/import",
        {
            "work_weekdays": [1, 2, 3, 4, 5],
            "days": [
                {"date": "2026-10-01", "kind": "holiday", "name": "National Day"},
                {"date": "2026-10-10", "kind": "workday", "name": "make-up day"},
            ],
        },
        check={".days_written": 2},
    ),
    Step(
        "… or as CSV (date,kind,name); every bad row is refused by row number and field, nothing stored",
        "POST",
        "/api/v1/attendance/calendar/import",
        "date,kind,name\\n2026-10-02,vacation,\\n",
        csv=True,
        expect=422,
        check={".errors[0].loc": ["row", 1, "kind"]},
    ),
    Step("The year's calendar", "GET", "/api/v1/attendance/calendar?year=2026"),
    Step(
        "A holiday closes with no absences",
        "POST",
        "/api/v1/attendance/day-closings",
        {"day": "2026-10-01"},
        check={".work_day": False, ".absences_recorded": 0},
    ),
    Step(
        "A night shift: an end before the start crosses midnight (00:30 counts for the day before)",
        "POST",
        "/api/v1/attendance/shifts",
        {"name": "night", "start": "22:00:00", "end": "06:00:00", "grace_minutes": 5},
        save={"NIGHT": ".id"},
        expect=201,
    ),
    Step(
        "Bob works nights (a department can be given a shift the same way)",
        "PUT",
        "/api/v1/attendance/shift-assignments",
        {"shift_id": "$NIGHT", "member_id": "$BOB"},
    ),
    Step(
        "Leave excuses absence: Carol is away on the 10th and 11th",
        "POST",
        "/api/v1/attendance/leaves",
        {
            "member_id": "$CAROL",
            "first_day": "2026-11-10",
            "last_day": "2026-11-11",
            "reason": "annual leave",
        },
        expect=201,
    ),
    Step(
        "What the scheduler ran: day and month closes, ranking snapshots, retention (once per period)",
        "GET",
        "/api/v1/scheduler/runs?limit=20",
    ),
    Step(
        "Tokens expire (90 days unless told otherwise): swap Bob's for a new one; the old one stops at once",
        "POST",
        "/api/v1/tokens/$BOB_TOKEN_ID/rotate",
        save={"BOB_TOKEN": ".token"},
        check={".role": "manager", ".label": "Bob's phone"},
        expect=201,
    ),
    Step(
        "Everything held about Carol (a data-subject access request: profile, ledger, attendance, "
        "enrolment and roster per device, her requests, leave and shift, signs showing her, audit)",
        "GET",
        "/api/v1/members/$CAROL/export",
        check={".profile.display_name": "Carol"},
    ),
    Step(
        "A display link for a wall screen: its `url` opens the live dashboard, read-only, public members",
        "POST",
        "/api/v1/display-links",
        {"label": "Lobby wall", "ttl_s": 2592000},
        save={"LINK": ".id"},
        expect=201,
        check={".audience": "public"},
    ),
    Step(
        "Revoke it: the screen falls back to the login page at its next heartbeat",
        "POST",
        "/api/v1/display-links/$LINK/revoke",
        check={".label": "Lobby wall"},
    ),
    Step(
        "Fleet: register a site agent (enrolment does this for a box with a certificate)",
        "POST",
        "/api/v1/agents",
        {"agent_id": "site-1"},
        expect=201,
    ),
    Step(
        "Its devices, managed from the cloud: a new version is sent to the box, which checks and applies it",
        "PUT",
        "/api/v1/agents/site-1/inventory",
        {
            "devices": [
                {"kind": "alpha_sign", "name": "lobby-sign", "port": "/dev/ttyUSB0", "columns": 20},
                {"kind": "zkteco", "name": "front-door", "host": "192.168.1.201"},
            ]
        },
        check={".version": 1, ".status": "queued"},
    ),
    Step(
        "Where it stands: queued, delivered, applied or refused (with the reason), and the version applied",
        "GET",
        "/api/v1/agents/site-1/inventory",
        check={".version": 1, ".applied_version": None},
    ),
    Step(
        "Fleet health: each agent online or not, last seen, version, backlog, devices, certificate, alerts",
        "GET",
        "/api/v1/fleet",
        check={".agents[0].agent_id": "site-1", ".agents[0].online": False},
    ),
    Step(
        "Alert rules: offline 5 min, backlog 15 min old, device down, certificate expiring in 30 days",
        "GET",
        "/api/v1/fleet/alert-rules",
        check={".agent_offline_after_s": 300, ".cert_expiry_days": 30},
    ),
    Step(
        "Change them for the organisation (null turns a rule off)",
        "PUT",
        "/api/v1/fleet/alert-rules",
        {
            "agent_offline_after_s": 600,
            "status_silence_s": 1800,
            "backlog_max_age_s": 900,
            "device_down": True,
            "cert_expiry_days": None,
        },
        check={".agent_offline_after_s": 600},
    ),
    Step(
        "The webhook secret: X-MPM-Signature is sha256= HMAC-SHA256 of X-MPM-Timestamp, '.', and the body",
        "POST",
        "/api/v1/fleet/webhook-secret",
        save={"SECRET": ".secret"},
    ),
    Step(
        "A webhook: it receives each alert raised, then resolved",
        "POST",
        "/api/v1/fleet/webhooks",
        {"url": "https://ops.example.com/mpm-alerts"},
        save={"HOOK": ".id"},
        expect=201,
    ),
    Step("Open alerts (state=all for the history)", "GET", "/api/v1/fleet/alerts?state=open"),
    Step(
        "What was sent to the webhook: attempts, delivered, last error",
        "GET",
        "/api/v1/fleet/webhooks/$HOOK/deliveries",
    ),
    Step(
        "The roster: a site and its agent",
        "POST",
        "/api/v1/sites",
        {"name": "Plant"},
        save={"SITE": ".id"},
        expect=201,
    ),
    Step("", "POST", "/api/v1/agents", {"agent_id": "plant-agent", "site_id": "$SITE"}, expect=201),
    Step(
        "Everyone in Sales goes onto the site's terminals (a command per person and agent, sent now)",
        "PUT",
        "/api/v1/roster/sites/$SITE/links",
        {"department_ids": ["$SALES"]},
        check={".commands_queued": 2},
    ),
    Step(
        "Alice on every terminal: intended, verified, and pending or failed with the reason per device",
        "GET",
        "/api/v1/roster/members/$ALICE",
        check={".agents[0].intended.pin": "1", ".agents[0].devices[0].state": "pending"},
    ),
    Step(
        "Biometric enrolment needs a current biometric consent (409 otherwise)",
        "PUT",
        "/api/v1/roster/members/$ALICE/credentials",
        {"kinds": ["pin", "face"]},
        expect=409,
    ),
    Step(
        "",
        "POST",
        "/api/v1/members/$ALICE/consents",
        {"kind": "biometric", "granted": True, "notice_version": "2026-01", "actor": "self"},
        expect=201,
    ),
    Step(
        "With consent it is allowed; a card or PIN always stays (face alone: 409)",
        "PUT",
        "/api/v1/roster/members/$ALICE/credentials",
        {"kinds": ["pin", "face"]},
        check={".agents[0].intended.credentials": ["face", "pin"]},
    ),
    Step(
        "Take in the agents' receipts and send again what failed or waited for an offline terminal",
        "POST",
        "/api/v1/roster/sync",
    ),
    Step(
        "Erin joins Sales and asks to be erased",
        "POST",
        "/api/v1/members",
        {"display_name": "Erin", "pin": "9", "department_id": "$SALES"},
        save={"ERIN": ".id"},
        expect=201,
    ),
    Step(
        "Erased everywhere: the request stays open until every device is verified, due in 30 days",
        "POST",
        "/api/v1/roster/erasures",
        {"member_ids": ["$ERIN"], "reason": "asked by Erin"},
        check={".[0].kind": "erasure", ".[0].state": "open"},
        expect=201,
    ),
    Step(
        "Data-subject requests (access, correction, erasure) and where they stand",
        "GET",
        "/api/v1/roster/requests",
    ),
    Step("Everything above is in the audit log", "GET", "/api/v1/audit?limit=100"),
    Step(VERIFIED, "GET", "/api/v1/audit/verify", check={".intact": True}),
    Step(
        "The organisation leaves. First its people leave the site terminals: erasure requests for everyone "
        "the roster placed on a device; nothing is deleted while any is unconfirmed (type the "
        "organisation's name to confirm)",
        "DELETE",
        "/api/v1/org",
        {"confirm_name": "Acme"},
        check={".state": "erasing_devices", ".erasure_requests_open": 3},
        expect=202,
    ),
    Step(
        "Repeat when GET /api/v1/roster/requests shows them closed — or, as here where the agent never "
        "connected, force it: data deleted or anonymised, agents retired, data key destroyed; the answer "
        "is the deletion report",
        "DELETE",
        "/api/v1/org",
        {"confirm_name": "Acme", "force": True},
        check={".data_key_shredded": True, ".deleted.member": 4, ".device_erasures_unconfirmed": 3},
    ),
    Step("… and its tokens stop working", "GET", "/api/v1/org", expect=401),
]


def jq(value: Any, path: str) -> Any:
    """The tiny subset of jq used here: ``.a``, ``.[n]``, ``.a[n].b``."""
    for part in re.findall(r"\.?([A-Za-z_]\w*)|\[(\d+)\]", path):
        value = value[part[0]] if part[0] else value[int(part[1])]
    return value


def substitute(value: Any, saved: dict[str, Any]) -> Any:
    if isinstance(value, str) and value.startswith("$") and value[1:] in saved:
        return saved[value[1:]]
    if isinstance(value, list):
        return [substitute(v, saved) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, saved) for k, v in value.items()}
    return value


def render() -> str:
    out = [
        "# API walkthrough\n",
        "Generated from `tests/cloud/test_walkthrough.py`, which runs exactly these calls against SQLite and",
        "PostgreSQL. Needs `curl` and `jq`; start the service as in `cloud/README.md`.\n",
        "```sh",
        "export API=http://127.0.0.1:8000",
        "export MPM_ENVIRONMENT=development   # a trial: the public dev key; production sets MPM_MASTER_KEY",
        'TOKEN=$(mpm-cloud create-org "Acme" --kind enterprise)   # the first org-admin token',
        "```\n",
    ]
    for step in STEPS:
        if step.title:
            out.append(f"## {step.title}\n")
        out += ["```sh", curl(step), "```\n"]
    return "\n".join(out)


def curl(step: Step) -> str:
    path = step.path.replace("&", "&")
    parts = [f'curl -s -X {step.method} "$API{path}"', f'-H "Authorization: Bearer ${step.token}"']
    if step.key:
        parts.append(f'-H "Idempotency-Key: {step.key}"')
    if step.csv:
        parts += ['-H "Content-Type: text/csv"', f"--data-binary $'{step.body}'"]
    elif step.body is not None:
        body = json.dumps(step.body, ensure_ascii=False).replace("'", "'\\''")  # quote for the shell
        body = re.sub(r'"\$(\w+)"', r"'\"$\1\"'", body)  # shell variables inside the JSON
        parts += ['-H "Content-Type: application/json"', f"-d '{body}'"]
    command = " \\\n  ".join(parts)
    if not step.save:
        return command
    name, path_ = next(iter(step.save.items()))
    if len(step.save) == 1:
        return f"{name}=$({command} | jq -r '{path_}')"
    lines = [f"ANSWER=$({command})"]
    lines += [f"{n}=$(echo \"$ANSWER\" | jq -r '{p}')" for n, p in step.save.items()]
    return "\n".join(lines)


def test_the_document_matches_the_steps() -> None:
    if os.environ.get("MPM_WRITE_API_DOC"):
        DOC.write_text(render())
    assert DOC.read_text() == render(), "docs/API.md is stale: regenerate it (see this module's docstring)"


async def test_every_documented_call_works(
    db_url: str, app: FastAPI, client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        await cli._run_once(
            CloudSettings(database_url=db_url), cli._parser().parse_args(["create-org", "Acme"])
        )
        == 0
    )
    saved: dict[str, Any] = {"TOKEN": capsys.readouterr().out.strip()}
    answers: dict[str, Any] = {}
    for step in STEPS:
        path = re.sub(r"\$(\w+)", lambda m: str(saved[m.group(1)]), step.path)
        headers = {"Authorization": f"Bearer {saved[step.token]}"}
        if step.key:
            headers["Idempotency-Key"] = step.key
        if step.csv:
            headers["Content-Type"] = "text/csv"
            request = {"content": step.body.replace("\\n", "\n").encode()}
        else:
            request = {"json": substitute(step.body, saved)} if step.body is not None else {}
        response = await client.request(step.method, path, headers=headers, **request)
        assert response.status_code == step.expect, (step.title, response.text)
        answer: Any = response.json() if "json" in response.headers.get("content-type", "") else response.text
        for name, jq_path in step.save.items():
            saved[name] = jq(answer, jq_path)
        for jq_path, expected in step.check.items():
            assert jq(answer, jq_path) == expected, (step.title, jq_path, answer)
        answers[step.title] = answer
    # Up to the verification, every successful write, the two exports (reads of personal data) and
    # create-org left one entry each.
    before = STEPS[: [s.title for s in STEPS].index(VERIFIED)]
    writes = [s for s in before if s.method != "GET" and s.expect < 300]
    audited = len(writes) + 3
    assert answers[VERIFIED]["entries"] == audited

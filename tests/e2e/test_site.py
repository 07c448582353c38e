"""Issue 3 end to end: the agent against a whole simulated site (``mpm-sim site``), every family at once.

    zk-terminal (4370: log pull + live) ─┐
    zk-push (ADMS, pushes to the agent)  ├→ mpm-agent → outbox → Mosquitto → mpm-cloud → ranking
    isapi-face (ISAPI alertStream)       ─┘
    ranking → mpm-agent → Alpha sign (pty, Chinese rows as pictures) + Modbus sign (TCP, GBK text)

The site file is ``site.toml`` next to this module; the terminals punch on their own every few
seconds. Mid-run the ADMS terminal is killed with SIGKILL and started again from its state file (as
a terminal keeps its log in flash): while it is down the other terminals' punches keep arriving, and
afterwards every punch of every terminal is in the cloud exactly once. Exactly once is checked at
one instant against what the simulators say they generated, by the device's own dedup key.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any, Final

import httpx
import pytest
from PIL import Image

from edge_agent.drivers.alpha_sign.config import AlphaSignConfig
from edge_agent.drivers.alpha_sign.render import Geometry, picture_labels, render, row_text
from firmware_protocols.sync import RankRow, SignContent
from simulators.state_file import read_state, write_state
from simulators.zk_terminal.model import RECORDED_PUNCHES_KEPT
from tests.e2e.processes import (
    BIN,
    ProcessGroup,
    cloud_env,
    command_line,
    gone,
    process_group,
    seed_demo,
    start_cloud,
    start_site,
)
from tests.support.broker import Broker
from tests.support.network import free_port
from tests.support.polling import wait_for

AGENT_ID: Final = "site-agent"
ALPHA, MODBUS = "lobby-sign", "hall-board"
SITE_FILE: Final = Path(__file__).with_name("site.toml")
# Serial numbers keying each terminal's punches: from site.toml, and the ISAPI simulator's default.
ZK_SERIAL, PUSH_SN, FACE_SERIAL = "SIMFRONT0001", "SIMBACK00001", "DS-K1T671M0120240101SIM0001"
# The cloud's device name of each terminal (an ADMS terminal is "<listener>:<SN>").
FRONT, BACK, FACE = "front-door", f"adms:{PUSH_SN}", "face-gate"
# The site's people (site.toml's [[user]] list; the ISAPI terminal has no users and punches as 1001).
MEMBERS: Final = {"1001": "张三", "1002": "李四", "1003": "Grace", "1004": "王芳", "1005": "Henry"}
# Manual awards before the run, so the ranking has distinct ranks and a tie (attendance adds ±).
AWARDS: Final = {"1002": 6, "1003": 4, "1004": 4, "1001": 1}
TITLE: Final = "Top 5"
# The Modbus sign's first replies: one lost, two corrupted, one later than the driver waits (1 s).
MODBUS_FAULTS: Final = {"drop": 1, "corrupt": 2, "delay_s": 1.5, "delay_count": 1}


class Cloud:
    """The cloud's REST API as the org admin, and its database file for what the API does not show."""

    def __init__(self, api: str, token: str, db: Path) -> None:
        self.api, self.db = api, db
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **params: Any) -> Any:
        response = httpx.get(f"{self.api}{path}", params=params, headers=self.headers, timeout=10)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: dict[str, Any], **headers: str) -> Any:
        response = httpx.post(f"{self.api}{path}", json=body, headers=self.headers | headers, timeout=10)
        response.raise_for_status()
        return response.json()

    def punches(self) -> list[dict[str, Any]]:
        return list(self.get("/punches", limit=500))

    def stored_keys(self) -> list[tuple[str, str, str]]:
        """(device, dedup key, event id) of every stored punch, read from the database."""
        with closing(sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5)) as db:
            rows = db.execute("SELECT device, dedup_key, event_id FROM attendance_punch").fetchall()
        return [(str(d), str(k), str(e)) for d, k, e in rows]

    def ranking(self) -> tuple[str, list[tuple[int, str, int]]]:
        """This month's key and top five of point type A: (rank, display name, points) rows."""
        ranking = self.get("/rankings", point_type="A", limit=5)
        return ranking["key"], [(r["rank"], r["display_name"], r["points"]) for r in ranking["rows"]]


def set_up_cloud(cloud: Cloud) -> None:
    """The site's members (the terminals' PINs), the Modbus sign's display, and a spread of points."""
    ids = {
        pin: cloud.post("/members", {"display_name": name, "pin": pin})["id"] for pin, name in MEMBERS.items()
    }
    display = {"agent_id": AGENT_ID, "sign": MODBUS, "point_type": "A", "size": 5, "title": TITLE}
    cloud.post("/displays", display)
    for pin, points in AWARDS.items():
        award = {"member_id": ids[pin], "point_type": "A", "points": points, "reason": "site test"}
        cloud.post("/ledger-entries", award, **{"Idempotency-Key": f"site-test-{pin}"})


def agent_config(tmp: Path, broker: Broker, state_dir: Path) -> Path:
    """The agent's own settings followed by the ``[[devices]]`` the site runner wrote for it."""
    config = tmp / "agent.toml"
    own = f"""agent_id = "{AGENT_ID}"
[mqtt]
url = "{broker.url}"
keepalive_s = 10
ack_timeout_s = 5
[outbox]
path = "{tmp / "outbox.db"}"
[observability]
enabled = false
"""
    config.write_text(own + (state_dir / "agent-devices.toml").read_text(encoding="utf-8"), encoding="utf-8")
    return config


def generated_keys(state_dir: Path) -> dict[str, set[str]]:
    """Each terminal's punches as its state file lists them, keyed as its agent driver keys them."""
    front = read_state(state_dir / f"{FRONT}.json") or {}
    made = front.get("recorded_punches", [])  # the log itself is cleared once the cloud acked it
    assert front.get("punch_count", 0) == len(made) <= RECORDED_PUNCHES_KEPT, "front-door's record overflowed"
    back = read_state(state_dir / "back-door.json") or {}
    face = read_state(state_dir / f"{FACE}.json") or {}
    return {
        FRONT: {f"{ZK_SERIAL}|{p['pin']}|{p['time']}|{p['state']}" for p in made},
        BACK: {
            f"{PUSH_SN}|{pin}|{time}|{status}|{verify}"
            for _, pin, time, status, verify, _ in back.get("log", [])
        },
        FACE: {f"{FACE_SERIAL}|{e['serialNo']}" for e in face.get("events", [])},
    }


def differences(cloud: Cloud, state_dir: Path) -> tuple[list[tuple[str, str, str]], dict[str, Any]]:
    """The stored punches, and per device the generated punches not stored and the stored not generated.

    A terminal may save its state just after the agent took the punch (the ADMS terminal saves after
    its sync cycle), so a punch stored but not yet in a state file is a difference to wait out, not
    an error; a dedup key stored twice is an error at once.
    """
    stored = cloud.stored_keys()
    wanted = generated_keys(state_dir)
    by_device: dict[str, list[str]] = collections.defaultdict(list)
    for device, key, _ in stored:
        by_device[device].append(key)
    for device, keys in by_device.items():
        assert len(keys) == len(set(keys)), f"{device}: a dedup key stored twice"
    found = {device: set(keys) for device, keys in by_device.items()}
    missing = {d: sorted(keys - found.get(d, set())) for d, keys in wanted.items()}
    foreign = {d: sorted(keys - wanted.get(d, set())) for d, keys in found.items()}
    report = {
        "missing": {d: k for d, k in missing.items() if k},
        "foreign": {d: k for d, k in foreign.items() if k},
    }
    return stored, {kind: keys for kind, keys in report.items() if keys}


def exactly_once(cloud: Cloud, state_dir: Path) -> list[tuple[str, str, str]] | None:
    """The stored punches when, at this instant, each generated punch is stored once and nothing else."""
    stored, differ = differences(cloud, state_dir)
    return None if differ else stored


def per_device(cloud: Cloud) -> collections.Counter[str]:
    return collections.Counter(p["device"] for p in cloud.punches())


def kill_and_restart(group: ProcessGroup, cloud: Cloud, site: dict[str, Any], state_dir: Path) -> int:
    """SIGKILL the ADMS terminal, the others keep delivering, restart it; its log length at the kill.

    The kill comes just after the terminal saved a new punch, a whole punch period before the next:
    a punch taken by the agent but not yet saved would be lost from the "flash" of the restarted
    terminal, a simulator artefact, not a product fault.
    """
    entry = site["devices"]["back-door"]
    pid, state = int(entry["pid"]), Path(entry["state"])
    argv = command_line(pid)
    logged = len((read_state(state) or {}).get("log", []))
    wait_for(
        lambda: len((read_state(state) or {}).get("log", [])) > logged, timeout=15, what="a back-door punch"
    )
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: gone(pid), timeout=10, what="back-door gone")
    logged_at_kill = len((read_state(state) or {}).get("log", []))
    before = per_device(cloud)
    wait_for(
        lambda: (now := per_device(cloud))[FRONT] > before[FRONT] and now[FACE] > before[FACE],
        timeout=40,
        what="front-door and face-gate punches while back-door is down",
    )
    assert len((read_state(state) or {}).get("log", [])) == logged_at_kill  # it really was down
    group.start("back-door-again", argv)
    return logged_at_kill


def alpha_expected(rows: list[tuple[int, str, int]]) -> tuple[list[str], dict[str, list[str]]]:
    """What the Alpha sign must show for ``rows``: its lines, and the picture of each Chinese row."""
    geometry = Geometry(
        columns=AlphaSignConfig.model_fields["columns"].default,
        rows=AlphaSignConfig.model_fields["rows"].default,
    )
    content = SignContent(
        sign=ALPHA, title=TITLE, period="", rows=tuple(RankRow(rank=r, name=n, points=p) for r, n, p in rows)
    )
    files = render(content, geometry)
    pictures = {p.label: list(p.rows) for p in files.pictures}
    lines = [TITLE]
    for row, label in zip(content.rows, picture_labels(geometry), strict=False):
        lines.append(f"[dots {label}]" if label in pictures else row_text(row, geometry.columns))
    return lines, pictures


def signs_agree(cloud: Cloud, state_dir: Path) -> list[tuple[int, str, int]] | None:
    """The ranking when the cloud, the Modbus sign and the Alpha sign all show the same five rows."""
    month, ranking = cloud.ranking()
    modbus = read_state(state_dir / f"{MODBUS}.json") or {}
    alpha = read_state(state_dir / f"{ALPHA}.json") or {}
    shown = [(r["rank"], r["name"], r["points"]) for r in modbus.get("rows", [])]
    # The Modbus driver titles the ranking with its period too ("Top 5 2026-11"); the Alpha sign does not.
    if len(ranking) < len(MEMBERS) or shown != ranking or modbus.get("title") != f"{TITLE} {month}":
        return None
    lines, pictures = alpha_expected(ranking)
    held = {label: alpha.get("pictures", {}).get(label, {}).get("rows") for label in pictures}
    return ranking if alpha.get("showing") == lines and held == pictures else None


def lit_pixels(png: Path) -> int:
    """Pixels of a lit LED dot (unlit dots are drawn at an eighth of the colour, on a dark board)."""
    with Image.open(png) as image:
        assert image.format == "PNG", png
        colours = image.convert("RGB").getcolors(maxcolors=1 << 24) or []
    return sum(count for count, colour in colours if isinstance(colour, tuple) and max(colour) >= 128)


def test_every_family_reaches_the_cloud_once_and_both_signs_agree(tmp_path: Path, broker: Broker) -> None:
    site_file = tmp_path / "site.toml"
    site_file.write_text(
        SITE_FILE.read_text(encoding="utf-8").replace("ADMS_PORT", str(free_port())), "utf-8"
    )
    (tmp_path / "hall-board-faults.json").write_text(json.dumps(MODBUS_FAULTS), encoding="utf-8")
    state_dir = tmp_path / "site"
    env = cloud_env(tmp_path / "cloud.db", broker.url)
    seeded = seed_demo(env, AGENT_ID, ALPHA)
    with process_group(tmp_path / "logs") as group:
        site = start_site(group, site_file, state_dir)
        cloud = Cloud(start_cloud(group, env), str(seeded["token"]), tmp_path / "cloud.db")
        set_up_cloud(cloud)
        group.start(
            "agent",
            [str(BIN / "mpm-agent"), "run", "--config", str(agent_config(tmp_path, broker, state_dir))],
        )

        wait_for(
            lambda: (
                {FRONT, BACK, FACE} <= set(per_device(cloud)) or group.children["agent"].poll() is not None
            ),
            timeout=60,
            what="punches from all three terminal families",
        )
        assert group.children["agent"].poll() is None, group.log_tail("agent")
        logged_at_kill = kill_and_restart(group, cloud, site, state_dir)

        def caught_up() -> list[tuple[str, str, str]] | None:
            back = read_state(state_dir / "back-door.json") or {}
            return exactly_once(cloud, state_dir) if len(back.get("log", [])) > logged_at_kill else None

        try:
            stored = wait_for(caught_up, timeout=60, what="every generated punch stored exactly once")
        except AssertionError as timed_out:
            raise AssertionError(f"{timed_out}: {differences(cloud, state_dir)[1]}") from None
        assert len({event for _, _, event in stored}) == len(stored), "an event id stored twice"
        punches = cloud.punches()
        assert len({p["event_id"] for p in punches}) == len(punches), "the API lists an event twice"
        assert {event for _, _, event in stored} <= {p["event_id"] for p in punches}
        assert {p["device"] for p in punches} == {FRONT, BACK, FACE}

        ranking = wait_for(
            lambda: signs_agree(cloud, state_dir), timeout=60, what="both signs showing the ranking"
        )
        assert any(not name.isascii() for _, name, _ in ranking), ranking
        modbus = read_state(state_dir / f"{MODBUS}.json") or {}
        assert modbus["counters"]["faults"] == 4, "1 dropped + 2 corrupted + 1 late reply"  # control
        assert any("张三" in line or "李四" in line or "王芳" in line for line in modbus["showing"])
        for sign in (ALPHA, MODBUS):
            assert lit_pixels(state_dir / f"{sign}.png") > 0, sign


ZK_PUNCH: Final = {"pin": "1001", "time": "2026-11-29 09:00:00", "state": 0, "verify": 1}


def test_the_exactly_once_check_sees_a_missing_a_doubled_and_a_foreign_punch(tmp_path: Path) -> None:
    """Control for the check above, on a real SQLite table and state files of one punch each."""
    write_state(tmp_path / f"{FRONT}.json", {"punch_count": 1, "recorded_punches": [ZK_PUNCH]})
    write_state(tmp_path / "back-door.json", {"log": [[1, "1002", "2026-11-29 09:00:01", "0", "1", "0"]]})
    write_state(tmp_path / f"{FACE}.json", {"events": [{"serialNo": 7}]})
    rows = [
        (FRONT, f"{ZK_SERIAL}|1001|2026-11-29 09:00:00|0", "e1"),
        (BACK, f"{PUSH_SN}|1002|2026-11-29 09:00:01|0|1", "e2"),
        (FACE, f"{FACE_SERIAL}|7", "e3"),
    ]
    cloud = Cloud("http://127.0.0.1:9/api/v1", "unused", tmp_path / "cloud.db")
    with closing(sqlite3.connect(cloud.db, isolation_level=None)) as db:
        db.execute("CREATE TABLE attendance_punch (device TEXT, dedup_key TEXT, event_id TEXT)")
        db.executemany("INSERT INTO attendance_punch VALUES (?, ?, ?)", rows[:2])
        assert exactly_once(cloud, tmp_path) is None  # face-gate's punch is missing
        db.execute("INSERT INTO attendance_punch VALUES (?, ?, ?)", rows[2])
        assert exactly_once(cloud, tmp_path) == rows
        db.execute("INSERT INTO attendance_punch VALUES (?, ?, ?)", (FACE, f"{FACE_SERIAL}|8", "e4"))
        assert exactly_once(cloud, tmp_path) is None  # a punch face-gate never generated
        assert differences(cloud, tmp_path)[1] == {"foreign": {FACE: [f"{FACE_SERIAL}|8"]}}
        db.execute("UPDATE attendance_punch SET dedup_key = ? WHERE event_id = 'e4'", (f"{FACE_SERIAL}|7",))
        with pytest.raises(AssertionError, match="stored twice"):
            exactly_once(cloud, tmp_path)

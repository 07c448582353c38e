"""Issue 11 end to end: the roster follows a person to every terminal of their site, a consent
withdrawal keeps their card, and an erasure made while the agent is offline reaches every terminal
and the sign once it is back. Then the organisation leaves: its people are erased from every terminal
before its data is deleted.

    mpm-cloud (roster) → Mosquitto (the agent's persistent session) → mpm-agent →
        zk-terminal (4370) · zk-push (ADMS) · isapi-face (ISAPI) · alpha sign (pty)

Every terminal's user list is read from its simulator's state file; the roster's per-device states, the
erasure request and the reconciliation's findings from the cloud's API. The simulators keep no templates:
"the biometric credential removed" is seen as the user deleted and written back with card and PIN only,
verified on every device.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any, Final

import httpx
import paho.mqtt.subscribe as subscribe
import pytest

from firmware_protocols import sync
from simulators.state_file import read_state
from tests.e2e.processes import (
    BIN,
    ProcessGroup,
    cloud_env,
    process_group,
    seed_demo,
    start_cloud,
    start_site,
)
from tests.support.broker import Broker
from tests.support.network import free_port
from tests.support.polling import wait_for

AGENT_ID: Final = "roster-agent"
SIGN: Final = "lobby-sign"
SITE_FILE: Final = Path(__file__).with_name("roster_site.toml")
TERMINALS: Final = {"front-door": "front-door", "adms:SIMROSTER002": "back-door", "face-gate": "face-gate"}
PIN, CARD, NAME = "2001", "5555", "Dana"
EVE_PIN: Final = "2002"  # still on the terminals when the organisation leaves
STRANGER: Final = "9999"  # on the ZK terminals from the start (roster_site.toml), no member's PIN


class Cloud:
    def __init__(self, api: str, token: str) -> None:
        self.api, self.headers = api, {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        response = httpx.request(
            method, f"{self.api}{path}", json=body, headers=self.headers | headers, timeout=15
        )
        assert response.is_success, response.text
        return response.json()

    def device_states(self, member_id: int) -> dict[str, str]:
        roster = self.call("GET", f"/roster/members/{member_id}")
        return {d["device"]: d["state"] for t in roster["agents"] for d in t["devices"]}

    def verified_everywhere(self, member_id: int) -> bool:
        return self.device_states(member_id) == dict.fromkeys(TERMINALS, "verified")


def terminals_up(cloud: Cloud) -> bool:
    status = cloud.call("GET", f"/agents/{AGENT_ID}").get("last_status") or {}
    devices = status.get("devices") or {}
    return status.get("state") == "online" and all(devices.get(t) == "up" for t in TERMINALS)


def users_on(state_dir: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """Each terminal's users by PIN, as its simulator saved them."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for device, sim in TERMINALS.items():
        users = (read_state(state_dir / f"{sim}.json") or {}).get("users", [])
        found[device] = {str(u.get("user_id") or u.get("pin") or u.get("employee_no")): u for u in users}
    return found


def on_every_terminal(state_dir: Path) -> bool:
    return all(PIN in users for users in users_on(state_dir).values())


def on_no_terminal(state_dir: Path) -> bool:
    return all(PIN not in users for users in users_on(state_dir).values())


def sign_lines(state_dir: Path) -> list[str]:
    return [str(line) for line in (read_state(state_dir / f"{SIGN}.json") or {}).get("showing", [])]


def retained_display(broker: Broker) -> bytes:
    message = subscribe.simple(  # type: ignore[no-untyped-call]
        sync.topic(AGENT_ID, sync.Channel.DISPLAY), hostname=broker.host, port=broker.port, retained=True
    )
    return bytes(message.payload)


def start_agent(group: ProcessGroup, name: str, tmp: Path, broker: Broker, state_dir: Path) -> None:
    config = tmp / "agent.toml"
    config.write_text(
        f"""agent_id = "{AGENT_ID}"
[mqtt]
url = "{broker.url}"
keepalive_s = 10
ack_timeout_s = 5
[outbox]
path = "{tmp / "outbox.db"}"
[observability]
enabled = false
"""
        + (state_dir / "agent-devices.toml").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    group.start(name, [str(BIN / "mpm-agent"), "run", "--config", str(config)])


def stop(group: ProcessGroup, name: str) -> None:
    child = group.children[name]
    child.send_signal(signal.SIGTERM)
    child.wait(timeout=30)


@pytest.mark.timeout(300)  # four phases through real processes; the roster's upkeep pass is every 30 s
def test_the_roster_reaches_every_terminal_and_an_offline_erasure_lands_on_reconnect(
    tmp_path: Path, broker: Broker
) -> None:
    site_file = tmp_path / "site.toml"
    site_file.write_text(
        SITE_FILE.read_text(encoding="utf-8").replace("ADMS_PORT", str(free_port())), "utf-8"
    )
    state_dir = tmp_path / "site"
    env = cloud_env(tmp_path / "cloud.db", broker.url)
    seeded = seed_demo(env, AGENT_ID, SIGN)
    with process_group(tmp_path / "logs") as group:
        start_site(group, site_file, state_dir)
        cloud = Cloud(start_cloud(group, env), str(seeded["token"]))
        start_agent(group, "agent", tmp_path, broker, state_dir)
        wait_for(lambda: terminals_up(cloud), timeout=60, what="the agent online with its terminals up")
        site = next(s["id"] for s in cloud.call("GET", "/sites") if s["name"] == "Demo site")
        crew = cloud.call("POST", "/departments", {"name": "Crew"})["id"]
        cloud.call("PUT", f"/roster/sites/{site}/links", {"department_ids": [crew]})

        # A new member of a department the site holds appears on every terminal of the site.
        dana = cloud.call(
            "POST", "/members", {"display_name": NAME, "pin": PIN, "card": CARD, "department_id": crew}
        )
        wait_for(lambda: on_every_terminal(state_dir), timeout=90, what="Dana on every terminal")
        wait_for(lambda: cloud.verified_everywhere(dana["id"]), timeout=60, what="verified on every device")
        users = users_on(state_dir)
        assert str(users["front-door"][PIN]["card"]) == CARD
        assert str(users["adms:SIMROSTER002"][PIN]["card"]) == CARD

        # A reconciliation reads the terminals: the stranger is a finding and stays where he is.
        cloud.call("POST", "/roster/reconcile")
        found = wait_for(lambda: cloud.call("GET", "/roster/findings"), timeout=60, what="a finding")
        assert [(f["device"], f["pin"], f["member_id"]) for f in found] == [("front-door", STRANGER, None)]
        assert STRANGER in users_on(state_dir)["front-door"]

        # Biometrics with consent, then the consent withdrawn: the card stays everywhere.
        consent = {"kind": "biometric", "granted": True, "notice_version": "2026-01", "actor": "self"}
        cloud.call("POST", f"/members/{dana['id']}/consents", consent)
        cloud.call("PUT", f"/roster/members/{dana['id']}/credentials", {"kinds": ["card", "face"]})
        cloud.call("POST", f"/members/{dana['id']}/consents", consent | {"granted": False})
        roster = cloud.call("GET", f"/roster/members/{dana['id']}")
        assert roster["agents"][0]["intended"]["credentials"] == ["card"]
        commands = cloud.call("GET", f"/agents/{AGENT_ID}/commands")
        assert [c["type"] for c in commands[:2]] == ["user_upsert", "user_delete"]  # newest first
        wait_for(lambda: cloud.verified_everywhere(dana["id"]), timeout=90, what="withdrawal verified")
        assert on_every_terminal(state_dir)
        assert str(users_on(state_dir)["front-door"][PIN]["card"]) == CARD

        # Dana leads the ranking on the sign.
        award = {"member_id": dana["id"], "point_type": "A", "points": 50, "reason": "roster test"}
        cloud.call("POST", "/ledger-entries", award, **{"Idempotency-Key": "roster-award"})
        wait_for(
            lambda: any(NAME in line for line in sign_lines(state_dir)), timeout=60, what="Dana on the sign"
        )
        assert NAME.encode() in retained_display(broker)  # control for the check after the erasure

        # Erased while the agent is offline: the request waits, the sign's content changes at once.
        stop(group, "agent")
        cloud.call("POST", f"/members/{dana['id']}/erase")
        [request] = [r for r in cloud.call("GET", "/roster/requests") if r["member_id"] == dana["id"]]
        assert request["state"] == "open"
        assert {(d["device"], d["state"]) for d in request["devices"]} == {(t, "pending") for t in TERMINALS}
        wait_for(
            lambda: NAME.encode() not in retained_display(broker), timeout=30, what="Dana off the content"
        )
        assert on_every_terminal(state_dir)  # control: nothing reached the terminals yet

        start_agent(group, "agent-again", tmp_path, broker, state_dir)
        url = f"/roster/requests/{request['id']}"
        closed = wait_for(
            lambda: (r := cloud.call("GET", url))["state"] == "closed" and r,
            timeout=120,
            what="request closed",
        )
        assert {(d["device"], d["state"]) for d in closed["devices"]} == {(t, "verified") for t in TERMINALS}
        assert on_no_terminal(state_dir)
        assert STRANGER in users_on(state_dir)["front-door"]  # a finding is never deleted
        wait_for(
            lambda: sign_lines(state_dir) and not any(NAME in x for x in sign_lines(state_dir)),
            timeout=60,
            what="Dana off the sign",
        )

        # The organisation leaves: Eve, on every terminal, is erased from each before anything is deleted.
        cloud.call("POST", "/members", {"display_name": "Eve", "pin": EVE_PIN, "department_id": crew})
        wait_for(lambda: holds_everywhere(state_dir, EVE_PIN), timeout=90, what="Eve on every terminal")
        leave = {"confirm_name": cloud.call("GET", "/org")["name"]}
        first = cloud.call("DELETE", "/org", leave)
        assert first["state"] == "erasing_devices"  # nothing deleted yet: the commands must reach the box
        report = wait_for(
            lambda: "deleted" in (answer := cloud.call("DELETE", "/org", leave)) and answer,
            timeout=120,
            what="every erasure verified, then the deletion report",
        )
        assert report["device_erasures_unconfirmed"] == 0
        assert report["deleted"]["member"] >= 2
        assert not any(EVE_PIN in users for users in users_on(state_dir).values())
        assert httpx.get(f"{cloud.api}/org", headers=cloud.headers, timeout=15).status_code == 401


def holds_everywhere(state_dir: Path, pin: str) -> bool:
    return all(pin in held for held in users_on(state_dir).values())

"""Issue 13's done-when for site configuration: a sign added to a site through the API appears on the
simulated site and shows the ranking, without touching the box; a bad inventory is refused with the
reason and the running one is kept.

Real parts: Mosquitto, the cloud with its ingest and publishers (SQLite and PostgreSQL), an
``mpm-agent run`` process whose agent.toml lists no devices, and the Alpha sign simulator on a pty.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from simulators.state_file import read_state
from tests.cloud import factories
from tests.cloud.fleet.processes import bare_agent_config
from tests.cloud.fleet.support import Site, site
from tests.e2e.processes import BIN, ProcessGroup, process_group, start_alpha_sign
from tests.support.broker import Broker
from tests.support.polling import async_wait_for

AGENT, SIGN = "inventory-site", "lobby"


def alpha_sign(tty: Path, columns: int = 20) -> dict[str, Any]:
    return {"kind": "alpha_sign", "name": SIGN, "port": str(tty), "columns": columns, "rows": 5}


async def inventory_status(acme: Site, status: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        answer = (await acme.get(f"/agents/{AGENT}/inventory")).json()
        return answer if answer["status"] == status else None

    return await async_wait_for(probe, timeout=30, what=f"inventory {status}")


async def test_a_sign_added_through_the_api_shows_the_ranking_and_a_bad_inventory_is_refused(
    cloud: FastAPI, broker: Broker, tmp_path: Path
) -> None:
    config = bare_agent_config(tmp_path, broker, AGENT)
    installed = config.read_text()
    transport = httpx.ASGITransport(app=cloud)
    async with httpx.AsyncClient(transport=transport, base_url="http://cloud.test") as client:
        acme = await site(cloud, client, AGENT)
        await award_alice(cloud, acme)
        display = {"agent_id": AGENT, "sign": SIGN, "point_type": "A", "size": 5, "title": "Top"}
        assert (await acme.send("POST", "/displays", display)).status_code == 201
        with process_group(tmp_path / "logs") as group:
            tty, sign_state = start_alpha_sign(group, tmp_path, "lobby-sign")
            group.start("agent", [str(BIN / "mpm-agent"), "run", "--config", str(config)])
            await fleet_online(acme, group)

            answer = await acme.send("PUT", f"/agents/{AGENT}/inventory", {"devices": [alpha_sign(tty)]})
            assert answer.status_code == 200, answer.text
            assert answer.json()["version"] == 1
            applied = await inventory_status(acme, "applied")
            assert applied["applied_version"] == 1
            assert "started: lobby" in applied["detail"]
            await shows(sign_state, "Alice", group)

            bad = await acme.send(
                "PUT", f"/agents/{AGENT}/inventory", {"devices": [alpha_sign(tty, columns=2)]}
            )
            assert bad.status_code == 200, bad.text  # the cloud cannot know a sign's limits; the agent does
            refused = await inventory_status(acme, "refused")
            assert refused["version"] == 2
            assert refused["applied_version"] == 1
            assert "columns" in refused["detail"]
            assert "still running inventory version 1" in refused["detail"]
            assert group.children["agent"].poll() is None
            await fleet_devices(acme, [(SIGN, "up")])
            await shows(sign_state, "Alice", group)

            emptied = await acme.send("PUT", f"/agents/{AGENT}/inventory", {"devices": []})
            assert emptied.json()["version"] == 3
            removed = await inventory_status(acme, "applied")
            assert (removed["version"], removed["applied_version"]) == (3, 3)
            assert "stopped: lobby" in removed["detail"]
            await fleet_devices(acme, [])
    assert config.read_text() == installed  # nothing on the box was edited


async def award_alice(cloud: FastAPI, acme: Site) -> None:
    async with cloud.state.sessions() as session:
        alice = await factories.member(session, acme.tenant.org_id, "Alice", pin="1")
        today = dt.datetime.now(dt.UTC).date()
        await factories.award(session, acme.tenant, alice.id, 5, today, "alice-1")
        await session.commit()


async def fleet_online(acme: Site, group: ProcessGroup) -> None:
    async def probe() -> bool:
        assert group.children["agent"].poll() is None, group.log_tail("agent")
        agents = (await acme.get("/fleet")).json()["agents"]
        return bool(agents[0]["online"])

    await async_wait_for(probe, timeout=30, what="the agent online")


async def fleet_devices(acme: Site, expected: list[tuple[str, str]]) -> None:
    async def probe() -> bool:
        devices = (await acme.get("/fleet")).json()["agents"][0]["devices"]
        return [(d["name"], d["state"]) for d in devices] == expected

    await async_wait_for(probe, timeout=30, what=f"the fleet view listing devices {expected}")


async def shows(sign_state: Path, text: str, group: ProcessGroup) -> None:
    async def probe() -> bool:
        assert group.children["agent"].poll() is None, group.log_tail("agent")
        state = read_state(sign_state) or {}
        return any(text in str(line) for line in state.get("showing", []))

    await async_wait_for(probe, timeout=30, what=f"the sign showing {text!r}")

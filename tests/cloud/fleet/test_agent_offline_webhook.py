"""A real agent process stops: its last will reaches the cloud through a real Mosquitto, and a local
HTTP endpoint receives the signed offline webhook after the (injected) five minutes; when the agent
comes back, the resolved one. Both database backends.

The agent is killed with SIGKILL, so no clean DISCONNECT is sent: the broker publishes the will.
"""

from __future__ import annotations

import datetime as dt
import signal
from pathlib import Path

import httpx
from fastapi import FastAPI

from cloud.fleet import verify
from tests.cloud.fleet.processes import bare_agent_config
from tests.cloud.fleet.support import Site, site
from tests.e2e.processes import BIN, process_group
from tests.support.broker import Broker
from tests.support.polling import async_wait_for
from tests.support.webhook_receiver import Receiver, webhook_receiver

AGENT = "fleet-site"


async def fleet_state(acme: Site, online: bool) -> None:
    async def probe() -> bool:
        agents = (await acme.get("/fleet")).json()["agents"]
        return bool(agents[0]["last_seen"]) and agents[0]["online"] is online

    await async_wait_for(probe, timeout=30, what=f"the fleet view showing {AGENT} online={online}")


async def test_a_stopped_agent_raises_the_offline_webhook_and_its_return_resolves_it(
    cloud: FastAPI, broker: Broker, tmp_path: Path
) -> None:
    config = bare_agent_config(tmp_path, broker, AGENT)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=cloud), base_url="http://cloud.test"
    ) as client:
        acme = await site(cloud, client, AGENT)
        with webhook_receiver() as receiver, process_group(tmp_path / "logs") as group:
            await acme.add_webhook(receiver.url)
            secret = await acme.secret()
            run = [str(BIN / "mpm-agent"), "run", "--config", str(config)]
            group.start("agent", run)
            await fleet_state(acme, online=True)

            group.children["agent"].send_signal(signal.SIGKILL)
            group.children["agent"].wait(timeout=10)
            await fleet_state(acme, online=False)  # the will, retained, through ingest
            offline_since = await acme.last_seen()
            await cloud.state.fleet_alerts.run_round()
            acme.clock.set(offline_since + dt.timedelta(minutes=4, seconds=59))
            await cloud.state.fleet_alerts.run_round()
            assert receiver.events() == []  # control: not before five minutes
            acme.clock.set(offline_since + dt.timedelta(minutes=5))
            await cloud.state.fleet_alerts.run_round()
            await async_wait_for(lambda: _events(receiver, ["raised"]), timeout=10, what="offline webhook")
            raised = receiver.received[0]
            assert verify(secret, raised.headers, raised.body, acme.clock())
            assert raised.json()["alert"]["rule"] == "agent_offline"
            assert raised.json()["alert"]["detail"]["reason"] == "offline"

            group.start("agent", run)
            await fleet_state(acme, online=True)
            await cloud.state.fleet_alerts.run_round()
            await async_wait_for(
                lambda: _events(receiver, ["raised", "resolved"]), timeout=10, what="resolved"
            )
            resolved = receiver.received[1]
            assert verify(secret, resolved.headers, resolved.body, acme.clock())
            assert resolved.json()["alert"]["id"] == raised.json()["alert"]["id"]


async def _events(receiver: Receiver, expected: list[str]) -> bool:
    return receiver.events() == expected

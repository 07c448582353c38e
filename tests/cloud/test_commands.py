"""Commands to agents through a real Mosquitto: queued → published on down/cmd → delivered →
succeeded when the agent's cmd_result event comes back through ingest."""

from __future__ import annotations

import asyncio
import datetime as dt

import aiomqtt
import httpx

from firmware_protocols import sync
from tests.cloud import events
from tests.cloud.test_ingest import AGENT, Rig, rig
from tests.support.broker import Broker
from tests.support.polling import async_wait_for

__all__ = ["rig"]  # the fixture, shared with the ingest tests


def result_event(cmd_id: str, ok: bool, detail: str) -> sync.Event:
    now = dt.datetime.now(dt.UTC)
    return sync.Event(
        id=events.uuid7(),
        seq=1,
        kind=sync.EventKind.CMD_RESULT.value,
        device="",
        occurred_at=now,
        device_time="",
        received_at=now,
        data=sync.CommandResult(cmd_id=cmd_id, ok=ok, detail=detail).to_data(),
    )


async def test_a_command_is_delivered_and_its_result_tracked(rig: Rig, broker: Broker) -> None:
    headers = {"Authorization": f"Bearer {rig.token}"}
    transport = httpx.ASGITransport(app=rig.app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://cloud.test") as http,
        aiomqtt.Client(broker.host, broker.port, identifier="agent-commands") as agent,
    ):
        await agent.subscribe(sync.topic(AGENT, sync.Channel.COMMAND), qos=1)
        queued = await http.post(
            f"/api/v1/agents/{AGENT}/commands", json={"type": "sync_time"}, headers=headers
        )
        assert queued.status_code == 201, queued.text
        cmd_id = queued.json()["cmd_id"]
        async with asyncio.timeout(10):
            message = await anext(aiter(agent.messages))
        assert isinstance(message.payload, bytes)
        command = sync.decode_command(message.payload)
        assert (command.cmd_id, command.type) == (cmd_id, "sync_time")

        async def status() -> str | None:
            body = (await http.get(f"/api/v1/agents/{AGENT}/commands/{cmd_id}", headers=headers)).json()
            return str(body["status"]) if body["status"] in ("delivered", "succeeded") else None

        assert await async_wait_for(status, timeout=10, what="delivered") in ("delivered", "succeeded")
        await rig.send(events.batch(result_event(cmd_id, True, "clock set on 1 device")))

        async def succeeded() -> dict[str, object] | None:
            body: dict[str, object] = (
                await http.get(f"/api/v1/agents/{AGENT}/commands/{cmd_id}", headers=headers)
            ).json()
            return body if body["status"] == "succeeded" else None

        done = await async_wait_for(succeeded, timeout=10, what="succeeded")
        assert done["detail"] == "clock set on 1 device"
        listed = (await http.get(f"/api/v1/agents/{AGENT}/commands", headers=headers)).json()
        assert [c["cmd_id"] for c in listed] == [cmd_id]

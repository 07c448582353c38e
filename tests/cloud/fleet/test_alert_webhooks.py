"""Alerts raised and resolved on an injected clock, delivered by signed webhooks to real HTTP endpoints.

Both database backends; statuses arrive through ingest's own handler; the endpoints are real HTTP
servers on loopback (tests/support/webhook_receiver.py). No sleeps: the clock is moved, rounds are
run by hand, and what an endpoint received is polled with a deadline.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from cloud.db.models import Agent
from cloud.fleet import MAX_ATTEMPTS, FleetAlerts, verify
from tests.cloud.fleet.support import OFFLINE, Site, online, site
from tests.support.polling import async_wait_for
from tests.support.webhook_receiver import Receiver, webhook_receiver


async def received(receiver: Receiver, events: list[str]) -> None:
    async def probe() -> bool:
        return receiver.events() == events

    await async_wait_for(probe, timeout=10, what=f"webhook events {events}")


async def round_at(acme: Site, at: dt.datetime | None = None) -> None:
    if at is not None:
        acme.clock.set(at)
    alerts: FleetAlerts = acme.app.state.fleet_alerts
    await alerts.run_round()


async def test_offline_alert_after_five_minutes_then_resolved(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    acme = await site(app, client)
    with webhook_receiver() as receiver:
        await acme.add_webhook(receiver.url)
        secret = await acme.secret()
        await acme.report(online())
        await acme.report(OFFLINE)
        offline_since = await acme.last_seen()

        await round_at(acme, offline_since + dt.timedelta(seconds=299))  # control: not yet
        assert await acme.alerts() == []
        await round_at(acme, offline_since + dt.timedelta(seconds=300))
        await received(receiver, ["raised"])

        raised = receiver.received[0]
        assert verify(secret, raised.headers, raised.body, acme.clock())
        assert not verify("another secret", raised.headers, raised.body, acme.clock())  # control
        assert not verify(secret, raised.headers, raised.body + b" ", acme.clock())  # body tampered
        alert = raised.json()["alert"]
        assert (alert["rule"], alert["agent_id"], alert["device"]) == ("agent_offline", "site-1", None)
        assert [a["rule"] for a in await acme.alerts()] == ["agent_offline"]
        assert (await acme.get("/fleet")).json()["agents"][0]["open_alerts"][0]["rule"] == "agent_offline"

        await round_at(acme)  # still offline: nothing new
        await acme.report(online())
        await round_at(acme)
        await received(receiver, ["raised", "resolved"])
        resolved = receiver.received[1]
        assert verify(secret, resolved.headers, resolved.body, acme.clock())
        assert resolved.json()["alert"]["id"] == alert["id"]
        assert resolved.json()["alert"]["resolved_at"] is not None
    assert await acme.alerts() == []
    assert [a["resolved_at"] is not None for a in await acme.alerts("all")] == [True]


async def test_the_offline_threshold_is_configurable(app: FastAPI, client: httpx.AsyncClient) -> None:
    acme = await site(app, client)
    rules = (await acme.get("/fleet/alert-rules")).json() | {"agent_offline_after_s": 600}
    assert (await acme.send("PUT", "/fleet/alert-rules", rules)).status_code == 200
    await acme.report(OFFLINE)
    since = await acme.last_seen()

    await round_at(acme, since + dt.timedelta(seconds=599))
    assert await acme.alerts() == []
    await round_at(acme, since + dt.timedelta(seconds=600))
    assert [a["rule"] for a in await acme.alerts()] == ["agent_offline"]


async def expire_certificate_at(app: FastAPI, at: dt.datetime) -> None:
    async with app.state.sessions() as session:
        await session.execute(update(Agent).values(cert_expires_at=at))
        await session.commit()


async def test_backlog_device_and_certificate_alerts(app: FastAPI, client: httpx.AsyncClient) -> None:
    acme = await site(app, client)
    await expire_certificate_at(app, acme.clock() + dt.timedelta(days=30, seconds=1))
    await acme.report(online(oldest_unacked_age_s=899.0, devices={"door": "down", "sign": "up"}))
    await round_at(acme)
    assert [(a["rule"], a["device"]) for a in await acme.alerts()] == [("device_down", "door")]

    await expire_certificate_at(app, acme.clock() + dt.timedelta(days=30))
    await acme.report(online(oldest_unacked_age_s=900.0, devices={"door": "up", "sign": "up"}))
    await round_at(acme)
    assert sorted(a["rule"] for a in await acme.alerts()) == ["backlog_old", "cert_expiring"]
    assert [a["rule"] for a in await acme.alerts("all") if a["resolved_at"]] == ["device_down"]


async def test_a_failed_delivery_is_retried_with_backoff_in_order(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    acme = await site(app, client)
    with webhook_receiver(statuses=[500, 503]) as receiver:
        hook = await acme.add_webhook(receiver.url)
        await acme.report(OFFLINE)
        start = await acme.last_seen() + dt.timedelta(seconds=300)
        await round_at(acme, start)
        await received(receiver, ["raised"])  # answered 500
        await acme.report(online())
        await round_at(acme, start + dt.timedelta(seconds=29))  # resolved, but the retry is not due
        assert receiver.events() == ["raised"]
        await round_at(acme, start + dt.timedelta(seconds=30))  # second try: 503
        await received(receiver, ["raised", "raised"])
        await round_at(acme, start + dt.timedelta(seconds=89))
        assert receiver.events() == ["raised", "raised"]
        await round_at(acme, start + dt.timedelta(seconds=90))  # third try delivered
        await received(receiver, ["raised", "raised", "raised"])
        await round_at(acme)  # then the resolve, never before its raise
        await received(receiver, ["raised", "raised", "raised", "resolved"])
        ids = {r.headers["X-MPM-Delivery"] for r in receiver.received[:3]}
        assert len(ids) == 1  # one delivery, retried
    deliveries = (await acme.get(f"/fleet/webhooks/{hook}/deliveries")).json()
    assert [(d["event"], d["attempts"], d["done"]) for d in deliveries] == [
        ("resolved", 1, True),
        ("raised", 3, True),
    ]
    assert deliveries[1]["delivered_at"] is not None


async def test_a_delivery_is_given_up_after_its_last_attempt(app: FastAPI, client: httpx.AsyncClient) -> None:
    acme = await site(app, client)
    with webhook_receiver(statuses=[500] * (MAX_ATTEMPTS + 1)) as receiver:
        hook = await acme.add_webhook(receiver.url)
        await acme.report(OFFLINE)
        await round_at(acme, await acme.last_seen() + dt.timedelta(seconds=300))
        for attempt in range(2, MAX_ATTEMPTS + 2):
            await received(receiver, ["raised"] * (attempt - 1))
            await round_at(acme, acme.clock() + dt.timedelta(hours=1))
        assert receiver.events() == ["raised"] * MAX_ATTEMPTS  # not one more
    (delivery,) = (await acme.get(f"/fleet/webhooks/{hook}/deliveries")).json()
    assert (delivery["attempts"], delivery["done"], delivery["delivered_at"]) == (MAX_ATTEMPTS, True, None)
    assert delivery["last_error"] == "HTTP 500"


async def test_a_stuck_endpoint_never_holds_up_another(app: FastAPI, client: httpx.AsyncClient) -> None:
    acme = await site(app, client)
    app.state.fleet_alerts.attempt_timeout_s = 0.5
    with webhook_receiver(hang=True) as stuck, webhook_receiver() as healthy:
        stuck_hook = await acme.add_webhook(stuck.url)
        healthy_hook = await acme.add_webhook(healthy.url)
        await acme.report(OFFLINE)
        await round_at(acme, await acme.last_seen() + dt.timedelta(seconds=300))
        await received(healthy, ["raised"])
    (stuck_delivery,) = (await acme.get(f"/fleet/webhooks/{stuck_hook}/deliveries")).json()
    (healthy_delivery,) = (await acme.get(f"/fleet/webhooks/{healthy_hook}/deliveries")).json()
    assert (healthy_delivery["done"], healthy_delivery["attempts"]) == (True, 1)
    assert (stuck_delivery["done"], stuck_delivery["attempts"]) == (False, 1)
    assert stuck_delivery["last_error"].startswith("TimeoutError")


async def test_two_cloud_workers_raise_and_send_an_alert_once(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    acme = await site(app, client)
    with webhook_receiver(statuses=[500], delay_s=0.5) as receiver:
        hook = await acme.add_webhook(receiver.url)
        await acme.report(OFFLINE)
        acme.clock.set(await acme.last_seen() + dt.timedelta(seconds=300))
        workers = [FleetAlerts(app.state.sessions, clock=acme.clock) for _ in range(2)]
        for _ in range(2):  # a worker that lost the race to insert the alert fails its round, then agrees
            await asyncio.gather(*(w.run_round() for w in workers), return_exceptions=True)
        await received(receiver, ["raised"])  # answered 500: to be retried in 30 s
        acme.clock.advance(30)
        await asyncio.gather(*(w.run_round() for w in workers))  # both find the retry due at once
        await asyncio.gather(*(w.run_round() for w in workers))
        assert receiver.events() == ["raised", "raised"]  # the retry was sent once
    assert [a["rule"] for a in await acme.alerts()] == ["agent_offline"]
    (delivery,) = (await acme.get(f"/fleet/webhooks/{hook}/deliveries")).json()
    assert (delivery["attempts"], delivery["done"]) == (2, True)

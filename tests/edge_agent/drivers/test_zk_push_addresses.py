"""zk_push: each terminal is bound to its address (configured or first seen, remembered across restarts);
a post for its SN from another address gets 403, is counted and raises one ``device_alert`` event."""

from __future__ import annotations

import asyncio
import http.client
import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pydantic import ValidationError

from edge_agent.drivers.zk_push.config import ZkPushConfig
from firmware_protocols.sync import EventKind
from tests.edge_agent.drivers.zk_push_support import SN, MemorySink, running_driver

PUNCH_LINE = b"1001\t2024-01-02 08:30:00\t0\t15\t0\t0\t0\n"


def post_punch(url: str, source: str, pin: str = "1001") -> int:
    """One ATTLOG upload for ``SN`` from loopback address ``source``; the HTTP status."""
    port = urlsplit(url).port
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5, source_address=(source, 0))
    try:
        body = PUNCH_LINE.replace(b"1001", pin.encode())
        connection.request("POST", f"/iclock/cdata?SN={SN}&table=ATTLOG&Stamp=1", body=body)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def alerts(sink: MemorySink) -> list[dict[str, object]]:
    return [dict(e.data) for e in sink.events if e.kind is EventKind.DEVICE_ALERT]


async def test_first_seen_address_binds_the_terminal_and_another_is_refused_with_one_alert() -> None:
    async with running_driver() as run:
        assert await asyncio.to_thread(post_punch, run.url, "127.0.0.1") == 200
        assert await asyncio.to_thread(post_punch, run.url, "127.0.0.2", "666") == 403
        assert await asyncio.to_thread(post_punch, run.url, "127.0.0.2", "667") == 403
        assert run.driver.metrics["wrong_address"] == 2
        assert run.driver.lan_counters()["wrong_address"] == 2
        assert alerts(run.sink) == [
            {"alert": "wrong_address", "sn": SN, "address": "127.0.0.2", "expected": "127.0.0.1"}
        ]  # one alert per SN, address and hour, however many posts
        assert await asyncio.to_thread(post_punch, run.url, "127.0.0.1", "1002") == 200  # control
        pins = [e.data["pin"] for e in run.sink.events if e.kind is EventKind.PUNCH]
        assert pins == ["1001", "1002"]  # nothing from the impostor


async def test_a_configured_address_is_the_binding_from_the_first_request() -> None:
    async with running_driver(addresses={SN: "127.0.0.3"}) as run:
        assert await asyncio.to_thread(post_punch, run.url, "127.0.0.1") == 403
        assert await asyncio.to_thread(post_punch, run.url, "127.0.0.3") == 200
        assert alerts(run.sink)[0]["expected"] == "127.0.0.3"


async def test_a_first_seen_binding_survives_a_restart(tmp_path: Path) -> None:
    async with running_driver(state_dir=tmp_path) as run:
        assert await asyncio.to_thread(post_punch, run.url, "127.0.0.4") == 200
    book = tmp_path / "zk_push-gate.addresses.json"
    assert json.loads(book.read_text()) == {SN: "127.0.0.4"}
    assert book.stat().st_mode & 0o777 == 0o600
    async with running_driver(state_dir=tmp_path) as run:  # the agent restarted
        assert await asyncio.to_thread(post_punch, run.url, "127.0.0.1") == 403
        assert await asyncio.to_thread(post_punch, run.url, "127.0.0.4") == 200
    (tmp_path / "fresh").mkdir()
    async with running_driver(state_dir=tmp_path / "fresh") as run:  # control: no memory, binds anew
        assert await asyncio.to_thread(post_punch, run.url, "127.0.0.1") == 200


async def test_an_unreadable_binding_file_is_logged_and_the_terminal_rebinds(tmp_path: Path) -> None:
    (tmp_path / "zk_push-gate.addresses.json").write_text("{not json")
    async with running_driver(state_dir=tmp_path) as run:
        assert await asyncio.to_thread(post_punch, run.url, "127.0.0.5") == 200
    assert json.loads((tmp_path / "zk_push-gate.addresses.json").read_text()) == {SN: "127.0.0.5"}


@pytest.mark.parametrize(
    ("addresses", "message"),
    [
        ({SN: "192.168.1.300"}, "does not appear to be an IPv4 or IPv6 address"),
        ({"OTHER": "10.0.0.1"}, "OTHER"),
    ],
)
def test_configured_addresses_must_be_addresses_of_served_terminals(
    addresses: dict[str, str], message: str
) -> None:
    entry = {"kind": "zk_push", "name": "gate", "listen_host": "0.0.0.0", "allowed_serials": [SN]}
    with pytest.raises(ValidationError, match=message):
        ZkPushConfig.model_validate(entry | {"addresses": addresses})
    assert ZkPushConfig.model_validate(entry | {"addresses": {SN: "192.168.1.20"}}).addresses == {
        SN: "192.168.1.20"
    }

"""Third-party proof: hikvisionapi 0.3.2 (requests, Basic → Digest fallback) against our ISAPI simulator.

The client lives in its own ``pip --target`` directory and runs in a subprocess (PROTOCOLS.md §4, §7.9:
``present='text'`` for JSON endpoints, since the default runs xmltodict on the body).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from simulators.isapi_face import IsapiFaceSimulator
from tests.clients.client_envs import ensure_client_env, run_client

USER, PASSWORD = "admin", "hik-pw-123"

SCRIPT = """
import json, sys
from hikvisionapi import Client
api = Client(sys.argv[1], sys.argv[2], sys.argv[3])
info = api.System.deviceInfo(method='get')
cond = {'AcsEventCond': {'searchID': 'proof', 'searchResultPosition': 0, 'maxResults': 30,
                         'major': 5, 'minor': 0}}
text = api.AccessControl.AcsEvent(method='post', params={'format': 'json'}, json=cond, present='text')
print(json.dumps({'auth': type(api.req.auth).__name__, 'info': info, 'events': json.loads(text)}))
"""


@pytest.fixture
def sim() -> Iterator[IsapiFaceSimulator]:
    with IsapiFaceSimulator(username=USER, password=PASSWORD) as running:
        yield running


def test_hikvisionapi_reads_device_info_and_acs_events(sim: IsapiFaceSimulator) -> None:
    env = ensure_client_env("hikvisionapi", "hikvisionapi==0.3.2")
    punched = [
        sim.punch("1001"),
        sim.punch("1002", minor=1, verify_mode="card", attendance_status="checkOut"),
    ]
    result = run_client(env, SCRIPT, sim.url, USER, PASSWORD)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["auth"] == "HTTPDigestAuth"  # Basic was answered 401, the client fell back to Digest
    assert out["info"]["DeviceInfo"]["serialNumber"] == sim.info.serial_number
    acs = out["events"]["AcsEvent"]
    assert (acs["responseStatusStrg"], acs["numOfMatches"], acs["totalMatches"]) == ("OK", 2, 2)
    assert [(e["employeeNoString"], e["serialNo"], e["minor"], e["time"]) for e in acs["InfoList"]] == [
        (p.employee_id, p.serial_no, p.minor, p.time) for p in punched
    ]
    assert sim.terminal.counters.challenges >= 1


def test_hikvisionapi_fails_with_a_wrong_password(sim: IsapiFaceSimulator) -> None:
    """Control: the proof above depends on the simulator really checking the Digest answer."""
    env = ensure_client_env("hikvisionapi", "hikvisionapi==0.3.2")
    result = run_client(env, SCRIPT, sim.url, USER, "wrong")
    assert result.returncode != 0
    assert "401" in result.stderr

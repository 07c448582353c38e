"""Third-party proof: pyalphasign 0.1.0 and alphasignpy 0.1.1 drive our Alpha sign simulator over a pty.

Each client lives in its own ``pip --target`` directory (they clash on ``alphasign``) and runs in a
subprocess; the simulator runs as ``mpm-sim alpha-sign --pty``. We assert on the simulator's state.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.clients.client_envs import ensure_client_env, run_client
from tests.simulators.alpha_sign.running import RunningSign, running_sign

PYALPHASIGN = """
import sys
from alphasign import AlphaSign, Easy, Sign
from alphasign.packet import Packet
from alphasign.command import Command

AlphaSign(port=sys.argv[1])
Easy.Text.show("Hello")                       # priority file 0, no checksum
packet = Packet()
command = Command.write_text("TOP10", label="A", position=" ", mode="b")
command.checksum = True
packet.add_command(command)
Sign().send(packet)
# The same frame with a wrong checksum (control: the sign must drop it).
wire = packet.to_bytes().replace(b"\\xff", b"").replace(b"TOP10", b"TOP99")
Sign().send(wire)
"""

ALPHASIGNPY = """
import json, sys
import serial.serialposix
serial.serialposix.Serial._update_dtr_state = lambda self: None   # a pty has no DTR (PROTOCOLS.md §6)
from alphasign import Packet, ReadText, Sign, WriteSpecialFunction, WriteText, parse_read_text_response
from alphasign.protocol import DisplayMode, FileType

sign = Sign()
sign.open(sys.argv[1])
sign.send(Packet().add(WriteSpecialFunction.configure_memory([
    {"label": "A", "type": FileType.TEXT, "size": 256},
    {"label": "B", "type": FileType.TEXT, "size": 64},
])))
sign.send(Packet().add(WriteText("Hello from B", label="B", mode=DisplayMode.HOLD)))
sign.send(Packet().add(WriteText("Front page", label="A", mode=DisplayMode.ROTATE)))
sign.send(Packet().add(ReadText("B")))
response = sign.read_response(raise_on_timeout=True)
label, position, mode, message = parse_read_text_response(response)
print(json.dumps({"label": label, "mode": mode.name, "message": message.decode(), "raw": response.hex()}))
"""


@pytest.fixture
def sign(tmp_path: Path) -> Iterator[RunningSign]:
    with running_sign(tmp_path) as running:
        yield running


def test_pyalphasign_writes_text_with_and_without_checksum(sign: RunningSign) -> None:
    env = ensure_client_env("pyalphasign", "pyalphasign==0.1.0")
    result = run_client(env, PYALPHASIGN, str(sign.link))
    assert result.returncode == 0, result.stderr
    state = sign.wait_state(lambda s: s["counters"].get("checksum_errors"), what="the corrupted frame")
    assert state["files"]["0"] == {"position": "0", "mode": "a", "special": None, "text": "Hello"}
    assert state["files"]["A"] == {"position": " ", "mode": "b", "special": None, "text": "TOP10"}
    counters = state["counters"]
    assert (counters["with_checksum"], counters["without_checksum"], counters["checksum_errors"]) == (1, 1, 1)
    assert state["showing"] == ["Hello"]  # the priority file wins over A


def test_alphasignpy_configures_memory_writes_and_reads_back(sign: RunningSign) -> None:
    env = ensure_client_env("alphasignpy", "alphasignpy==0.1.1")
    result = run_client(env, ALPHASIGNPY, str(sign.link))
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert (answer["label"], answer["mode"], answer["message"]) == ("B", "HOLD", "Hello from B")
    assert bytes.fromhex(answer["raw"]).startswith(b"\x00" * 20 + b"\x01000\x02AB\x1b")
    state = sign.state()
    assert [(e["label"], e["type"], e["size"]) for e in state["memory_configuration"]] == [
        ("A", "A", 256),
        ("B", "A", 64),
    ]
    assert state["files"]["B"]["text"] == "Hello from B"
    assert state["showing"] == ["Front page"]
    assert state["counters"]["with_checksum"] == 4
    assert state["counters"]["responses"] == 1

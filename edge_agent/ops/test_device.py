"""``mpm-agent test-device NAME --once``: one harmless exchange with a configured device, answer shown.

Per kind (a table below), through the drivers' own clients so what works here works in the agent:
zkteco: connect, firmware version, serial number, clock; alpha_sign: read-special of the memory
configuration (a one-way RS-485 line never answers: that is reported, with the hint); modbus_led: read
the version register; isapi_face: deviceInfo; zk_push: the URL the terminals must use, whether the
agent is listening there, and each terminal's state from the running agent's ``/metrics``.
Output: one line ``ok|FAIL  name (kind target): answer``; ``--json`` one object. Exit 0 or 1; an
unknown name or a bad configuration is one FAIL line too (exit 78, as every sub-command).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import socket
import sys
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, TextIO

from edge_agent.config import EX_CONFIG, AnyDeviceConfig, ConfigError, load_config
from edge_agent.drivers.alpha_sign.config import AlphaSignConfig
from edge_agent.drivers.isapi.config import IsapiFaceConfig
from edge_agent.drivers.modbus_led.config import ModbusLedConfig
from edge_agent.drivers.zk_push.config import ZkPushConfig
from edge_agent.drivers.zkteco.config import ZkTerminalConfig

__all__ = ["PROBES", "DeviceAnswer", "add_test_device_command", "cmd_test_device", "probe_device"]

EX_FAILED: Final = 1
Answer = dict[str, str]


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class DeviceAnswer:
    device: str
    kind: str
    target: str
    ok: bool
    answer: Mapping[str, str]
    error: str | None = None

    def line(self) -> str:
        """``ok      name (kind target): key=value, …`` or ``FAIL    name (…): error``."""
        text = ", ".join(f"{k}={v}" for k, v in self.answer.items()) if self.ok else self.error
        return f"{'ok' if self.ok else 'FAIL':<8}{self.device} ({self.kind} {self.target}): {text}\n"

    def to_json(self) -> dict[str, object]:
        return dataclasses.asdict(self) | {"answer": dict(self.answer)}


# --- probes, one per kind ------------------------------------------------------------------


async def probe_zkteco(config: ZkTerminalConfig) -> Answer:
    """Connect, then firmware version, serial number and the terminal's clock."""
    from edge_agent.drivers.zkteco.client import ZkClient

    client = await ZkClient.open(
        config.host, config.port, transport=config.transport, request_timeout_s=config.timeout_s
    )
    async with client:
        await client.connect(config.comm_key)
        return {
            "firmware": await client.firmware_version(),
            "serial": await client.serial_number(),
            "time": str(await client.get_time()),
        }


async def probe_alpha_sign(config: AlphaSignConfig) -> Answer:
    """Ask for the memory configuration (read-special ``$``); changes nothing on the sign."""
    from edge_agent.transport.serial import open_serial
    from firmware_protocols.alpha_sign import Decoder, MemoryConfiguration, Packet, ReadSpecial, encode_packet
    from firmware_protocols.alpha_sign.constants import MEMORY_CONFIGURATION
    from firmware_protocols.errors import NEED_DATA

    stream = await open_serial(
        config.port, baudrate=config.baudrate, bytesize=config.bytesize, parity=config.parity,
        stopbits=config.stopbits,
    )  # fmt: skip
    request = Packet(commands=(ReadSpecial(code=MEMORY_CONFIGURATION),), address=config.address.upper())
    decoder = Decoder()
    try:
        await stream.write(encode_packet(request))
        async with asyncio.timeout(config.timeout_s):
            while (reply := decoder.next_message()) is NEED_DATA:
                decoder.feed(await stream.read())
    except TimeoutError:
        raise TimeoutError(
            f"no answer in {config.timeout_s:.0f} s (a one-way RS-485 line never answers)"
        ) from None
    finally:
        await stream.aclose()
    assert isinstance(reply, Packet)
    command = reply.commands[0] if reply.commands else None
    if isinstance(command, MemoryConfiguration):
        files = ",".join(f"{e.label}:{e.file_type}" for e in command.entries) or "none"
        return {"memory_files": files}
    return {"answer": type(command).__name__}


async def probe_modbus_led(config: ModbusLedConfig) -> Answer:
    """Read the version register (FC03) of the configured unit."""
    from edge_agent.drivers.modbus_led.bus import ModbusBus
    from firmware_protocols.modbus_led import PROFILES, decode_unsigned

    profile = PROFILES[config.profile]
    bus = ModbusBus(config)
    try:
        words = await bus.read(config.unit, profile.version, profile.version_registers)
    finally:
        bus.close()
    return {"unit": str(config.unit), "version": str(decode_unsigned(words, profile.word_order))}


async def probe_isapi_face(config: IsapiFaceConfig) -> Answer:
    """``GET /ISAPI/System/deviceInfo`` with the configured Digest credentials."""
    from edge_agent.drivers.isapi.client import IsapiClient

    async with IsapiClient(config) as client:
        info = await client.device_info()
    return {"model": info.model, "serial": info.serial_number, "firmware": info.firmware_version}


def _terminal_states(config: ZkPushConfig, metrics_url: str) -> Answer:
    import urllib.request  # http.client and email: only for this probe, never in the running agent

    try:
        with urllib.request.urlopen(metrics_url, timeout=2) as reply:
            text = reply.read().decode()
    except OSError:
        return {sn: "unknown (agent metrics unreachable)" for sn in config.allowed_serials}
    states = {}
    for sn in config.allowed_serials:
        wanted = f'mpm_device_up{{device="{config.device_name(sn)}"}} '
        value = next(
            (line.removeprefix(wanted) for line in text.splitlines() if line.startswith(wanted)), None
        )
        states[sn] = {"1": "polling", "0": "not polling"}.get(value or "", "never seen")
    return states


async def probe_zk_push(config: ZkPushConfig, metrics_url: str) -> Answer:
    """The URL terminals must use; the agent must be listening there (else FAIL)."""
    wildcard = config.listen_host in ("0.0.0.0", "::", "")
    shown = "<this box's LAN address>" if wildcard else config.listen_host
    probe_host = "127.0.0.1" if wildcard else config.listen_host
    try:
        await asyncio.to_thread(socket.create_connection((probe_host, config.listen_port), 2).close)
    except OSError as error:
        raise ConnectionError(
            f"nothing listens on {probe_host}:{config.listen_port} (is the agent running?): {error.strerror}"
        ) from None
    answer = {"server_url": f"http://{shown}:{config.listen_port}/iclock/cdata"}
    return answer | await asyncio.to_thread(_terminal_states, config, metrics_url)


def _target(config: AnyDeviceConfig) -> str:
    match config:
        case ZkTerminalConfig():
            return f"{config.transport}://{config.host}:{config.port}"
        case AlphaSignConfig():
            return config.port
        case ModbusLedConfig():
            return config.port or f"tcp://{config.host}:{config.tcp_port}"
        case IsapiFaceConfig():
            return config.base_url
        case ZkPushConfig():
            return f"listen {config.listen_host}:{config.listen_port}"


Probe = Callable[[Any, str], Awaitable[Answer]]

PROBES: Final[Mapping[str, Probe]] = {
    "zkteco": lambda config, _metrics: probe_zkteco(config),
    "alpha_sign": lambda config, _metrics: probe_alpha_sign(config),
    "modbus_led": lambda config, _metrics: probe_modbus_led(config),
    "isapi_face": lambda config, _metrics: probe_isapi_face(config),
    "zk_push": probe_zk_push,
}


async def probe_device(config: AnyDeviceConfig, *, metrics_url: str, bound_s: float = 30.0) -> DeviceAnswer:
    """Run the kind's probe once, bounded by ``bound_s``; every failure becomes ``ok=False``."""
    base = {"device": config.name, "kind": config.kind, "target": _target(config)}
    try:
        async with asyncio.timeout(bound_s):
            answer = await PROBES[config.kind](config, metrics_url)
    except Exception as error:  # the one place device failures of every kind are translated
        detail = str(error) or "timed out"
        return DeviceAnswer(**base, ok=False, answer={}, error=f"{type(error).__name__}: {detail}")
    return DeviceAnswer(**base, ok=True, answer=answer)


def _write(out: TextIO, args: argparse.Namespace, result: DeviceAnswer) -> None:
    out.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n" if args.json else result.line())


def cmd_test_device(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Load the configuration, find the device, probe it once, print the answer; 0, 1 or 78."""
    stream = out or sys.stdout
    try:
        config = load_config(args.config, environ=os.environ, overrides=args.set)
    except ConfigError as error:
        failed = DeviceAnswer(device=args.name, kind="?", target="config", ok=False, answer={},
                              error=str(error).replace("\n", "; "))  # fmt: skip
        _write(stream, args, failed)
        return EX_CONFIG
    device = next((d for d in config.devices if d.name == args.name), None)
    if device is None:
        names = ", ".join(d.name for d in config.devices) or "none"
        missing = DeviceAnswer(device=args.name, kind="?", target="config", ok=False, answer={},
                               error=f"no device named {args.name!r} (configured: {names})")  # fmt: skip
        _write(stream, args, missing)
        return EX_CONFIG
    observability = config.observability
    metrics_url = f"http://{observability.host}:{observability.port}/metrics"
    result = asyncio.run(probe_device(device, metrics_url=metrics_url))
    _write(stream, args, result)
    return 0 if result.ok else EX_FAILED


def add_test_device_command(
    commands: argparse._SubParsersAction[Any], config_options: Callable[[Any], None]
) -> None:
    """Add ``test-device NAME [--once] [--json]`` to the ``mpm-agent`` sub-commands."""
    parser = commands.add_parser("test-device", help="one harmless exchange with a configured device")
    config_options(parser)
    parser.add_argument("name", help="the device's name in the inventory")
    parser.add_argument("--once", action="store_true", help="one exchange, then exit (the only mode)")
    parser.add_argument("--json", action="store_true", help="one JSON object")
    parser.set_defaults(handler=cmd_test_device)

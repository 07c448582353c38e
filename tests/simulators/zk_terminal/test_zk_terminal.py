"""The simulator survives what real networks and clients do, and its state file tells the truth."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import socket
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from firmware_protocols import NEED_DATA
from firmware_protocols.zkteco import (
    Command,
    Packet,
    ReadBufferRequest,
    TcpDecoder,
    decode_buffer_info,
    decode_datagram,
    decode_realtime,
    decode_time,
    decode_user72,
    encode_packet,
    encode_read_buffer,
    encode_tcp,
    encode_time,
    make_commkey,
)
from simulators.zk_terminal import ZkTerminal, load_users
from simulators.zk_terminal.faults import parse_fault
from tests.support.network import free_port
from tests.support.polling import async_wait_for


class RawTcpClient:
    """A minimal hand-driven 4370 client: exact bytes out, decoded packets in."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.decoder = TcpDecoder()
        self.session = 0
        self.reply = 0

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def request(self, command: int, data: bytes = b"") -> Packet:
        self.reply = (self.reply + 1) & 0xFFFF
        packet = Packet(command=command, session_id=self.session, reply_id=self.reply, data=data)
        await self.send_raw(encode_tcp(packet))
        return await self.receive()

    async def receive(self) -> Packet:
        async with asyncio.timeout(5):
            while (packet := self.decoder.next_message()) is NEED_DATA:
                chunk = await self.reader.read(65536)
                assert chunk, "simulator closed the connection"
                self.decoder.feed(chunk)
        assert isinstance(packet, Packet)
        assert packet.checksum_ok
        return packet

    async def connect(self) -> Packet:
        reply = await self.request(Command.CONNECT)
        self.session = reply.session_id
        return reply

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


@pytest.fixture
async def terminal(tmp_path: Path) -> AsyncIterator[ZkTerminal]:
    async with ZkTerminal(port=free_port(), records=3, state_file=tmp_path / "state.json") as running:
        yield running


async def _client(terminal: ZkTerminal) -> RawTcpClient:
    reader, writer = await asyncio.open_connection("127.0.0.1", terminal.port)
    return RawTcpClient(reader, writer)


async def test_empty_probe_connection_then_a_session(terminal: ZkTerminal) -> None:
    probe = await _client(terminal)
    await probe.close()
    client = await _client(terminal)
    assert (await client.connect()).command == Command.ACK_OK
    assert (await client.request(Command.GET_VERSION)).data == b"Ver 6.60 Apr 28 2017\0"
    await client.close()


async def test_split_frames_garbage_and_bad_checksums_are_survived(terminal: ZkTerminal) -> None:
    client = await _client(terminal)
    await client.connect()
    frame = encode_tcp(Packet(command=Command.GET_TIME, session_id=client.session, reply_id=77))
    for i in range(len(frame)):  # one byte per write: the stream is split everywhere
        await client.send_raw(frame[i : i + 1])
    assert (await client.receive()).reply_id == 77
    await client.send_raw(b"\x00garbage\x50\x50" + frame)
    assert (await client.receive()).reply_id == 77
    assert terminal.garbage_bytes == 10
    bad = bytearray(frame)
    bad[10] ^= 0x55  # checksum field
    await client.send_raw(bytes(bad))
    reply = await client.receive()
    assert reply.command == Command.ACK_OK
    assert terminal.bad_checksums == 1
    await client.close()


async def test_comm_key_auth(tmp_path: Path) -> None:
    async with ZkTerminal(port=free_port(), comm_key=12345) as terminal:
        client = await _client(terminal)
        assert (await client.connect()).command == Command.ACK_UNAUTH
        assert (await client.request(Command.GET_TIME)).command == Command.ACK_UNAUTH
        wrong = await client.request(Command.AUTH, make_commkey(1, client.session))
        assert wrong.command == Command.ACK_UNAUTH
        right = await client.request(Command.AUTH, make_commkey(12345, client.session))
        assert right.command == Command.ACK_OK
        assert (await client.request(Command.GET_TIME)).command == Command.ACK_OK
        await client.close()


async def test_set_time_is_visible_in_get_time(terminal: ZkTerminal) -> None:
    client = await _client(terminal)
    await client.connect()
    when = dt.datetime(2024, 5, 6, 8, 59)  # noqa: DTZ001 - device local time
    await client.request(Command.SET_TIME, struct.pack("<I", encode_time(when)))
    got = decode_time(int.from_bytes((await client.request(Command.GET_TIME)).data, "little"))
    assert dt.timedelta(0) <= got - when <= dt.timedelta(seconds=2)
    await client.close()


async def test_client_vanishing_mid_transfer_leaves_the_terminal_serving(tmp_path: Path) -> None:
    async with ZkTerminal(port=free_port(), records=2000) as terminal:
        client = await _client(terminal)
        await client.connect()
        info = await client.request(Command.DATA_WRRQ, encode_read_buffer(ReadBufferRequest(command=13)))
        assert decode_buffer_info(info.data) == 2000 * 40 + 4
        await client.send_raw(encode_tcp(Packet(command=Command.DATA_RDY, session_id=client.session,
                                                data=struct.pack("<ii", 0, 0xFFC0))))  # fmt: skip
        client.writer.transport.abort()  # gone without reading the 64 KiB answer
        again = await _client(terminal)
        assert (await again.connect()).command == Command.ACK_OK
        await again.close()


async def test_realtime_event_reaches_registered_clients_only(terminal: ZkTerminal) -> None:
    listener, bystander = await _client(terminal), await _client(terminal)
    await listener.connect()
    await bystander.connect()
    await listener.request(Command.REG_EVENT, struct.pack("<I", 1))
    await terminal.punch("2", state=1, verify=15)
    event = await listener.receive()
    assert (event.command, event.session_id, event.reply_id, len(event.data)) == (500, 1, 0, 32)
    realtime = decode_realtime(event.data)
    assert (realtime.user_id, realtime.verify, realtime.state) == ("2", 15, 1)
    assert (await bystander.request(Command.GET_TIME)).command == Command.ACK_OK  # nothing queued before it
    await listener.close()
    await bystander.close()


async def test_state_file_follows_changes(terminal: ZkTerminal) -> None:
    assert terminal.state_file is not None
    await terminal.punch("1", when=dt.datetime(2024, 5, 6, 8, 59), state=0, verify=1)  # noqa: DTZ001
    state = json.loads(terminal.state_file.read_text(encoding="utf-8"))
    assert state["log_size"] == 4
    assert state["last_punches"][-1] == {"pin": "1", "time": "2024-05-06 08:59:00", "state": 0, "verify": 1}
    assert state["serial_number"] == "SIM0000000001"
    assert {"pin": "1", "name": "张三"}.items() <= state["users"][0].items()
    client = await _client(terminal)
    await client.connect()
    await client.request(Command.CLEAR_ATTLOG)
    assert json.loads(terminal.state_file.read_text(encoding="utf-8"))["log_size"] == 0
    await client.close()


async def test_udp_session_and_unknown_command(terminal: ZkTerminal) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.setblocking(False)
        udp.connect(("127.0.0.1", terminal.port))
        loop = asyncio.get_running_loop()

        async def exchange(packet: Packet) -> Packet:
            await loop.sock_sendall(udp, encode_packet(packet))
            async with asyncio.timeout(5):
                return decode_datagram(await loop.sock_recv(udp, 2048))

        connected = await exchange(Packet(command=Command.CONNECT))
        assert connected.command == Command.ACK_OK
        unknown = await exchange(Packet(command=4321, session_id=connected.session_id, reply_id=5))
        assert (unknown.command, unknown.reply_id) == (Command.ACK_UNKNOWN, 5)
        await loop.sock_sendall(udp, b"\x01\x02")  # a runt datagram is ignored
        assert (await exchange(Packet(command=Command.EXIT, session_id=connected.session_id))).command == 2000


@pytest.mark.parametrize("kind", ["drop", "corrupt", "disconnect"])
async def test_fault_injection_hits_exactly_the_next_answers(terminal: ZkTerminal, kind: str) -> None:
    client = await _client(terminal)
    await client.connect()
    terminal.inject_fault(kind, 1)  # type: ignore[arg-type]
    await client.send_raw(encode_tcp(Packet(command=Command.GET_TIME, session_id=client.session, reply_id=9)))
    if kind == "corrupt":
        client.decoder.feed(await client.reader.read(65536))
        packet = client.decoder.next_message()
        assert isinstance(packet, Packet)
        assert not packet.checksum_ok
    else:
        with pytest.raises((TimeoutError, AssertionError)):
            async with asyncio.timeout(0.3):
                await client.receive()
    assert terminal.faults.applied == 1
    control = await _client(terminal)  # the next answer is clean again
    assert (await control.connect()).command == Command.ACK_OK
    await control.close()
    await client.close()


async def test_delay_fault_holds_the_answer(terminal: ZkTerminal) -> None:
    client = await _client(terminal)
    await client.connect()
    terminal.inject_fault("delay", 1, delay_s=0.5)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await client.request(Command.GET_TIME)
    assert loop.time() - started >= 0.5
    started = loop.time()
    await client.request(Command.GET_TIME)
    assert loop.time() - started < 0.5
    await client.close()


async def test_registered_clients_is_observable(terminal: ZkTerminal) -> None:
    client = await _client(terminal)
    await client.connect()
    await client.request(Command.REG_EVENT, struct.pack("<I", 1))

    async def registered() -> int:
        return terminal.registered_clients()

    assert await async_wait_for(registered, timeout=5, what="registration") == 1
    await client.close()


def test_users_file_and_fault_flag_parse(tmp_path: Path) -> None:
    users = tmp_path / "users.json"
    users.write_text(
        json.dumps(
            [{"pin": "8001", "name": "钱九", "privilege": 14, "card": 5, "password": "1"}, {"pin": 8002}]
        ),
        encoding="utf-8",
    )
    loaded = load_users(users)
    assert [(u.uid, u.user_id, u.name, u.privilege, u.card) for u in loaded] == [
        (1, "8001", "钱九", 14, 5),
        (2, "8002", "", 0, 0),
    ]
    assert parse_fault("corrupt:3") == ("corrupt", 3)
    assert parse_fault("drop") == ("drop", 1)
    with pytest.raises(ValueError, match="fault kind"):
        parse_fault("melt:1")


async def test_gbk_terminal_stores_names_in_gbk() -> None:
    async with ZkTerminal(port=free_port(), encoding="gbk") as terminal:
        client = await _client(terminal)
        await client.connect()
        request = encode_read_buffer(ReadBufferRequest(command=Command.USERTEMP_RRQ, fct=5))
        blob = (await client.request(Command.DATA_WRRQ, request)).data
        assert decode_user72(blob[4:76], "gbk").name == "张三"
        assert "张三".encode("gbk") in blob
        await client.close()

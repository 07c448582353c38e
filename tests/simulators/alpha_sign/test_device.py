"""The sign simulator's memory rules, addressing, counters and faults (in process, then over a pty)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import serial

from firmware_protocols.alpha_sign import (
    ChecksumError,
    Decoder,
    MemoryConfiguration,
    MemoryEntry,
    Packet,
    ReadString,
    ReadText,
    WriteSmallDots,
    WriteString,
    WriteText,
    encode_packet,
)
from simulators.alpha_sign import AlphaSignDevice, AlphaSignSimulator
from simulators.alpha_sign.face import face_bitmap
from simulators.alpha_sign.link import PtyEndpoint, SerialEndpoint
from tests.support.polling import wait_for

LAYOUT = MemoryConfiguration(
    entries=(
        MemoryEntry(label="A", file_type="A", locked="U", size=256, times="FFFF"),
        MemoryEntry(label="1", file_type="B", locked="L", size=8, times="0000"),
        MemoryEntry(label="P", file_type="D", locked="U", size=0x0810, times="1000"),
    )
)


def wire(*commands: object, address: str = "00", checksum: bool = True) -> bytes:
    return encode_packet(Packet(commands=tuple(commands), address=address, checksum=checksum))  # type: ignore[arg-type]


def test_showing_expands_strings_and_strips_control_codes() -> None:
    device = AlphaSignDevice()
    text = WriteText(label="A", message=b"\x1c1TOP\r\x101\x0c\x1a3p2\x14P")
    device.feed(wire(LAYOUT, text, WriteString(label="1", text=b"Alice 42 and more")))
    state = device.state()
    assert state["strings"]["1"] == "Alice 42"  # cut to the allocated size
    assert state["showing_pages"] == [["TOP", "Alice 42"], ["p2[dots P]"]]
    assert state["showing"] == ["TOP", "Alice 42", "p2[dots P]"]


def test_writes_to_unallocated_files_are_ignored_and_counted() -> None:
    device = AlphaSignDevice()
    device.feed(wire(WriteString(label="1", text=b"x"), WriteText(label="B", message=b"y")))
    device.feed(wire(WriteText(label="A", message=b"always")))
    state = device.state()
    assert (state["ignored_writes"], state["strings"], list(state["files"])) == (2, {}, ["A"])


def test_priority_file_wins_until_cancelled() -> None:
    device = AlphaSignDevice()
    device.feed(wire(WriteText(label="A", message=b"normal"), WriteText(label="0", message=b"urgent")))
    assert device.state()["showing"] == ["urgent"]
    device.feed(wire(WriteText(label="0", message=b"")))
    assert device.state()["showing"] == ["normal"]


def test_address_filtering_with_wildcards() -> None:
    device = AlphaSignDevice(address="1F")
    for address in ("00", "1F", "1?", "??"):
        device.feed(wire(WriteText(label="A", message=address.encode()), address=address))
        assert device.state()["showing"] == [address]
    device.feed(wire(WriteText(label="A", message=b"other"), address="20"))
    assert device.state()["showing"] == ["??"]
    assert device.state()["counters"]["not_addressed"] == 1


def test_read_string_and_picture_round_trip() -> None:
    device = AlphaSignDevice()
    picture = WriteSmallDots(label="P", height=2, width=3, rows=("101", "010"))
    device.feed(wire(LAYOUT, WriteString(label="1", text=b"42"), picture))
    responses, _ = device.feed(wire(ReadString(label="1")))
    decoder = Decoder()
    decoder.feed(b"".join(responses))
    answer = decoder.next_message()
    assert isinstance(answer, Packet)
    assert (answer.type_code, answer.commands) == ("0", (WriteString(label="1", text=b"42"),))
    assert device.state()["pictures"]["P"]["rows"] == ["101", "010"]


def test_bad_checksum_and_garbage_are_counted_and_dropped() -> None:
    device = AlphaSignDevice()
    good = wire(WriteText(label="A", message=b"ok"))
    bad = good.replace(b"ok", b"no")
    device.feed(b"junk" + bad + good)
    counters = device.state()["counters"]
    assert (counters["checksum_errors"], counters["garbage_bytes"], counters["frames_ok"]) == (1, 4, 1)
    assert device.state()["showing"] == ["ok"]


def test_fault_ignore_drops_input_and_the_control_does_not() -> None:
    device = AlphaSignDevice()
    device.faults.ignore = True
    device.feed(wire(WriteText(label="A", message=b"lost")))
    assert device.state()["showing"] == []
    device.faults.ignore = False
    device.feed(wire(WriteText(label="A", message=b"kept")))
    assert device.state()["showing"] == ["kept"]


def test_pty_simulator_survives_reopen_and_writes_state_and_png(tmp_path: Path) -> None:
    link, png, state_file = tmp_path / "tty", tmp_path / "face.png", tmp_path / "state.json"
    sim = AlphaSignSimulator(PtyEndpoint(link), state_path=state_file, png_path=png).start()
    try:
        for text in (b"first", b"second"):  # close and reopen the link between writes
            with serial.Serial(str(link), 9600, timeout=1) as port:
                frame = wire(WriteText(label="A", message=text), checksum=False)
                port.write(frame[:9])  # the 100 ms pause after STX splits the frame
                port.write(frame[9:])
            lines = [text.decode()]
            wait_for(lambda: sim.state()["showing"] == lines, what=f"{text!r} shown")  # noqa: B023
        # The files are rewritten just after the in-memory state changes: poll them too.
        wait_for(lambda: b'"second"' in state_file.read_bytes(), what="state file rewritten")
        assert png.read_bytes().startswith(b"\x89PNG")
    finally:
        sim.stop()
    assert not link.exists()


def test_face_bitmap_draws_a_called_picture_dot_for_dot() -> None:
    device = AlphaSignDevice()
    picture = WriteSmallDots(label="P", height=2, width=3, rows=("101", "010"))
    device.feed(wire(LAYOUT, picture, WriteText(label="A", message=b"\x14P")))
    assert face_bitmap(device.state()) == [[True, False, True], [False, True, False]]


def test_fault_garble_corrupts_answers_and_the_control_is_clean() -> None:
    device = AlphaSignDevice()
    device.feed(wire(WriteText(label="A", message=b"x")))
    for garble, expected in ((False, Packet), (True, ChecksumError)):
        device.faults.garble = garble
        responses, _ = device.feed(wire(ReadText(label="A")))
        decoder = Decoder()
        decoder.feed(b"".join(responses))
        try:
            outcome: type = type(decoder.next_message())
        except ChecksumError as exc:
            outcome = type(exc)
        assert outcome is expected


def test_serial_mode_over_a_socat_pair(tmp_path: Path) -> None:
    a, b = tmp_path / "ttyA", tmp_path / "ttyB"
    socat = subprocess.Popen(
        ["socat", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: a.exists() and b.exists(), what="socat links")
        sim = AlphaSignSimulator(SerialEndpoint(str(b))).start()
        try:
            with serial.Serial(str(a), 9600, timeout=1) as port:
                port.write(wire(WriteText(label="A", message=b"via socat")))
                wait_for(lambda: sim.state()["showing"] == ["via socat"], what="text via socat")
        finally:
            sim.stop()
    finally:
        socat.terminate()
        socat.wait(timeout=10)

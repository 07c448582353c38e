"""iclockhelper 0.0.4 (a third-party ADMS parser) reads the requests our simulated terminal sends.

Installed apart: ``pip install --target .clients/iclockhelper 'iclockhelper==0.0.4' 'setuptools<81'``
(PROTOCOLS.md §3.3, §7.12); it runs in a subprocess with that directory on PYTHONPATH.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from edge_agent.http import HttpServer, Request, Response
from firmware_protocols import zk_push
from simulators.zk_push import PushTerminal
from tests.clients.client_envs import ensure_client_env

ROOT = Path(__file__).resolve().parents[2]
PARSE = """
import json, sys, urllib.request
from iclockhelper import CdataRequest, GetRequest
out = []
for method, url, body in json.load(sys.stdin):
    req = urllib.request.Request(url, data=bytes.fromhex(body) or None, method=method)
    if "/getrequest" in url:
        out.append({"sn": GetRequest.from_req(req).sn})
        continue
    r = CdataRequest.from_req(req)
    att = [[t.pin, str(t.server_datetime), t.check_type, t.verify_code]
           for t in (r.attendance_log.transactions if r.attendance_log else []) if t.pin]
    users = [[u.pin, u.name] for u in (r.operation_log.users if r.operation_log else [])]
    photo = r.attendance_photo_log.pin if r.attendance_photo_log else None
    out.append({"sn": r.sn, "table": r.table.value, "att": att, "users": users, "photo": photo})
print(json.dumps(out, ensure_ascii=False))
"""


async def test_iclockhelper_parses_the_simulator_requests() -> None:
    captured: list[tuple[str, str, str]] = []

    async def record(request: Request) -> Response:
        captured.append(
            (request.method, f"http://127.0.0.1{request.path}?{request.query}", request.body.hex())
        )
        message = zk_push.parse_request(request.method, request.path, request.query, request.body)
        if isinstance(message, zk_push.OptionsRequest):
            return Response(body=zk_push.options_reply(message.sn, zk_push.TerminalOptions()).encode())
        return Response(body=b"OK")

    async with HttpServer(record, host="127.0.0.1", port=0) as server:
        terminal = PushTerminal(f"http://127.0.0.1:{server.port}", "ICLK0001", language="83", photos=True)
        terminal.enroll(zk_push.UserEntry(pin="1001", name="张三"))
        terminal.punch("1001", verify="15")
        await asyncio.to_thread(terminal.sync_once)

    # iclockhelper needs the whole ATTPHOTO body to decode as text, which a JPEG never does: not checked here.
    checked = [c for c in captured if "table=ATTPHOTO" not in c[1]]
    client_dir = ensure_client_env("iclockhelper", "iclockhelper==0.0.4 setuptools<81")
    env = {**os.environ, "PYTHONPATH": str(client_dir)}
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", PARSE],
        input=json.dumps(checked),
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    parsed = json.loads(done.stdout)
    by_table = {p.get("table"): p for p in parsed}
    assert all(p["sn"] == "ICLK0001" for p in parsed)
    record_ = terminal.memory.log[0].record
    assert by_table["ATTLOG"]["att"] == [["1001", record_.time, "0", "15"]]
    assert by_table["OPERLOG"]["users"] == [["1001", "张三"]]
    assert any("/getrequest" in url for _, url, _ in captured)

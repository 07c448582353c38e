"""A child process for the descriptor test: an HttpServer under RLIMIT_NOFILE 256 on a free port.

``python -m tests.edge_agent.http.descriptor_server capped|uncapped`` prints the port, then serves
until killed. ``capped`` sizes the limits to the descriptors (as the agent does); ``uncapped`` sets
10,000 connections and skips the sizing, which is what the agent did before it had caps.
"""

from __future__ import annotations

import asyncio
import resource
import sys

from edge_agent.http import HttpLimits, HttpServer, Request, Response

NOFILE = 256
TERMINAL = "127.0.0.1"  # the bound terminal's address (reserved)


async def ok(request: Request) -> Response:
    return Response(body=b"OK")


async def serve(mode: str) -> None:
    limits = HttpLimits(max_connections=10_000, max_connections_per_address=10_000, head_deadline_s=120)
    if mode == "capped":
        limits = limits.within_descriptors()
    reserved = {TERMINAL}.__contains__
    async with HttpServer(ok, host="127.0.0.1", port=0, limits=limits, reserved=reserved) as server:
        print(server.port, flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, hard))
    asyncio.run(serve(sys.argv[1]))

"""An open-loop HTTP load generator, run as its own process: a fixed request rate, latency percentiles.

``python -m bench.paced_load --url URL --rate 100 --seconds 10 [--header 'Name: value']`` sends one
GET every 1/rate seconds on a schedule that never waits for answers (wrk cannot pace: it sends the
next request when the last answer arrives, which hides queueing). Each latency is measured from the
request's *scheduled* time, so a server that falls behind shows it (no coordinated omission).
Requests go over keep-alive HTTP/1.1 connections from a pool that grows when all are busy. A
server far slower than the offered rate would keep the run going for minutes: answers are awaited
for a grace period after the last request, then the rest count as unanswered with their latency so
far (the percentiles are then lower bounds). Prints one JSON object: sent, ok, errors, unanswered
and p50/p95/p99/max in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from urllib.parse import urlsplit

MAX_CONNECTIONS = 256  # beyond this, requests wait client-side for a connection (still timed)
GRACE_S = 10.0  # after the last request is sent, answers are awaited this long (at least the run's length)

Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class Pool:
    """Idle keep-alive connections to one host; opens a new one when none is idle (up to a cap)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.idle: asyncio.Queue[Connection] = asyncio.Queue()
        self.opened = 0

    async def get(self, request: bytes) -> int:
        """Send ``request``, read the whole answer; returns the status code."""
        if self.idle.empty() and self.opened < MAX_CONNECTIONS:
            self.opened += 1
            reader, writer = await asyncio.open_connection(self.host, self.port)
        else:
            reader, writer = await self.idle.get()
        writer.write(request)
        status_line = await reader.readline()
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        await reader.readexactly(length)
        self.idle.put_nowait((reader, writer))
        return int(status_line.split()[1])


async def paced(url: str, headers: list[str], rate: float, seconds: float) -> dict[str, float]:
    """Offer ``rate`` GETs/s of ``url`` for ``seconds``; latency percentiles in ms."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    head = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}", *headers, "", ""]
    request = "\r\n".join(head).encode()
    pool = Pool(parts.hostname or "127.0.0.1", parts.port or 80)
    await pool.get(request)  # warm up one connection and the server's caches
    latencies: list[float] = []
    errors = 0

    async def one(scheduled: float) -> None:
        nonlocal errors
        status = await pool.get(request)
        latencies.append((time.perf_counter() - scheduled) * 1000)
        errors += status != 200

    count = int(rate * seconds)
    start = time.perf_counter() + 0.05
    tasks: dict[asyncio.Task[None], float] = {}
    for i in range(count):
        scheduled = start + i / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        tasks[asyncio.create_task(one(scheduled))] = scheduled
    done, pending = await asyncio.wait(tasks, timeout=max(GRACE_S, seconds))
    cut_off = time.perf_counter()
    errors += sum(1 for task in done if task.exception() is not None)  # a broken connection
    for task in pending:  # still unanswered: counted at the cut-off, so the percentiles are lower bounds
        task.cancel()
        latencies.append((cut_off - tasks[task]) * 1000)
    await asyncio.gather(*pending, return_exceptions=True)
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {
        "sent": count,
        "ok": count - errors - len(pending),
        "errors": errors,
        "p50": cuts[49],
        "p95": cuts[94],
        "p99": cuts[98],
        "max": max(latencies),
        "connections": pool.opened,
        "unanswered": len(pending),
    }


def main() -> int:
    """Run one paced load and print its result as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.paced_load")
    parser.add_argument("--url", required=True)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--header", action="append", default=[])
    args = parser.parse_args()
    result = asyncio.run(paced(args.url, args.header, args.rate, args.seconds))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

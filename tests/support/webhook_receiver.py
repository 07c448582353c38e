"""A real HTTP endpoint on loopback that records every POST and answers from a script.

``statuses`` are answered in order, then ``200`` for ever; ``hang=True`` makes it accept requests
and never answer (until closed), the way a stuck endpoint behaves; ``delay_s`` answers slowly.
"""

from __future__ import annotations

import dataclasses
import http.server
import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any


@dataclasses.dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    def __init__(self, statuses: Sequence[int] = (), *, hang: bool = False, delay_s: float = 0.0) -> None:
        self.received: list[Received] = []
        self._statuses = list(statuses)
        self._hang, self._delay_s = hang, delay_s
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def events(self) -> list[str]:
        """The ``event`` of every document received, in order."""
        with self._lock:
            return [r.json()["event"] for r in self.received]

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if receiver._hang:
                    receiver._closing.wait(timeout=60)
                    return
                if receiver._delay_s:
                    receiver._closing.wait(timeout=receiver._delay_s)  # a slow endpoint
                with receiver._lock:
                    receiver.received.append(Received(dict(self.headers.items()), body))
                    status = receiver._statuses.pop(0) if receiver._statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def serve(self) -> threading.Thread:
        thread = threading.Thread(target=self._server.serve_forever, name="webhook-receiver", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def webhook_receiver(
    statuses: Sequence[int] = (), *, hang: bool = False, delay_s: float = 0.0
) -> Iterator[Receiver]:
    receiver = Receiver(statuses, hang=hang, delay_s=delay_s)
    thread = receiver.serve()
    try:
        yield receiver
    finally:
        receiver.close()
        thread.join(timeout=10)

"""A real Mosquitto broker of the test's own, on a free loopback port.

When the ``mosquitto`` binary is missing (a developer's fresh machine), the embedded amqtt broker
stands in, with a notice; ``.ci/run`` sets ``MPM_REQUIRE_MOSQUITTO=1`` so CI never falls back.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.network import accepts_tcp, free_port
from tests.support.polling import wait_for


@dataclasses.dataclass
class Broker:
    host: str
    port: int
    process: subprocess.Popen[bytes]
    kind: str

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def pause(self) -> None:
        """Freeze the broker (SIGSTOP): connections stay open but nothing is answered."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)


def mosquitto_config(port: int, data_dir: Path, extra: str = "") -> str:
    return "\n".join(
        [
            f"listener {port} 127.0.0.1",
            "allow_anonymous true",
            "persistence false",
            # Mosquitto's default of 1,000 silently drops QoS-1 messages to a slow subscriber.
            "max_queued_messages 100000",
            "max_inflight_messages 100",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "set_tcp_nodelay true",  # as the shipped configuration (cloud/deploy/broker_config.py)
            extra,
        ]
    )


@contextmanager
def running_broker(tmp: Path, extra_config: str = "") -> Iterator[Broker]:
    port = free_port()
    binary = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )
    if binary:
        conf = tmp / f"mosquitto-{port}.conf"
        conf.write_text(mosquitto_config(port, tmp, extra_config))
        cmd = [binary, "-c", str(conf)]
        kind = "mosquitto"
    else:
        if os.environ.get("MPM_REQUIRE_MOSQUITTO") == "1":
            raise RuntimeError("MPM_REQUIRE_MOSQUITTO=1 but no mosquitto binary is installed")
        warnings.warn("mosquitto not installed: tests use the embedded amqtt broker", stacklevel=2)
        cmd = [sys.executable, "-m", "simulators.embedded_broker", "--host", "127.0.0.1", "--port", str(port)]
        kind = "amqtt"
    log = (tmp / f"broker-{port}.log").open("wb")
    process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(
            lambda: accepts_tcp("127.0.0.1", port) or process.poll() is not None, timeout=15, what="broker"
        )
        if process.poll() is not None:
            raise RuntimeError(f"{kind} exited at start: {(tmp / f'broker-{port}.log').read_text()}")
        yield Broker(host="127.0.0.1", port=port, process=process, kind=kind)
    finally:
        process.send_signal(signal.SIGCONT)
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()

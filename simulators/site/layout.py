"""Where a site keeps its files, and how the runner picks free ports."""

from __future__ import annotations

import dataclasses
import socket
from pathlib import Path


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class SiteLayout:
    """The state directory's files: ``<name>.json``, ``<name>.png``, ``logs/<name>.log`` per device."""

    state_dir: Path
    config_dir: Path

    def state(self, name: str) -> Path:
        return self.state_dir / f"{name}.json"

    def png(self, name: str) -> Path:
        return self.state_dir / f"{name}.png"

    def log(self, name: str) -> Path:
        return self.state_dir / "logs" / f"{name}.log"

    @property
    def users(self) -> Path:
        """The users file the runner writes from the site file's ``[[user]]`` list."""
        return self.state_dir / "site-users.json"

    @property
    def site_json(self) -> Path:
        return self.state_dir / "site.json"

    @property
    def agent_devices(self) -> Path:
        return self.state_dir / "agent-devices.toml"

    def from_config(self, path: Path) -> Path:
        """A path from the site file: relative ones are relative to the site file."""
        return self.config_dir / path

    def in_state_dir(self, path: Path) -> Path:
        """A pty link from the site file: relative ones are relative to the state directory."""
        return self.state_dir / path


def client_host(host: str) -> str:
    """Where a local client connects to reach a server bound to ``host`` (wildcards → loopback)."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)


class PortPicker:
    """Free loopback ports, each handed out once per site (free for TCP and UDP when asked)."""

    def __init__(self, taken: set[int]) -> None:
        self.taken = set(taken)

    def pick(self, host: str, *, udp_too: bool = False) -> int:
        """A port that is free on ``host`` now and not yet used by this site."""
        while True:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                tcp.bind((host, 0))
                port: int = tcp.getsockname()[1]
                if port in self.taken or (udp_too and not _udp_free(host, port)):
                    continue
            self.taken.add(port)
            return port


def _udp_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        try:
            udp.bind((host, port))
        except OSError:
            return False
    return True

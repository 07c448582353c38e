"""``run_site``: validate the site file, start every simulator, publish where they are, supervise.

Order: validate (exit 78 on any problem, nothing started); pick ports; write the shared users
file and ``agent-devices.toml``; start the children; once all serve, write ``site.json`` (removed
at start, so its presence means "this run is up"); then watch until SIGINT/SIGTERM.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from simulators.site.agent_inventory import agent_devices, render_toml
from simulators.site.config import SiteConfig, SiteConfigError, SiteUser
from simulators.site.launch import plan_launch
from simulators.site.layout import SiteLayout
from simulators.site.loading import EX_CONFIG, load_site
from simulators.site.resolve import resolve_site
from simulators.site.supervisor import POLL_S, Site, SiteStartError
from simulators.state_file import write_state

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class RunOptions:
    config: Path
    state_dir: Path
    log_level: str = "INFO"
    start_timeout_s: float = 30.0
    on_up: Callable[[dict[str, Any]], None] = lambda description: None  # e.g. print --json


def run_site(options: RunOptions) -> int:
    """Run the site until a signal; the process exit code."""
    try:
        site_config = load_site(options.config)
    except SiteConfigError as exc:
        log.error("%s", exc)
        return EX_CONFIG
    layout = SiteLayout(state_dir=options.state_dir.absolute(), config_dir=options.config.parent.absolute())
    prepare_state_dir(site_config, layout, source=str(options.config))
    devices = resolve_site(site_config, layout)
    (layout.agent_devices).write_text(
        render_toml(agent_devices(devices), source=str(options.config)), encoding="utf-8"
    )
    site = Site([plan_launch(device, layout, options.log_level) for device in devices])
    with _stop_on_signals() as stop:
        try:
            site.check_ports()
            site.start()
            site.wait_all_up(options.start_timeout_s, stop)
        except SiteStartError as exc:
            log.error("site did not start: %s", exc)
            site.stop_all()
            return 1
        try:
            description = publish(site, layout)
            log.info("all up: %d simulators; %s", len(site.children), layout.site_json)
            options.on_up(description)
            return supervise(site, layout, stop)
        finally:
            site.stop_all()
            publish(site, layout)  # every entry now says running = false
            log.info("site stopped")


def prepare_state_dir(site: SiteConfig, layout: SiteLayout, *, source: str) -> None:
    """Create the directories, drop the last run's site.json, write the shared users file."""
    layout.log("x").parent.mkdir(parents=True, exist_ok=True)
    layout.site_json.unlink(missing_ok=True)
    if site.user:
        users = [_user_json(user) for user in site.user]
        layout.users.write_text(json.dumps(users, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _user_json(user: SiteUser) -> dict[str, Any]:
    """A user as both terminal simulators read it (empty card and password left out)."""
    entry: dict[str, Any] = {"pin": user.pin, "name": user.name, "privilege": user.privilege}
    if user.card:
        entry["card"] = user.card
    if user.password:
        entry["password"] = user.password
    return entry


def publish(site: Site, layout: SiteLayout) -> dict[str, Any]:
    """Write site.json from the children's current state; return what was written."""
    description = {
        "runner_pid": os.getpid(),
        "state_dir": str(layout.state_dir),
        "agent_devices": str(layout.agent_devices),
        "devices": site.description(),
    }
    write_state(layout.site_json, description)
    return description


def supervise(site: Site, layout: SiteLayout, stop: threading.Event) -> int:
    """Watch the children until stopped (0) or until none is left (1); report each exit."""
    while not stop.wait(POLL_S):
        exits = site.newly_exited()
        for report in exits:
            log.error("%s", report)
        if exits:
            publish(site, layout)
        if not site.any_running:
            log.error("every simulator has exited")
            return 1
    return 0


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGINT or SIGTERM while the block runs (previous handlers restored after)."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

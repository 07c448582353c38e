"""``mpm-agent doctor``: is this box able to work? One line per check, exit 1 on any failure.

Checks, in order (a table below): configuration valid (if not, nothing else can be checked and that
is the only line), clock synchronised, TLS chain and days to expiry, broker reachable (TCP + MQTT
CONNECT with the configured credentials), each configured serial port opens read/write, outbox
integrity, backlog and its age, free disk. ``warn`` and ``unknown`` lines do not fail; ``--json``
prints one object ``{"ok": bool, "checks": [...]}``. Nothing printed contains a secret.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable, Sequence
from typing import Any, Final, TextIO

from edge_agent.config import AgentConfig, ConfigError, load_config
from edge_agent.ops.doctor_checks.result import CheckResult, DoctorLimits, MiB, fail, ok

__all__ = ["CHECKS", "add_doctor_command", "cmd_doctor", "render_json", "render_text", "run_doctor"]

EX_FAILED: Final = 1

Check = Callable[[AgentConfig, DoctorLimits], list[CheckResult]]

# Each check imports its module when it runs, so building the CLI parser (also for ``run``) stays light.


def _clock(config: AgentConfig, limits: DoctorLimits) -> list[CheckResult]:
    from edge_agent.ops.doctor_checks.clock import check_clock

    return [check_clock(limits)]


def _tls(config: AgentConfig, limits: DoctorLimits) -> list[CheckResult]:
    from edge_agent.ops.doctor_checks.tls import check_tls

    return [check_tls(config.mqtt, warn_days=limits.cert_warn_days)]


def _broker(config: AgentConfig, limits: DoctorLimits) -> list[CheckResult]:
    from edge_agent.ops.doctor_checks.broker import check_broker

    service = config.observability
    host = "127.0.0.1" if service.host in ("", "0.0.0.0", "::") else service.host  # a wildcard: ask loopback
    readyz = f"http://{host}:{service.port}/readyz" if service.enabled else None
    return [check_broker(config.mqtt, config.agent_id, timeout_s=limits.broker_timeout_s, readyz_url=readyz)]


def _ports(config: AgentConfig, limits: DoctorLimits) -> list[CheckResult]:
    from edge_agent.ops.doctor_checks.storage import check_ports
    from edge_agent.ops.startup_checks import serial_ports_in

    return check_ports(serial_ports_in(config))


def _integrity(config: AgentConfig, limits: DoctorLimits) -> list[CheckResult]:
    from edge_agent.ops.doctor_checks.storage import check_integrity

    return [check_integrity(config.outbox.path)]


def _backlog(config: AgentConfig, limits: DoctorLimits) -> list[CheckResult]:
    from edge_agent.ops.doctor_checks.storage import check_backlog

    outbox = config.outbox
    return [check_backlog(outbox.path, max_age_s=limits.max_backlog_age_s, max_bytes=outbox.max_bytes)]


def _disk(config: AgentConfig, limits: DoctorLimits) -> list[CheckResult]:
    from edge_agent.ops.doctor_checks.storage import check_disk

    return [check_disk(config.outbox.path, min_free_bytes=limits.min_free_bytes)]


CHECKS: Final[tuple[tuple[str, Check], ...]] = (
    ("clock", _clock),
    ("tls", _tls),
    ("broker", _broker),
    ("ports", _ports),
    ("integrity", _integrity),
    ("backlog", _backlog),
    ("disk", _disk),
)


def run_doctor(load: Callable[[], AgentConfig], limits: DoctorLimits) -> list[CheckResult]:
    """Every check's result; a configuration that does not load is the only result."""
    try:
        config = load()
    except ConfigError as error:
        return [fail("config", str(error).replace("\n", "; "))]
    results = [ok("config", f"valid (agent {config.agent_id}, {len(config.devices)} device(s))")]
    for name, check in CHECKS:
        try:
            results.extend(check(config, limits))
        except Exception as error:  # a broken check is a finding, not a crash of the doctor
            results.append(fail(name, f"check crashed: {type(error).__name__}: {error}"))
    return results


def render_text(results: Sequence[CheckResult]) -> str:
    """``ok      name: detail``, one line per check."""
    return "".join(f"{result.status!s:<8}{result.name}: {result.detail}\n" for result in results)


def render_json(results: Sequence[CheckResult]) -> str:
    """``{"ok": ..., "checks": [...]}`` on one line."""
    body = {"ok": all(r.ok for r in results), "checks": [r.to_json() for r in results]}
    return json.dumps(body, ensure_ascii=False) + "\n"


def exit_code(results: Sequence[CheckResult]) -> int:
    """0 when nothing failed, else 1."""
    return 0 if all(result.ok for result in results) else EX_FAILED


def limits_from(args: argparse.Namespace) -> DoctorLimits:
    return DoctorLimits(
        max_clock_skew_s=args.max_clock_skew_s,
        time_reference=args.time_reference,
        broker_timeout_s=args.broker_timeout_s,
        cert_warn_days=args.cert_warn_days,
        max_backlog_age_s=args.max_backlog_age_s,
        min_free_bytes=int(args.min_free_mib * MiB),
    )


def cmd_doctor(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run every check, print the report, return 0 or 1."""
    import sys

    results = run_doctor(
        lambda: load_config(args.config, environ=os.environ, overrides=args.set), limits_from(args)
    )
    (out or sys.stdout).write(render_json(results) if args.json else render_text(results))
    return exit_code(results)


def add_doctor_command(
    commands: argparse._SubParsersAction[Any], config_options: Callable[[Any], None]
) -> None:
    """Add ``doctor`` to the ``mpm-agent`` sub-commands."""
    defaults = DoctorLimits()
    doctor = commands.add_parser("doctor", help="check clock, TLS, broker, ports, outbox and disk")
    config_options(doctor)
    doctor.add_argument("--json", action="store_true", help="one JSON object")
    doctor.add_argument("--time-reference", metavar="URL", default=defaults.time_reference,
                        help="compare the clock with this server's HTTP Date header")  # fmt: skip
    doctor.add_argument("--max-clock-skew-s", type=float, default=defaults.max_clock_skew_s)
    doctor.add_argument("--broker-timeout-s", type=float, default=defaults.broker_timeout_s)
    doctor.add_argument("--cert-warn-days", type=int, default=defaults.cert_warn_days)
    doctor.add_argument("--max-backlog-age-s", type=float, default=defaults.max_backlog_age_s)
    doctor.add_argument("--min-free-mib", type=float, default=defaults.min_free_bytes / MiB)
    doctor.set_defaults(handler=cmd_doctor)

"""Alert rules and the conditions they find in the agents' last reported status.

Pure: agents' rows in, the set of conditions that hold ``now`` out; the caller compares them with
the open alerts. A condition's ``key`` names what it is about, so one holding on two evaluations is
one alert, and a condition gone is that alert resolved.

Rules (each threshold ``None`` turns its rule off):
- ``agent_offline``: the agent said it is offline (its clean shutdown, or the broker publishing its
  last will when the connection died) at least ``agent_offline_after_s`` ago; or it has been silent
  for ``status_silence_s`` while claiming to be online (a broker that lost the will). Silence has its
  own, longer threshold: the will reports a dead box within ~1.5 keepalives, whereas a silence as
  short as the offline threshold would also fire for every agent whenever the cloud's ingest pauses.
- ``backlog_old``: an online agent's oldest unacknowledged event is at least ``backlog_max_age_s`` old.
- ``device_down``: an online agent reports one of its devices ``down`` (one alert per device); an
  offline agent's devices are unknown, its offline alert says so.
- ``cert_expiring``: the agent's certificate expires within ``cert_expiry_days`` (or has expired).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

DAY_S: Final = 24 * 3600


class AlertRuleSet(BaseModel):
    """An organisation's alert thresholds; the defaults apply until it sets its own."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "agent_offline_after_s": 300,
                    "status_silence_s": 1800,
                    "backlog_max_age_s": 900,
                    "device_down": True,
                    "cert_expiry_days": 30,
                }
            ]
        },
    )

    agent_offline_after_s: int | None = Field(default=300, ge=30, le=30 * DAY_S)
    status_silence_s: int | None = Field(default=1800, ge=60, le=30 * DAY_S)
    backlog_max_age_s: int | None = Field(default=900, ge=60, le=30 * DAY_S)
    device_down: bool = True
    cert_expiry_days: int | None = Field(default=30, ge=1, le=3650)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class AgentHealth:
    """What the rules read of one agent."""

    org_id: int
    agent_id: str
    last_status: Mapping[str, Any] | None
    last_status_at: dt.datetime | None
    cert_expires_at: dt.datetime | None


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Condition:
    """A rule that holds for one agent (or one of its devices)."""

    org_id: int
    rule: str
    agent_id: str
    device: str | None = None
    detail: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def key(self) -> str:
        return ":".join(p for p in (self.rule, self.agent_id, self.device) if p is not None)


def is_online(agent: AgentHealth, rules: AlertRuleSet, now: dt.datetime) -> bool:
    """Whether the agent's last word is "online" and it has not been silent too long."""
    if agent.last_status is None or agent.last_status_at is None:
        return False
    if agent.last_status.get("state") != "online":
        return False
    silence = rules.status_silence_s
    return silence is None or (now - agent.last_status_at).total_seconds() < silence


def conditions(
    agents: Iterable[AgentHealth], rules_of: Mapping[int, AlertRuleSet], now: dt.datetime
) -> dict[str, Condition]:
    """Every condition that holds ``now``, by key."""
    found: dict[str, Condition] = {}
    for agent in agents:
        rules = rules_of.get(agent.org_id, DEFAULT_RULES)
        for condition in _agent_conditions(agent, rules, now):
            found[condition.key] = condition
    return found


DEFAULT_RULES: Final = AlertRuleSet()


def _agent_conditions(agent: AgentHealth, rules: AlertRuleSet, now: dt.datetime) -> Iterator[Condition]:
    yield from _certificate(agent, rules, now)
    if agent.last_status is None or agent.last_status_at is None:
        return  # never heard of: nothing to say until it first connects
    if not is_online(agent, rules, now):
        yield from _offline(agent, rules, now)
        return
    yield from _backlog(agent, rules)
    if rules.device_down:
        yield from _devices_down(agent)


def _offline(agent: AgentHealth, rules: AlertRuleSet, now: dt.datetime) -> Iterator[Condition]:
    assert agent.last_status is not None
    assert agent.last_status_at is not None
    threshold = rules.agent_offline_after_s
    said_offline = agent.last_status.get("state") == "offline"
    if said_offline and threshold is None:
        return
    if said_offline and (now - agent.last_status_at).total_seconds() < (threshold or 0):
        return
    reason = "offline" if said_offline else "silent"
    detail = {"last_seen": agent.last_status_at.isoformat(), "reason": reason}
    yield Condition(org_id=agent.org_id, rule="agent_offline", agent_id=agent.agent_id, detail=detail)


def _backlog(agent: AgentHealth, rules: AlertRuleSet) -> Iterator[Condition]:
    assert agent.last_status is not None
    age = agent.last_status.get("oldest_unacked_age_s")
    limit = rules.backlog_max_age_s
    if limit is None or not isinstance(age, int | float) or age < limit:
        return
    detail = {"oldest_unacked_age_s": age, "backlog_rows": agent.last_status.get("backlog_rows")}
    yield Condition(org_id=agent.org_id, rule="backlog_old", agent_id=agent.agent_id, detail=detail)


def _devices_down(agent: AgentHealth) -> Iterator[Condition]:
    assert agent.last_status is not None
    devices = agent.last_status.get("devices")
    if not isinstance(devices, dict):
        return
    for name, state in sorted(devices.items()):
        if state == "down":
            yield Condition(org_id=agent.org_id, rule="device_down", agent_id=agent.agent_id, device=name)


def _certificate(agent: AgentHealth, rules: AlertRuleSet, now: dt.datetime) -> Iterator[Condition]:
    days = rules.cert_expiry_days
    if days is None or agent.cert_expires_at is None:
        return
    if agent.cert_expires_at - now > dt.timedelta(days=days):
        return
    detail = {"expires_at": agent.cert_expires_at.isoformat()}
    yield Condition(org_id=agent.org_id, rule="cert_expiring", agent_id=agent.agent_id, detail=detail)

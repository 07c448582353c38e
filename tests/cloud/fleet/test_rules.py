"""The alert rules as a table: an agent's last status and the time → the conditions that hold."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cloud.fleet import DEFAULT_RULES, AlertRuleSet, conditions
from cloud.fleet.rules import AgentHealth

T0 = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
ONLINE: dict[str, Any] = {"state": "online", "devices": {}, "oldest_unacked_age_s": None}
NO_SILENCE = DEFAULT_RULES.model_copy(update={"status_silence_s": None})


def agent(
    status: dict[str, Any] | None, *, seen: dt.datetime | None = T0, cert: dt.datetime | None = None
) -> AgentHealth:
    return AgentHealth(org_id=1, agent_id="a", last_status=status, last_status_at=seen, cert_expires_at=cert)


@pytest.mark.parametrize(
    ("health", "seconds_later", "rules", "expected"),
    [
        (agent(None, seen=None), 10**6, DEFAULT_RULES, []),  # never connected: nothing to say
        (agent({"state": "offline"}), 299, DEFAULT_RULES, []),
        (agent({"state": "offline"}), 300, DEFAULT_RULES, ["agent_offline:a"]),
        (
            agent({"state": "offline"}),
            10**6,
            DEFAULT_RULES.model_copy(update={"agent_offline_after_s": None}),
            [],
        ),
        (agent(ONLINE), 1799, DEFAULT_RULES, []),
        (agent(ONLINE), 1800, DEFAULT_RULES, ["agent_offline:a"]),  # silent while "online"
        (agent(ONLINE), 10**6, NO_SILENCE, []),
        (agent(ONLINE | {"oldest_unacked_age_s": 900}), 0, DEFAULT_RULES, ["backlog_old:a"]),
        (agent({"state": "offline", "oldest_unacked_age_s": 900}), 0, DEFAULT_RULES, []),
        (
            agent(ONLINE | {"devices": {"x": "down", "y": "up", "z": "unknown"}}),
            0,
            DEFAULT_RULES,
            ["device_down:a:x"],
        ),
        (
            agent(ONLINE | {"devices": {"x": "down"}}),
            0,
            DEFAULT_RULES.model_copy(update={"device_down": False}),
            [],
        ),
        (agent(ONLINE, cert=T0 + dt.timedelta(days=30, seconds=1)), 0, DEFAULT_RULES, []),
        (agent(ONLINE, cert=T0 + dt.timedelta(days=30)), 0, DEFAULT_RULES, ["cert_expiring:a"]),
        (agent(None, seen=None, cert=T0 - dt.timedelta(days=1)), 0, DEFAULT_RULES, ["cert_expiring:a"]),
    ],
)
def test_conditions(
    health: AgentHealth, seconds_later: int, rules: AlertRuleSet, expected: list[str]
) -> None:
    found = conditions([health], {1: rules}, T0 + dt.timedelta(seconds=seconds_later))
    assert sorted(found) == expected


def test_an_organisation_without_rules_gets_the_defaults() -> None:
    found = conditions([agent({"state": "offline"})], {}, T0 + dt.timedelta(seconds=300))
    assert list(found) == ["agent_offline:a"]

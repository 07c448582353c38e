"""The agent unit states its descriptor limit, and the LAN listeners' default caps sit well under it."""

from __future__ import annotations

from edge_agent.drivers.zk_push.config import ZkPushConfig
from edge_agent.http import HttpLimits, connection_cap
from edge_agent.http.limits import DESCRIPTOR_RESERVE
from tests.ops.test_units import SYSTEMD_DIR, directives


def test_the_agent_unit_sets_limit_nofile_and_the_default_caps_fit_twice_under_it() -> None:
    (limit,) = directives(SYSTEMD_DIR / "mpm-agent.service")["LimitNOFILE"]
    nofile = int(limit)
    push = ZkPushConfig(kind="zk_push", name="gate", listen_host="0.0.0.0", allowed_serials=("SN1",))
    caps = [push.http_limits().max_connections, HttpLimits().max_connections]  # ADMS + health server
    assert sum(caps) + DESCRIPTOR_RESERVE <= nofile // 2
    assert connection_cap(caps[0], nofile) == caps[0]  # not lowered at start: the unit leaves room
    assert connection_cap(caps[0], 256) < caps[0]  # control: a tighter limit does lower it

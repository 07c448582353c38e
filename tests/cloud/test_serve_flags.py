"""``mpm-cloud serve`` flags: the access log is off unless asked for (it costs about a fifth of the rate)."""

from __future__ import annotations

from cloud.cli import _parser


def test_access_log_is_off_by_default_and_can_be_enabled() -> None:
    assert _parser().parse_args(["serve"]).access_log is False
    assert _parser().parse_args(["serve", "--access-log"]).access_log is True

"""Fixtures shared by every tier: a real broker of the test's own."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.support.broker import Broker, running_broker

# The machine has 2 cores shared with brokers, databases and simulators: timing-based health checks
# and per-example deadlines would make property tests flaky without testing anything of ours.
settings.register_profile(
    "mpm", deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.load_profile("mpm")

# The cloud runs in production mode unless told otherwise, and production refuses to start without
# MPM_MASTER_KEY. Tests (and every `mpm-cloud` process they start, which inherits this environment)
# are a development set-up; tests of the production refusal set MPM_ENVIRONMENT themselves.
os.environ.setdefault("MPM_ENVIRONMENT", "development")


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A Mosquitto broker on a free loopback port, for this test alone."""
    with running_broker(tmp_path) as running:
        yield running

"""The fleet tests' cloud: its lifespan running, ingesting from and publishing to the test broker."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from cloud.app import create_app
from cloud.settings import CloudSettings
from tests.support.broker import Broker


@pytest.fixture
async def cloud(db_url: str, broker: Broker) -> AsyncIterator[FastAPI]:
    """The cloud app, its lifespan running, ingesting from and publishing to the test broker."""
    app = create_app(CloudSettings(database_url=db_url, mqtt_url=broker.url, display_debounce_s=0))
    async with app.router.lifespan_context(app):
        yield app

"""Migration 0009 on a database that already holds quarantined payloads (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib

from alembic import command
from sqlalchemy import Connection, text

from cloud.db.migrate import alembic_config
from cloud.db.session import create_engine
from cloud.ingest.quarantine import PREFIX_BYTES


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config(connection.engine.url.render_as_string(hide_password=False))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def test_existing_rows_keep_a_prefix_their_size_and_hash(db_url: str) -> None:
    big, small = bytes(range(256)) * 400, b'{"v":1}'  # 100 KiB (binary) and a few bytes
    engine = create_engine(db_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade, "0005")
            for payload in (big, small):
                await connection.execute(
                    text(
                        "INSERT INTO quarantine (topic, payload, payload_text, error, received_at)"
                        " VALUES ('t', :payload, NULL, 'e', CURRENT_TIMESTAMP)"
                    ),
                    {"payload": payload},
                )
            await connection.run_sync(_upgrade, "head")
            query = "SELECT payload_prefix, payload_size, payload_sha256 FROM quarantine ORDER BY id"
            rows = (await connection.execute(text(query))).all()
    finally:
        await engine.dispose()
    assert [(bytes(p), n, h) for p, n, h in rows] == [
        (big[:PREFIX_BYTES], len(big), hashlib.sha256(big).hexdigest()),
        (small, len(small), hashlib.sha256(small).hexdigest()),  # control: a short payload is kept whole
    ]

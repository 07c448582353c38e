"""MQTT ingest: idempotent batch insert, attendance scoring, ack after commit, quarantine of poison."""

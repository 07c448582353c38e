"""MPM Edge cloud: FastAPI admin API, MQTT ingest, ledger and rankings, live display publisher."""

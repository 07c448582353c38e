"""Deployment of the cloud's broker side: reference Mosquitto configuration, the cloud's MQTT identity,
and the refusal to ingest from a broker that admits anonymous clients."""

"""The MPM Edge site agent: device drivers, durable outbox, MQTT link to the cloud, sign renderer."""

__version__ = "0.1.0"
__all__ = ["__version__"]

"""Byte-stream transports: one four-method interface for serial, TCP, UDP and in-memory pairs."""

from edge_agent.transport.base import ByteStream, TransportError
from edge_agent.transport.memory import memory_pair

__all__ = ["ByteStream", "TransportError", "memory_pair"]

"""A small bounded asyncio HTTP/1.1 server (h11) for device push protocols (ADMS) and health endpoints."""

from edge_agent.http.admission import ByteBudget, ConnectionGate, HttpCounters
from edge_agent.http.limits import HttpLimits, connection_cap, descriptor_limit
from edge_agent.http.messages import Handler, Request, Response
from edge_agent.http.server import HttpServer

__all__ = [
    "ByteBudget",
    "ConnectionGate",
    "Handler",
    "HttpCounters",
    "HttpLimits",
    "HttpServer",
    "Request",
    "Response",
    "connection_cap",
    "descriptor_limit",
]

"""A small reusable asyncio HTTP/1.1 server (h11) for device push protocols (ADMS, ISAPI listening)."""

from edge_agent.http.server import Handler, HttpLimits, HttpServer, Request, Response

__all__ = ["Handler", "HttpLimits", "HttpServer", "Request", "Response"]

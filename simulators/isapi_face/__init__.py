"""A Hikvision ISAPI face terminal (``mpm-sim isapi-face``): the ISAPI codec in device role over HTTP."""

from simulators.isapi_face.server import IsapiFaceSimulator

__all__ = ["IsapiFaceSimulator"]

"""The HTTP servers of the ranking benchmark, each run in its own process under uvicorn.

``--mode app``: the real cloud app (``create_app``) on ``--db``, started as ``mpm-cloud serve``
starts it (access log off). ``--mode trivial``: a FastAPI app whose one route returns the
pre-serialised bytes of ``--body`` at the same path: the framework's limit for the same response.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Response

from cloud.app import create_app
from cloud.settings import CloudSettings


def trivial_app(body: bytes) -> FastAPI:
    """One route, same path as the real one, returning ``body`` as it is."""
    app = FastAPI()

    @app.get("/api/v1/rankings")
    async def rankings() -> Response:
        return Response(content=body, media_type="application/json")

    return app


def main() -> int:
    """Serve until terminated."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("app", "trivial"), required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", default="")
    parser.add_argument("--body", type=Path)
    args = parser.parse_args()
    if args.mode == "app":
        app = create_app(CloudSettings(database_url=args.db, mqtt_url=None))
    else:
        app = trivial_app(args.body.read_bytes())
    uvicorn.run(app, host="127.0.0.1", port=args.port, access_log=False, log_config=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
